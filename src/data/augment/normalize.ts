/** Per-channel normalisation (x - mean) / std and its inverse, for x [B, H, W, C] in 0..1. */
import * as tf from '@tensorflow/tfjs';

function check(x: tf.Tensor4D, mean: number[], std: number[], fn: string): void {
  const C = x.shape[3];
  if (mean.length !== C || std.length !== C) throw new Error(`${fn}: mean/std have ${mean.length}/${std.length} values for ${C} channels`);
}

export function normalize(x: tf.Tensor4D, mean: number[], std: number[]): tf.Tensor4D {
  check(x, mean, std, 'normalize');
  return tf.tidy(() => x.sub(tf.tensor1d(mean)).div(tf.tensor1d(std)) as tf.Tensor4D);
}

export function denormalize(x: tf.Tensor4D, mean: number[], std: number[]): tf.Tensor4D {
  check(x, mean, std, 'denormalize');
  return tf.tidy(() => x.mul(tf.tensor1d(std)).add(tf.tensor1d(mean)) as tf.Tensor4D);
}

/** uint8-valued (int32) images become float32 in 0..1; float32 images are taken as 0..1 already. */
export function toFloat01(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => (x.dtype === 'float32' ? x.clone() : x.toFloat().div(255)) as tf.Tensor4D);
}
