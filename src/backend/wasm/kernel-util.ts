/**
 * Helpers for kernels written on top of the wasm backend's own kernels: run a registered wasm
 * kernel by name, free intermediates, and run a forward Conv2D whose padding may be negative
 * (a negative pad crops the input instead).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type Info = tf.TensorInfo;

/** Runs the wasm backend's kernel `name` (never one of ours, so there is no recursion). */
export function runWasm(name: string, backend: BackendWasm, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): Info {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm-kernels: the wasm backend has no '${name}' kernel to build on`);
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`wasm-kernels: '${name}' returned several outputs, expected one`);
  return out;
}

/** Frees intermediates made inside a kernel (reshaped views share a dataId and are not passed here). */
export function free(backend: BackendWasm, ...infos: (Info | undefined)[]): void {
  for (const t of infos) if (t) backend.disposeData(t.dataId);
}

/** The same data seen with another shape (no copy, no new reference: never free it separately). */
export function view(t: Info, shape: number[]): Info {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/**
 * Transpose. The wasm backend's kernel is a generic n-d loop (about 16 ns per float32 for
 * [128, 32, 32, 64] with perm [3, 1, 2, 0]); that permutation, which the filter gradient applies
 * to whole activations, has a tiled JS loop on the heap instead (2-3x faster). Others use the kernel.
 */
export function transpose(backend: BackendWasm, x: Info, perm: number[]): Info {
  const key = perm.join(',');
  if (x.shape.length !== 4 || x.dtype !== 'float32' || key !== '3,1,2,0') {
    return runWasm('Transpose', backend, { x }, { perm });
  }
  const [a, b, c, d] = x.shape;
  const out = backend.makeOutput(
    perm.map((p) => x.shape[p]),
    'float32',
  );
  // Views after the allocation (a heap growth detaches older ones).
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const bc = b * c;
  // [A, B, C, D] -> [D, B, C, A]: out[l, j, i] = in[i, j, l] for j over B*C; tiles of 16 channels
  // so each input row segment is read once and 16 output streams advance together.
  const T = 16;
  for (let j = 0; j < bc; j++) {
    for (let l0 = 0; l0 < d; l0 += T) {
      const l1 = Math.min(d, l0 + T);
      for (let i = 0; i < a; i++) {
        const from = (i * bc + j) * d;
        for (let l = l0; l < l1; l++) dst[(l * bc + j) * a + i] = src[from + l];
      }
    }
  }
  return out;
}

export interface Pads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * Forward NHWC conv2d, stride 1, with the given dilation and explicit padding, where a negative
 * pad means "crop that many rows/columns of x" (XNNPACK accepts only pads >= 0).
 * x: [N, H, W, Cin], w: [fh, fw, Cin, Cout] -> [N, H', W', Cout].
 * Returns null when the cropped input is empty (the caller treats the result as zeros).
 */
export function conv2dAnyPad(backend: BackendWasm, x: Info, w: Info, pads: Pads, dilation: [number, number] = [1, 1]): Info | null {
  const [n, h, wd, c] = x.shape;
  const cropTop = Math.max(0, -pads.top);
  const cropBottom = Math.max(0, -pads.bottom);
  const cropLeft = Math.max(0, -pads.left);
  const cropRight = Math.max(0, -pads.right);
  const hIn = h - cropTop - cropBottom;
  const wIn = wd - cropLeft - cropRight;
  if (hIn <= 0 || wIn <= 0) return null;
  let input = x;
  let cropped: Info | undefined;
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    cropped = runWasm('Slice', backend, { x }, { begin: [0, cropTop, cropLeft, 0], size: [n, hIn, wIn, c] });
    input = cropped;
  }
  const pad = [
    [0, 0],
    [Math.max(0, pads.top), Math.max(0, pads.bottom)],
    [Math.max(0, pads.left), Math.max(0, pads.right)],
    [0, 0],
  ];
  const out = runWasm('Conv2D', backend, { x: input, filter: w }, {
    strides: [1, 1],
    pad,
    dataFormat: 'NHWC',
    dilations: dilation,
    dimRoundingMode: undefined,
  } as unknown as tf.NamedAttrMap);
  free(backend, cropped);
  return out;
}

/** Checks shared by both conv backprop kernels; returns the conv geometry. */
export function convGeometry(kernel: string, xShape: number[], filterShape: number[], attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo {
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`wasm-kernels ${kernel}: dataFormat '${dataFormat}' is not supported, only NHWC`);
  }
  const dil = attrs.dilations as number | number[] | undefined;
  const dils = dil === undefined ? [1, 1] : typeof dil === 'number' ? [dil, dil] : dil;
  if (dils.some((d) => d !== 1)) {
    throw new Error(`wasm-kernels ${kernel}: dilations [${dils}] are not supported, only 1`);
  }
  if (xShape.length !== 4 || filterShape.length !== 4) {
    throw new Error(`wasm-kernels ${kernel}: expected 4-D input [${xShape}] and filter [${filterShape}]`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
}
