/**
 * 2-D PCA projection of embeddings, computed on the host backend without extra dependencies:
 * the top two eigenvectors of the covariance C = Xc^T Xc / (N - 1) by power iteration with
 * deflation. Each component's sign is fixed (largest-magnitude loading positive) so that the
 * projection is deterministic.
 */
import * as tf from '@tensorflow/tfjs';

export interface Projection2D {
  /** [N][2] coordinates. */
  points: [number, number][];
  /** Share of the total variance carried by each of the two components. */
  explainedVariance: [number, number];
}

function topEigenvector(C: tf.Tensor2D, iterations: number, seed: number): { v: tf.Tensor2D; lambda: number } {
  return tf.tidy(() => {
    let v = tf.randomNormal([C.shape[0], 1], 0, 1, 'float32', seed) as tf.Tensor2D; // [D, 1]
    v = tf.div(v, tf.norm(v)) as tf.Tensor2D;
    for (let i = 0; i < iterations; i++) {
      const w = tf.matMul(C, v); // [D, 1]
      v = tf.div(w, tf.maximum(tf.norm(w), 1e-20)) as tf.Tensor2D;
    }
    const lambda = tf.sum(tf.mul(v, tf.matMul(C, v))).dataSync()[0];
    const vals = v.dataSync();
    let maxIdx = 0;
    for (let i = 1; i < vals.length; i++) if (Math.abs(vals[i]) > Math.abs(vals[maxIdx])) maxIdx = i;
    if (vals[maxIdx] < 0) v = tf.neg(v);
    return { v, lambda }; // returned from tidy: survives this scope only
  });
}

/** Project features x [N, D] onto their first two principal components. */
export function pca2d(x: tf.Tensor2D, opts: { iterations?: number; seed?: number } = {}): Projection2D {
  const n = x.shape[0];
  if (n < 2) throw new Error(`pca2d: needs at least 2 points, got ${n}`);
  const iterations = opts.iterations ?? 200;
  const seed = opts.seed ?? 0;
  return tf.tidy(() => {
    const xc = tf.sub(x, tf.mean(x, 0, true)) as tf.Tensor2D; // [N, D]
    const C = tf.div(tf.matMul(xc, xc, true, false), n - 1) as tf.Tensor2D; // [D, D]
    const totalVar = tf.sum(tf.mul(xc, xc)).dataSync()[0] / (n - 1);
    const e1 = topEigenvector(C, iterations, seed);
    // Deflate: C2 = C - lambda1 v1 v1^T.
    const C2 = tf.sub(C, tf.mul(tf.matMul(e1.v, e1.v, false, true), e1.lambda)) as tf.Tensor2D;
    const e2 = topEigenvector(C2, iterations, seed + 1);
    const coords = tf.matMul(xc, tf.concat([e1.v, e2.v], 1)).arraySync() as number[][]; // [N, 2]
    return {
      points: coords.map((r) => [r[0], r[1]] as [number, number]),
      explainedVariance: [totalVar > 0 ? e1.lambda / totalVar : 0, totalVar > 0 ? e2.lambda / totalVar : 0] as [number, number],
    };
  });
}
