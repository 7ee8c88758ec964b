/**
 * UnsortedSegmentSum for the wasm backend (the gradient of gather):
 *   out[s, ...] = sum over i with segmentIds[i] = s of x[i, ...],  out: [numSegments, ...x.shape[ids.rank:]]
 * Ids outside [0, numSegments) are dropped, as in TensorFlow. One pass over x on the wasm heap,
 * O(size(x)), whatever numSegments is (a one-hot matmul would cost numSegments times more).
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Info } from './kernel-util';

export function unsortedSegmentSumWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const backend = args.backend as BackendWasm;
  const { x, segmentIds } = args.inputs as { x: Info; segmentIds: Info };
  const numSegments = args.attrs?.numSegments as number;
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`wasm-kernels UnsortedSegmentSum: numSegments must be an integer >= 0, got ${numSegments}`);
  }
  const idsRank = segmentIds.shape.length;
  if (idsRank > x.shape.length || segmentIds.shape.some((d, i) => d !== x.shape[i])) {
    throw new Error(`wasm-kernels UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`);
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`wasm-kernels UnsortedSegmentSum: x dtype ${x.dtype} is not supported (float32, int32)`);
  }
  const inner = x.shape.slice(idsRank);
  const d = inner.reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([numSegments, ...inner], x.dtype);
  const o = backend.typedArrayFromHeap(out);
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  o.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const seg = ids[i];
    if (seg < 0 || seg >= numSegments) continue;
    const src = i * d;
    const dst = seg * d;
    for (let j = 0; j < d; j++) o[dst + j] += xs[src + j];
  }
  return out;
}
