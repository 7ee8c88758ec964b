/**
 * MixCo (Kim et al. 2020; reference Lee-Gihun/MixCo moco/models/encoder.py, utils/loss_fn.py).
 * Half-split mixing of the query images, lambda ~ U(0, 1) per pair (not Beta):
 *   x_mix_i = lambda_i x_i + (1 - lambda_i) x_{i+h},  h = B/2,  i < h          [h, H, W, C]
 * Mix logits against the B current keys (and, for MoCo, the K queue negatives):
 *   logits_mix = [q_mix . k^T (h x B), q_mix . queue^T (h x K)] / T_mix
 * Soft targets: lambda_i on key column i, 1 - lambda_i on key column i + h, 0 elsewhere:
 *   t = [diag(lambda), diag(1 - lambda), 0 (h x K)]
 *   L_mixco = SoftCE(logits_mix, t);   the method's loss is L_contrast + beta * L_mixco.
 */
import * as tf from '@tensorflow/tfjs';
import { softCrossEntropy } from './soft-ce';

/** x [B, ...] with B even, lambda [h] -> lambda x[:h] + (1 - lambda) x[h:]  [h, ...]. */
export function mixHalves<T extends tf.Tensor>(x: T, lambda: tf.Tensor1D): T {
  const B = x.shape[0];
  if (B % 2 !== 0) throw new Error(`MixCo: the batch size must be even to mix halves, got ${B}`);
  const h = B / 2;
  if (lambda.rank !== 1 || lambda.shape[0] !== h) throw new Error(`MixCo: lambda must be [${h}], got ${JSON.stringify(lambda.shape)}`);
  return tf.tidy(() => {
    const l = lambda.reshape([h, ...x.shape.slice(1).map(() => 1)]);
    const [a, b] = tf.split(x, 2, 0);
    return a.mul(l).add(b.mul(tf.scalar(1).sub(l))) as T;
  });
}

/** Soft targets [h, B + K]: [diag(lambda), diag(1 - lambda), zeros(h, K)]. */
export function mixcoTargets(lambda: tf.Tensor1D, K = 0): tf.Tensor2D {
  const h = lambda.shape[0];
  return tf.tidy(() => {
    const eye = tf.eye(h);
    const parts = [eye.mul(lambda.reshape([h, 1])), eye.mul(tf.scalar(1).sub(lambda).reshape([h, 1]))];
    if (K > 0) parts.push(tf.zeros([h, K]));
    return tf.concat(parts, 1) as tf.Tensor2D;
  });
}

/** logits [h, B (+K)] = [qMix . keys^T, qMix . negatives^T] / mixT. */
export function mixcoLogits(qMix: tf.Tensor2D, keys: tf.Tensor2D, negatives: tf.Tensor2D | null, mixT: number): tf.Tensor2D {
  if (keys.shape[0] !== 2 * qMix.shape[0] || keys.shape[1] !== qMix.shape[1]) {
    throw new Error(`MixCo: keys must be [2h, D] for qMix [h, D], got ${JSON.stringify(keys.shape)} and ${JSON.stringify(qMix.shape)}`);
  }
  return tf.tidy(() => {
    const parts = [tf.matMul(qMix, keys, false, true)];
    if (negatives) parts.push(tf.matMul(qMix, negatives, false, true));
    return tf.concat(parts, 1).div(mixT) as tf.Tensor2D;
  });
}

/** L_mixco = SoftCE(mixcoLogits(...), mixcoTargets(lambda, K)). */
export function mixcoLoss(qMix: tf.Tensor2D, keys: tf.Tensor2D, negatives: tf.Tensor2D | null, lambda: tf.Tensor1D, mixT: number): tf.Scalar {
  return tf.tidy(() => softCrossEntropy(mixcoLogits(qMix, keys, negatives, mixT), mixcoTargets(lambda, negatives ? negatives.shape[0] : 0)));
}
