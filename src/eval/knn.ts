/**
 * Weighted kNN monitor of the MoCo CIFAR-10 demo (`knn_predict`, after InstDisc):
 *
 *   bank  = L2-normalised train features            [N, D]
 *   sim   = f @ bank^T                              [B, N]   (f: L2-normalised test features)
 *   (s, idx) = topk(sim, k)                         [B, k]
 *   w     = exp(s / T)
 *   score[c] = sum_{neighbours j} w_j * [label_j == c]   [B, C]
 *   pred  = argmax_c score[c]
 *
 * Defaults k = 200, T = 0.1 (the demo's --knn-k / --knn-t). Works on feature tensors only, so it
 * does not depend on any model internals; the test set is processed in batches so the [B, N]
 * similarity matrix stays small.
 */
import * as tf from '@tensorflow/tfjs';
import { l2Normalize } from '../ops/normalize';

export interface KnnOptions {
  /** Number of neighbours (200 in the MoCo demo); clipped to the bank size. */
  k?: number;
  /** Temperature of the exp weighting (0.1 in the MoCo demo). */
  T?: number;
  /** Test features per similarity batch. */
  batchSize?: number;
}

export interface KnnResult {
  /** Top-1 accuracy in [0, 1]. */
  accuracy: number;
  /** Predicted class per test feature. */
  predictions: Int32Array;
  k: number;
  T: number;
}

/**
 * Class scores of a batch of queries against a bank (both already L2-normalised).
 * query [B, D], bank [N, D], bankLabels [N] int32 -> scores [B, C]. The caller owns the result.
 */
export function knnScores(query: tf.Tensor2D, bank: tf.Tensor2D, bankLabels: tf.Tensor1D, numClasses: number, k = 200, T = 0.1): tf.Tensor2D {
  if (query.shape[1] !== bank.shape[1]) {
    throw new Error(`knnScores: query features have dimension ${query.shape[1]} but the bank has ${bank.shape[1]}`);
  }
  if (bankLabels.shape[0] !== bank.shape[0]) {
    throw new Error(`knnScores: bank has ${bank.shape[0]} features but ${bankLabels.shape[0]} labels`);
  }
  const kk = Math.min(k, bank.shape[0]);
  return tf.tidy(() => {
    const sim = tf.matMul(query, bank, false, true); // [B, N]
    const { values, indices } = tf.topk(sim, kk, true); // [B, k]
    const neighbourLabels = tf.gather(bankLabels.toInt(), indices); // [B, k]
    const w = tf.exp(tf.div(values, T)); // [B, k]
    const onehot = tf.oneHot(neighbourLabels, numClasses).toFloat(); // [B, k, C]
    return tf.sum(tf.mul(onehot, w.expandDims(2)), 1) as tf.Tensor2D; // [B, C]
  });
}

/**
 * kNN top-1 accuracy of test features against a bank of train features. Features are
 * L2-normalised here (idempotent when they already are). Labels are int32 class ids.
 */
export async function knnEvaluate(
  trainFeatures: tf.Tensor2D,
  trainLabels: tf.Tensor1D | Int32Array,
  testFeatures: tf.Tensor2D,
  testLabels: tf.Tensor1D | Int32Array,
  numClasses: number,
  opts: KnnOptions = {},
): Promise<KnnResult> {
  const k = opts.k ?? 200;
  const T = opts.T ?? 0.1;
  const batchSize = opts.batchSize ?? 256;
  if (!Number.isInteger(k) || k < 1) throw new Error(`knn: k must be a positive integer, got ${k}`);
  if (!(T > 0)) throw new Error(`knn: T must be positive, got ${T}`);
  const nTest = testFeatures.shape[0];
  const bank = l2Normalize(trainFeatures); // [N, D]
  const bankLabels = trainLabels instanceof Int32Array ? tf.tensor1d(trainLabels, 'int32') : trainLabels.toInt();
  const yTest = testLabels instanceof Int32Array ? testLabels : ((await testLabels.data()) as Int32Array);
  if (yTest.length !== nTest) throw new Error(`knn: ${nTest} test features but ${yTest.length} test labels`);
  const predictions = new Int32Array(nTest);
  try {
    for (let start = 0; start < nTest; start += batchSize) {
      const size = Math.min(batchSize, nTest - start);
      const pred = tf.tidy(() => {
        const q = l2Normalize(tf.slice(testFeatures, [start, 0], [size, -1]) as tf.Tensor2D); // [b, D]
        return tf.argMax(knnScores(q, bank, bankLabels, numClasses, k, T), 1); // [b]
      });
      predictions.set((await pred.data()) as Int32Array, start);
      pred.dispose();
      // Let progress output and notebook displays flush between batches.
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    bank.dispose();
    if (bankLabels !== trainLabels) bankLabels.dispose();
  }
  let correct = 0;
  for (let i = 0; i < nTest; i++) if (predictions[i] === yTest[i]) correct++;
  return { accuracy: nTest ? correct / nTest : 0, predictions, k: Math.min(k, trainFeatures.shape[0]), T };
}
