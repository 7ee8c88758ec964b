/**
 * Training kernels the wasm backend (tfjs-backend-wasm 4.22) lacks or runs slowly, built on its
 * fast forward kernels (XNNPACK Conv2D, Transpose, Slice, ...):
 * - Conv2DBackpropFilter (missing): one forward conv of the transposed input with dy as filter.
 * - Conv2DBackpropInput (shipped as a naive loop): forward convs of dy with the flipped filter,
 *   one per stride phase.
 * - UnsortedSegmentSum (missing; the gradient of gather): one pass on the heap.
 * NHWC, strides >= 1, 'same'/'valid'/explicit padding, dilation 1 (others throw).
 * Call before `tf.setBackend('wasm')` (initBackend does).
 */
import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterWasm } from './wasm/conv-backprop-filter';
import { conv2DBackpropInputWasm } from './wasm/conv-backprop-input';
import { unsortedSegmentSumWasm } from './wasm/unsorted-segment-sum';

export { conv2DBackpropFilterWasm, conv2DBackpropInputWasm, unsortedSegmentSumWasm };

let registered = false;

/** The kernels this module registers (kernel name -> implementation). */
export const WASM_TRAINING_KERNELS: Record<string, tf.KernelFunc> = {
  Conv2DBackpropFilter: conv2DBackpropFilterWasm as unknown as tf.KernelFunc,
  Conv2DBackpropInput: conv2DBackpropInputWasm as unknown as tf.KernelFunc,
  UnsortedSegmentSum: unsortedSegmentSumWasm as unknown as tf.KernelFunc,
};

/**
 * Registers the kernels above for the 'wasm' backend, replacing the shipped ones of the same name.
 * Idempotent. Loads @tensorflow/tfjs-backend-wasm first so that its own registrations (which
 * would otherwise come later and fail on ours) are in place.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  require('@tensorflow/tfjs-backend-wasm');
  for (const [kernelName, kernelFunc] of Object.entries(WASM_TRAINING_KERNELS)) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
  registered = true;
}
