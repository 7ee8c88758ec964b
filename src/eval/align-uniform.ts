/**
 * Alignment and uniformity of Wang & Isola (2020), as in ssnl/align_uniform:
 *
 *   align(x, y; alpha = 2) = mean_i ||x_i - y_i||_2^alpha          (x, y: [B, D], two views, L2-normalised)
 *   uniform(x; t = 2)      = log mean_{i<j} exp(-t ||x_i - x_j||_2^2)
 *
 * Lower is better for both. Pairwise squared distances come from the Gram matrix,
 * ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b, and the mean over i<j uses the symmetry of the
 * distance matrix: sum_{i<j} = (sum_{all i,j} - sum_i exp(0)) / 2 (the diagonal distance is 0).
 */
import * as tf from '@tensorflow/tfjs';

/** mean_i ||x_i - y_i||^alpha (x, y: [B, D]). */
export async function alignment(x: tf.Tensor2D, y: tf.Tensor2D, alpha = 2): Promise<number> {
  if (x.shape[0] !== y.shape[0] || x.shape[1] !== y.shape[1]) {
    throw new Error(`alignment: x is [${x.shape}] but y is [${y.shape}]; they must be the same shape`);
  }
  const m = tf.tidy(() => {
    const d = tf.norm(tf.sub(x, y), 'euclidean', 1); // [B]
    return tf.mean(alpha === 1 ? d : tf.pow(d, alpha));
  });
  return readScalar(m);
}

/** log mean_{i<j} exp(-t ||x_i - x_j||^2) (x: [N, D], N >= 2). */
export async function uniformity(x: tf.Tensor2D, t = 2): Promise<number> {
  const n = x.shape[0];
  if (n < 2) throw new Error(`uniformity: needs at least 2 features, got ${n}`);
  const sum = tf.tidy(() => {
    const sq = tf.sum(tf.square(x), 1); // [N]
    const gram = tf.matMul(x, x, false, true); // [N, N]
    const d2 = tf.relu(tf.sub(tf.add(sq.expandDims(1), sq.expandDims(0)), tf.mul(gram, 2))); // [N, N]
    return tf.sum(tf.exp(tf.mul(d2, -t)));
  });
  const total = await readScalar(sum);
  const pairs = (n * (n - 1)) / 2;
  return Math.log((total - n) / 2 / pairs);
}

/** Reads a scalar with `await data()` (the only read that works on every backend) and disposes it. */
async function readScalar(t: tf.Tensor): Promise<number> {
  try {
    return (await t.data())[0];
  } finally {
    t.dispose();
  }
}
