/**
 * Cross-entropy against soft targets (MixCo's SoftCE, with logSoftmax instead of the reference's
 * log(softmax(x))):  L = mean_i sum_j -t_ij * log softmax(logits_i)_j.   logits, targets [M, C].
 */
import * as tf from '@tensorflow/tfjs';

export function softCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  if (!tf.util.arraysEqual(logits.shape, targets.shape)) {
    throw new Error(`softCrossEntropy: logits ${JSON.stringify(logits.shape)} and targets ${JSON.stringify(targets.shape)} differ`);
  }
  return tf.tidy(() => tf.logSoftmax(logits, 1).mul(targets).sum(1).mean().neg() as tf.Scalar);
}

/** Standard cross-entropy with integer labels [M] and optional label smoothing eps. logits [M, C]. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, labelSmoothing = 0): tf.Scalar {
  const C = logits.shape[1];
  return tf.tidy(() => {
    let t = tf.oneHot(labels.toInt(), C).toFloat();
    if (labelSmoothing > 0) t = t.mul(1 - labelSmoothing).add(labelSmoothing / C);
    return softCrossEntropy(logits, t as tf.Tensor2D);
  });
}
