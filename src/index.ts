/** contrastive-workbench: the public API. */
export * from './types';
export * from './backend/init';
export { registerWasmTrainingKernels } from './backend/wasm-kernels';
export { Rng } from './util/rng';
export type { RngState } from './util/rng';
export { writeFileAtomic, writeJsonAtomic, readJson } from './util/fsx';
export * from './plots';
