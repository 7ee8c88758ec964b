/**
 * SimCLR's NT-Xent over 2N views (Chen et al. 2020, Eq. 1):
 *   z = [z1; z2]  [2N, D], L2-normalised;   s_ij = z_i . z_j / T
 *   l_i = -log( exp(s_{i,p(i)}) / sum_{a != i} exp(s_ia) ),  p(i) = i + N mod 2N
 *   L = mean over the 2N anchors
 * Equals supConLoss(stack([z1, z2], 1), undefined, {temperature: T, baseTemperature: T}).
 */
import * as tf from '@tensorflow/tfjs';
import { checkPair } from './info-nce';

/** Logits [2N, 2N] = z z^T / T with the self-similarities pushed to -1e9. */
export function ntXentLogits(z1: tf.Tensor2D, z2: tf.Tensor2D, T: number): tf.Tensor2D {
  checkPair(z1, z2, 'ntXent');
  return tf.tidy(() => {
    const z = tf.concat([z1, z2], 0);
    const n2 = z.shape[0];
    return tf.matMul(z, z, false, true).div(T).sub(tf.eye(n2).mul(1e9)) as tf.Tensor2D;
  });
}

/** Column of each anchor's positive: [N..2N-1, 0..N-1]. */
export function ntXentPositives(n: number): tf.Tensor1D {
  return tf.tidy(
    () =>
      tf
        .range(0, 2 * n, 1, 'int32')
        .add(tf.scalar(n, 'int32'))
        .mod(tf.scalar(2 * n, 'int32')) as tf.Tensor1D,
  );
}

export function ntXent(z1: tf.Tensor2D, z2: tf.Tensor2D, T: number): tf.Scalar {
  return tf.tidy(() => {
    const logits = ntXentLogits(z1, z2, T);
    const n = z1.shape[0];
    const pos = tf.oneHot(ntXentPositives(n), 2 * n);
    return tf.logSoftmax(logits, 1).mul(pos).sum(1).mean().neg() as tf.Scalar;
  });
}

/** Share of anchors whose positive holds the largest logit among the other 2N-1. */
export function ntXentAccuracy(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(
    () =>
      logits
        .argMax(1)
        .toInt()
        .equal(ntXentPositives(logits.shape[0] / 2))
        .toFloat()
        .mean() as tf.Scalar,
  );
}
