/** Row-wise L2 normalisation as F.normalize(x, dim=axis) (eps 1e-12). x [..., D] -> [..., D]. */
import * as tf from '@tensorflow/tfjs';

export function l2Normalize<T extends tf.Tensor>(x: T, axis = -1): T {
  return tf.tidy(() => x.div(tf.maximum(x.norm('euclidean', axis, true), 1e-12)) as T);
}
