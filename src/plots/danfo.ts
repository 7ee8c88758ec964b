/** danfojs-node loading lives in src/util/danfo.ts (experiments use it too); re-exported here for the plots API. */
export { loadDanfo } from '../util/danfo';
