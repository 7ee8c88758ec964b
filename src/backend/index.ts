/** TF.js backends: choosing and starting one (CUDA, WebGPU, tensorflow CPU, wasm, cpu) and what was chosen. */
export * from './init';
export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './wasm-kernels';
export { useThreadedWasm, threadedWasmRequested } from './wasm-threads';
