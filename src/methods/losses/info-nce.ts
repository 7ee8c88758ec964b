/**
 * InfoNCE as in MoCo (moco/builder.py forward + nn.CrossEntropyLoss):
 *   l_pos = q . k+            [B, 1]
 *   l_neg = q . n_j           [B, K]    (n = the queue, detached)
 *   logits = [l_pos, l_neg] / T          [B, 1+K]
 *   L = mean_b -log softmax(logits_b)[0]
 * q, k+ and the negatives are L2-normalised. Only q carries gradient in MoCo (k and the queue are
 * constants); this function differentiates through whatever inputs it is given.
 */
import * as tf from '@tensorflow/tfjs';

/** logits [B, 1+K] = [q.k, q.negatives^T] / T; q, k [B, D]; negatives [K, D]. */
export function contrastLogits(q: tf.Tensor2D, k: tf.Tensor2D, negatives: tf.Tensor2D, T: number): tf.Tensor2D {
  checkPair(q, k, 'contrastLogits');
  if (negatives.rank !== 2 || negatives.shape[1] !== q.shape[1]) {
    throw new Error(`contrastLogits: negatives must be [K, ${q.shape[1]}], got ${JSON.stringify(negatives.shape)}`);
  }
  return tf.tidy(() => {
    const lPos = q.mul(k).sum(1, true); // [B, 1]
    const lNeg = tf.matMul(q, negatives, false, true); // [B, K]
    return tf.concat([lPos, lNeg], 1).div(T) as tf.Tensor2D;
  });
}

/** Cross-entropy with target class 0 for every row, mean over rows. logits [B, C] -> scalar. */
export function infoNCEFromLogits(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.logSoftmax(logits, 1).slice([0, 0], [-1, 1]).mean().neg() as tf.Scalar);
}

/** L = CE([q.k, q.negatives^T] / T, 0). q, k [B, D]; negatives [K, D] -> scalar. */
export function infoNCE(q: tf.Tensor2D, k: tf.Tensor2D, negatives: tf.Tensor2D, T: number): tf.Scalar {
  return tf.tidy(() => infoNCEFromLogits(contrastLogits(q, k, negatives, T)));
}

/** Share of rows whose column 0 (the positive) holds the largest logit (MoCo's acc1). logits [B, C] -> scalar. */
export function proxyAccuracy(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => logits.argMax(1).equal(0).toFloat().mean() as tf.Scalar);
}

export function checkPair(q: tf.Tensor, k: tf.Tensor, where: string): void {
  if (q.rank !== 2 || k.rank !== 2 || q.shape[0] !== k.shape[0] || q.shape[1] !== k.shape[1]) {
    throw new Error(`${where}: q and k must both be [B, D], got ${JSON.stringify(q.shape)} and ${JSON.stringify(k.shape)}`);
  }
}
