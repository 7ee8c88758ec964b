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

/** The MoCo logits and the similarities they are made of. */
export interface MocoLogits {
  /** [B, 1 + K] = [q.k, mask(q.queue^T)] / T */
  logits: tf.Tensor2D;
  /** [B, 1] positive similarities q.k */
  lPos: tf.Tensor2D;
  /** [B, K] similarities to every queue entry, unmasked (for the statistics) */
  lNeg: tf.Tensor2D;
  /** [B, K] the similarities the logits use: `mask(lNeg)`, or lNeg itself without a mask */
  lNegUsed: tf.Tensor2D;
}

/**
 * The MoCo logits of moco/builder.py: logits = [q.k, q.queue^T] / T. q, k [B, D]; queue [K, D].
 * `mask` may replace queue similarities before the division (MoCHi's class oracle). Every
 * MoCo-style method (MoCo, MoCHi, MixCo on MoCo) computes its logits here.
 */
export function mocoLogits(q: tf.Tensor2D, k: tf.Tensor2D, queue: tf.Tensor2D, T: number, mask?: (lNeg: tf.Tensor2D) => tf.Tensor2D): MocoLogits {
  checkPair(q, k, 'mocoLogits');
  if (queue.rank !== 2 || queue.shape[1] !== q.shape[1]) {
    throw new Error(`mocoLogits: queue negatives must be [K, ${q.shape[1]}], got ${JSON.stringify(queue.shape)}`);
  }
  return tf.tidy(() => {
    const lPos = q.mul(k).sum(1, true) as tf.Tensor2D; // [B, 1]
    const lNeg = tf.matMul(q, queue, false, true) as tf.Tensor2D; // [B, K]
    const lNegUsed = mask ? mask(lNeg) : lNeg;
    const logits = tf.concat([lPos, lNegUsed], 1).div(T) as tf.Tensor2D; // [B, 1 + K]
    return { logits, lPos, lNeg, lNegUsed };
  });
}

/** Cross-entropy with target class 0 for every row, mean over rows. logits [B, C] -> scalar. */
export function infoNCEFromLogits(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.logSoftmax(logits, 1).slice([0, 0], [-1, 1]).mean().neg() as tf.Scalar);
}

/** L = CE([q.k, q.negatives^T] / T, 0). q, k [B, D]; negatives [K, D] -> scalar. */
export function infoNCE(q: tf.Tensor2D, k: tf.Tensor2D, negatives: tf.Tensor2D, T: number): tf.Scalar {
  return tf.tidy(() => infoNCEFromLogits(mocoLogits(q, k, negatives, T).logits));
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
