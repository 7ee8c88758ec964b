/**
 * SupCon L_out in the form of the reference code (SupContrast losses.py SupConLoss):
 *   features [bsz, V, D] (L2-normalised), labels [bsz] or none (then SimCLR: positives = other views).
 *   contrast = views stacked view-major [V*bsz, D]; anchors = contrast ('all') or view 0 ('one').
 *   s_ia = anchor_i . contrast_a / T;  A(i) = all a except i itself;  P(i) = {a in A(i): y_a = y_i}
 *   mean_log_prob_pos_i = 1/max(|P(i)|, 1) * sum_{p in P(i)} [ s_ip - log sum_{a in A(i)} exp(s_ia) ]
 *   L = -(T / baseT) * mean_i mean_log_prob_pos_i
 * Anchors without positives (one view and a singleton class) contribute 0 and still count in the
 * mean (the reference's fix of Dec 2023), so there is no NaN. No stop-gradient: every feature
 * receives gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from './stop-gradient';

export interface SupConOptions {
  /** T (reference default 0.07; the README recipe uses 0.1). */
  temperature?: number;
  /** Scales the loss by T / baseT (reference default 0.07). */
  baseTemperature?: number;
  contrastMode?: 'all' | 'one';
}

export function supConLoss(features: tf.Tensor3D, labels?: tf.Tensor1D, opts: SupConOptions = {}): tf.Scalar {
  const T = opts.temperature ?? 0.07;
  const baseT = opts.baseTemperature ?? 0.07;
  const mode = opts.contrastMode ?? 'all';
  if (features.rank !== 3) throw new Error(`supConLoss: features must be [bsz, n_views, dim], got ${JSON.stringify(features.shape)}`);
  const [bsz, V] = features.shape;
  if (labels && (labels.rank !== 1 || labels.shape[0] !== bsz)) {
    throw new Error(`supConLoss: labels must be [${bsz}] to match features, got ${JSON.stringify(labels.shape)}`);
  }
  if (!(T > 0 && baseT > 0)) throw new Error(`supConLoss: temperature and baseTemperature must be > 0, got ${T}, ${baseT}`);
  return tf.tidy(() => {
    const contrast = features.transpose([1, 0, 2]).reshape([V * bsz, -1]) as tf.Tensor2D; // [V*bsz, D], view-major
    const A = mode === 'all' ? V : 1;
    const anchor = mode === 'all' ? contrast : contrast.slice([0, 0], [bsz, -1]); // [A*bsz, D]
    let logits = tf.matMul(anchor, contrast, false, true).div(T); // [A*bsz, V*bsz]
    logits = logits.sub(stopGradient(logits.max(1, true))); // numerical stability (detached, as the reference)
    const same = labels
      ? labels
          .reshape([-1, 1])
          .equal(labels.reshape([1, -1]))
          .toFloat() // [bsz, bsz]
      : tf.eye(bsz);
    // Self-contrast mask: anchor i is contrast column i (true for both modes).
    const logitsMask = tf.ones([A * bsz, V * bsz]).sub(tf.eye(A * bsz, V * bsz)); // constant (off the tape)
    const mask = tf.tile(same, [A, V]).mul(logitsMask);
    const logDenom = logits.exp().mul(logitsMask).sum(1, true).log();
    const logProb = logits.sub(logDenom);
    const posCount = mask.sum(1);
    const safeCount = tf.where(posCount.less(1e-6), tf.onesLike(posCount), posCount);
    const meanLogProbPos = mask.mul(logProb).sum(1).div(safeCount); // [A*bsz]
    return meanLogProbPos.mean().mul(-(T / baseT)) as tf.Scalar;
  });
}
