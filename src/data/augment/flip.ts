/**
 * Per-sample horizontal flip. On the wasm backend `tf.reverse` and `tf.where` over a batch are
 * slow, so the flip is done as an identity crop whose box runs right-to-left for the flipped
 * samples (`tf.image.cropAndResize` samples x1 > x2 mirrored); at pixel centres the bilinear taps
 * fall on whole pixels, so it is a flip up to float rounding.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/rng';
import { cropResize } from './crop';

/** Flip the samples of x [B, H, W, C] whose `mask` entry is true. */
export function flipHorizontal(x: tf.Tensor4D, mask: boolean[]): tf.Tensor4D {
  const [B, H, W] = x.shape;
  if (mask.length !== B) throw new Error(`flipHorizontal: mask of ${mask.length} for a batch of ${B}`);
  if (!mask.some(Boolean)) return x.clone();
  const whole = Array.from({ length: B }, () => ({ top: 0, left: 0, height: H, width: W }));
  return cropResize(x, whole, H, W, mask);
}

/** Draw one flip decision per sample (probability p). */
export function sampleFlips(n: number, p: number, rng: Rng): boolean[] {
  return Array.from({ length: n }, () => rng.next() < p);
}

export function randomHorizontalFlip(x: tf.Tensor4D, p: number, rng: Rng): tf.Tensor4D {
  return flipHorizontal(x, sampleFlips(x.shape[0], p, rng));
}
