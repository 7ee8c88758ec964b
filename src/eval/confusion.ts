/**
 * Confusion matrix and per-class accuracy from predictions and labels.
 * cm[i][j] = number of images of true class i predicted as class j.
 */
import * as tf from '@tensorflow/tfjs';

export async function confusionMatrix(labels: Int32Array, predictions: Int32Array, numClasses: number): Promise<number[][]> {
  if (labels.length !== predictions.length) {
    throw new Error(`confusionMatrix: ${labels.length} labels but ${predictions.length} predictions`);
  }
  if (labels.length === 0) return Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  const cm = tf.tidy(() => {
    // cm = onehot(labels)^T @ onehot(predictions), in float32 (wasm has no int matMul).
    const a = tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses).toFloat(); // [N, C]
    const b = tf.oneHot(tf.tensor1d(predictions, 'int32'), numClasses).toFloat(); // [N, C]
    return tf.matMul(a, b, true, false); // [C, C]
  });
  try {
    return ((await cm.array()) as number[][]).map((row) => row.map((v) => Math.round(v)));
  } finally {
    cm.dispose();
  }
}

/** Share of correct predictions of each true class (NaN for a class with no images). */
export function perClassAccuracy(cm: number[][]): number[] {
  return cm.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total ? row[i] / total : NaN;
  });
}
