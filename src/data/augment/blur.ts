/**
 * Gaussian blur with a different sigma per sample in one pass: the batch is folded into the
 * channel axis ([B, H, W, C] -> [1, H, W, B*C]) so a separable pair of depthwise convolutions
 * (1 x k then k x 1) applies each sample's own kernel. Borders are reflected (torchvision pads
 * with 'reflect'). Samples not blurred get a delta kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/rng';

/** A normalised 1-D Gaussian of length 2r+1 (a delta when sigma <= 0). */
export function gaussianKernel1d(sigma: number, r: number): Float32Array {
  const k = new Float32Array(2 * r + 1);
  if (!(sigma > 0)) {
    k[r] = 1;
    return k;
  }
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    k[i + r] = Math.exp(-0.5 * (i / sigma) ** 2);
    sum += k[i + r];
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/**
 * Blur each sample of x [B, H, W, C] with its own sigma (0 = unchanged). The kernel radius is
 * `ceil(3 * max sigma)` (or (kernelSize - 1) / 2), capped at min(H, W) - 1 for the reflection.
 */
export function gaussianBlur(x: tf.Tensor4D, sigmas: number[], kernelSize?: number): tf.Tensor4D {
  const B = x.shape[0];
  if (sigmas.length !== B) throw new Error(`gaussianBlur: ${sigmas.length} sigmas for a batch of ${B}`);
  if (!sigmas.some((s) => s > 0)) return x.clone();
  // Every sample goes through the convolution (unblurred ones with a delta kernel): picking out
  // the blurred ones with tf.gather costs more than it saves on wasm.
  return blurAll(x, sigmas, kernelSize);
}

function blurAll(x: tf.Tensor4D, sigmas: number[], kernelSize?: number): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  const maxSigma = Math.max(...sigmas);
  const r = Math.max(1, Math.min(kernelSize ? (kernelSize - 1) >> 1 : Math.ceil(3 * maxSigma), H - 1, W - 1));
  const k = 2 * r + 1;
  const taps = new Float32Array(k * B * C); // filter [*, k, B*C, 1]: index tap * (B*C) + channel
  for (let b = 0; b < B; b++) {
    const g = gaussianKernel1d(sigmas[b], r);
    for (let c = 0; c < C; c++) for (let t = 0; t < k; t++) taps[t * B * C + b * C + c] = g[t];
  }
  return tf.tidy(() => {
    const folded = x.transpose([1, 2, 0, 3]).reshape([1, H, W, B * C]) as tf.Tensor4D;
    const padded = tf.mirrorPad(folded, [[0, 0], [r, r], [r, r], [0, 0]], 'reflect');
    const fx = tf.tensor4d(taps, [1, k, B * C, 1]);
    const fy = tf.tensor4d(taps, [k, 1, B * C, 1]);
    const blurred = tf.depthwiseConv2d(tf.depthwiseConv2d(padded, fx, 1, 'valid'), fy, 1, 'valid'); // [1, H, W, B*C]
    return blurred.reshape([H, W, B, C]).transpose([2, 0, 1, 3]) as tf.Tensor4D;
  });
}

export interface BlurSpec {
  /** sigma ~ U[sigma[0], sigma[1]] (MoCo v2: [0.1, 2]). */
  sigma: [number, number];
  p: number;
  kernelSize?: number;
}

export function sampleBlurSigmas(n: number, spec: BlurSpec, rng: Rng): number[] {
  return Array.from({ length: n }, () => {
    const on = rng.next() < spec.p;
    const s = rng.uniform(spec.sigma[0], spec.sigma[1]);
    return on ? s : 0;
  });
}

export function randomGaussianBlur(x: tf.Tensor4D, spec: BlurSpec, rng: Rng): tf.Tensor4D {
  // The kernel size follows the spec (not the batch's largest draw), so a sample's result does not
  // depend on the other samples of its batch.
  return gaussianBlur(x, sampleBlurSigmas(x.shape[0], spec, rng), spec.kernelSize ?? 2 * Math.ceil(3 * spec.sigma[1]) + 1);
}
