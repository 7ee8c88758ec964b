/** Per-channel normalisation (x - mean) / std and its inverse, for x [B, H, W, C] in 0..1. */
import * as tf from '@tensorflow/tfjs';

function check(x: tf.Tensor4D, mean: number[], std: number[], fn: string): void {
  const C = x.shape[3];
  if (mean.length !== C || std.length !== C) throw new Error(`${fn}: mean/std have ${mean.length}/${std.length} values for ${C} channels`);
}

/** Per-channel affine map x * scale + shift as one fused 1x1 convolution (channel broadcasting is slow on wasm). */
function channelAffine(x: tf.Tensor4D, scale: number[], shift: number[]): tf.Tensor4D {
  const C = scale.length;
  return tf.tidy(() => {
    const diag = new Float32Array(C * C);
    for (let c = 0; c < C; c++) diag[c * C + c] = scale[c];
    return tf.fused.conv2d({ x, filter: tf.tensor4d(diag, [1, 1, C, C]), strides: 1, pad: 'valid', bias: tf.tensor1d(shift) });
  });
}

export function normalize(x: tf.Tensor4D, mean: number[], std: number[]): tf.Tensor4D {
  check(x, mean, std, 'normalize');
  return channelAffine(x, std.map((s) => 1 / s), mean.map((m, c) => -m / std[c]));
}

export function denormalize(x: tf.Tensor4D, mean: number[], std: number[]): tf.Tensor4D {
  check(x, mean, std, 'denormalize');
  return channelAffine(x, std, mean);
}

/** uint8-valued (int32) images become float32 in 0..1; float32 images are taken as 0..1 already. */
export function toFloat01(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => (x.dtype === 'float32' ? x.clone() : x.toFloat().div(255)) as tf.Tensor4D);
}
