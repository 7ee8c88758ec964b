/** contrastive-workbench: the public API. */
export * from './types';
export * from './backend/init';
export { registerWasmTrainingKernels } from './backend/wasm-kernels';
export { Rng } from './util/rng';
export type { RngState } from './util/rng';
export { writeFileAtomic, writeJsonAtomic, readJson } from './util/fsx';
export * from './plots';
export * from './data';
export * from './models';
export * from './methods';
export * from './optim';
export * from './eval';
export * from './experiments';
export * from './results';
export * from './ops';
/**
 * The TF.js namespace this package computes with (the same module instance, so its tensors,
 * backends and memory counters are the package's): `import { tf } from 'contrastive-workbench'`.
 */
import * as tf from '@tensorflow/tfjs';
export { tf };
