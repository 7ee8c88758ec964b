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

/** Top eigenvector v [D, 1] (sign fixed) and eigenvalue of a symmetric C [D, D]; the caller owns v. */
async function topEigenvector(C: tf.Tensor2D, iterations: number, seed: number): Promise<{ v: tf.Tensor2D; lambda: number }> {
  const [u, lam] = tf.tidy(() => {
    let v = tf.randomNormal([C.shape[0], 1], 0, 1, 'float32', seed) as tf.Tensor2D; // [D, 1]
    v = tf.div(v, tf.norm(v)) as tf.Tensor2D;
    for (let i = 0; i < iterations; i++) {
      const w = tf.matMul(C, v); // [D, 1]
      v = tf.div(w, tf.maximum(tf.norm(w), 1e-20)) as tf.Tensor2D;
    }
    return [v, tf.sum(tf.mul(v, tf.matMul(C, v)))];
  });
  const [vals, lambda] = await Promise.all([u.data(), lam.data()]);
  lam.dispose();
  let maxIdx = 0;
  for (let i = 1; i < vals.length; i++) if (Math.abs(vals[i]) > Math.abs(vals[maxIdx])) maxIdx = i;
  if (vals[maxIdx] >= 0) return { v: u as tf.Tensor2D, lambda: lambda[0] };
  const neg = tf.neg(u) as tf.Tensor2D;
  u.dispose();
  return { v: neg, lambda: lambda[0] };
}

/** Project features x [N, D] onto their first two principal components. */
export async function pca2d(x: tf.Tensor2D, opts: { iterations?: number; seed?: number } = {}): Promise<Projection2D> {
  const n = x.shape[0];
  if (n < 2) throw new Error(`pca2d: needs at least 2 points, got ${n}`);
  const iterations = opts.iterations ?? 200;
  const seed = opts.seed ?? 0;
  const [xc, C, sumSq] = tf.tidy(() => {
    const centred = tf.sub(x, tf.mean(x, 0, true)) as tf.Tensor2D; // [N, D]
    return [centred, tf.div(tf.matMul(centred, centred, true, false), n - 1) as tf.Tensor2D, tf.sum(tf.mul(centred, centred))]; // C: [D, D]
  });
  const held: tf.Tensor[] = [xc, C, sumSq];
  try {
    const totalVar = (await sumSq.data())[0] / (n - 1);
    const e1 = await topEigenvector(C, iterations, seed);
    held.push(e1.v);
    // Deflate: C2 = C - lambda1 v1 v1^T.
    const C2 = tf.tidy(() => tf.sub(C, tf.mul(tf.matMul(e1.v, e1.v, false, true), e1.lambda)) as tf.Tensor2D);
    held.push(C2);
    const e2 = await topEigenvector(C2, iterations, seed + 1);
    held.push(e2.v);
    const proj = tf.tidy(() => tf.matMul(xc, tf.concat([e1.v, e2.v], 1))); // [N, 2]
    held.push(proj);
    const coords = (await proj.array()) as number[][];
    return {
      points: coords.map((r) => [r[0], r[1]] as [number, number]),
      explainedVariance: [totalVar > 0 ? e1.lambda / totalVar : 0, totalVar > 0 ? e2.lambda / totalVar : 0],
    };
  } finally {
    tf.dispose(held);
  }
}
