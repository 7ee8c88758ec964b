/**
 * Nearest-neighbour retrieval and 2-D maps of embeddings for exploratory analyses: cosine
 * neighbours of query features in a bank, per-class kNN accuracy with its confusion matrix, UMAP
 * (umap-js) beside the package's PCA, and the similarity distributions of positives, queue
 * negatives and the hardest negatives that MoCHi's analysis plots.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng';
import { confusionMatrix, perClassAccuracy } from './confusion';
import { l2Normalize } from '../ops/normalize';
import { knnEvaluate, type KnnOptions } from './knn';

export interface Neighbours {
  /** indices[q][j]: bank index of the j-th nearest neighbour of query q (most similar first). */
  indices: number[][];
  /** similarities[q][j]: its cosine similarity. */
  similarities: number[][];
}

/**
 * The k nearest bank rows of each query by cosine similarity. `exclude[q]` drops one bank index
 * from query q's list (the query itself, when the queries are bank rows).
 */
export async function nearestNeighbours(
  queries: tf.Tensor2D,
  bank: tf.Tensor2D,
  k: number,
  opts: { exclude?: (number | undefined)[] } = {},
): Promise<Neighbours> {
  if (queries.shape[1] !== bank.shape[1])
    throw new Error(`nearestNeighbours: queries have dimension ${queries.shape[1]} but the bank has ${bank.shape[1]}`);
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`nearestNeighbours: k must be a positive integer, got ${k}`);
  if (opts.exclude && opts.exclude.length !== queries.shape[0])
    throw new Error(`nearestNeighbours: exclude has ${opts.exclude.length} entries for ${queries.shape[0]} queries`);
  const extra = opts.exclude ? 1 : 0;
  const kk = Math.min(k + extra, bank.shape[0]);
  const { values, indices } = tf.tidy(() => tf.topk(tf.matMul(l2Normalize(queries), l2Normalize(bank), false, true), kk, true));
  try {
    const [v, ix] = await Promise.all([values.array() as Promise<number[][]>, indices.array() as Promise<number[][]>]);
    const out: Neighbours = { indices: [], similarities: [] };
    ix.forEach((row, q) => {
      const keep = row
        .map((b, j) => ({ b, s: v[q][j] }))
        .filter((e) => e.b !== opts.exclude?.[q])
        .slice(0, k);
      out.indices.push(keep.map((e) => e.b));
      out.similarities.push(keep.map((e) => e.s));
    });
    return out;
  } finally {
    values.dispose();
    indices.dispose();
  }
}

export interface PerClassKnn {
  accuracy: number;
  /** Accuracy per true class (NaN for a class with no test image). */
  perClass: number[];
  /** confusion[i][j]: test images of class i predicted as class j. */
  confusion: number[][];
  predictions: Int32Array;
}

/** Weighted kNN (the monitor's k and T) with its per-class accuracy and confusion matrix. */
export async function perClassKnn(
  bank: tf.Tensor2D,
  bankLabels: Int32Array,
  queries: tf.Tensor2D,
  queryLabels: Int32Array,
  numClasses: number,
  opts: KnnOptions = {},
): Promise<PerClassKnn> {
  const r = await knnEvaluate(bank, bankLabels, queries, queryLabels, numClasses, opts);
  const confusion = await confusionMatrix(queryLabels, r.predictions, numClasses);
  return { accuracy: r.accuracy, perClass: perClassAccuracy(confusion), confusion, predictions: r.predictions };
}

interface UmapLike {
  fit(x: number[][]): number[][];
}

/**
 * A 2-D UMAP of features x [N, D] (umap-js, seeded, cosine distance on the L2-normalised rows).
 * Defaults: 15 neighbours (fewer for small N), min_dist 0.1, umap-js's epoch count.
 */
export async function umap2d(
  x: tf.Tensor2D,
  opts: { nNeighbors?: number; minDist?: number; nEpochs?: number; seed?: number } = {},
): Promise<[number, number][]> {
  const n = x.shape[0];
  if (n < 4) throw new Error(`umap2d: needs at least 4 points, got ${n}`);
  let mod: { UMAP: new (o: Record<string, unknown>) => UmapLike };
  try {
    mod = require('umap-js');
  } catch (e) {
    throw new Error(`umap2d needs the npm package umap-js (npm install): ${(e as Error).message}`);
  }
  const normed = l2Normalize(x);
  const rows = (await normed.array()) as number[][];
  normed.dispose();
  const rng = new Rng((opts.seed ?? 0) >>> 0);
  const umap = new mod.UMAP({
    nComponents: 2,
    nNeighbors: Math.max(2, Math.min(opts.nNeighbors ?? 15, n - 1)),
    minDist: opts.minDist ?? 0.1,
    ...(opts.nEpochs !== undefined ? { nEpochs: opts.nEpochs } : {}),
    random: () => rng.next(),
    distanceFn: (a: number[], b: number[]) => {
      let dot = 0;
      for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
      return 1 - dot;
    },
  });
  return umap.fit(rows).map((p) => [p[0], p[1]] as [number, number]);
}

export interface SimilarityDistributions {
  /** Cosine similarity of each query with its positive key (two views of one image). */
  positives: number[];
  /** Similarities of the queries with every queue entry (a seeded sample of at most `sample`). */
  queueNegatives: number[];
  /** Mean similarity of each query with its `hardest` most similar queue entries. */
  hardestNegatives: number[];
  hardest: number;
}

/**
 * The similarity distributions of MoCHi's analysis: positives q.k+, all queue negatives q.n, and
 * the hardest ones (top-`hardest` per query, the ones MoCHi mixes). q, k [B, D] and queue [K, D]
 * are L2-normalised here.
 */
export async function similarityDistributions(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  queue: tf.Tensor2D,
  opts: { hardest?: number; sample?: number; seed?: number } = {},
): Promise<SimilarityDistributions> {
  if (q.shape[0] !== k.shape[0] || q.shape[1] !== k.shape[1]) throw new Error(`similarityDistributions: q ${q.shape} and k ${k.shape} must match`);
  if (queue.shape[1] !== q.shape[1]) throw new Error(`similarityDistributions: queue has dimension ${queue.shape[1]}, queries ${q.shape[1]}`);
  const hardest = Math.min(opts.hardest ?? 16, queue.shape[0]);
  const sample = opts.sample ?? 20000;
  const [pos, neg, hard] = tf.tidy(() => {
    const qn = l2Normalize(q);
    const kn = l2Normalize(k);
    const sims = tf.matMul(qn, l2Normalize(queue), false, true); // [B, K]
    return [tf.sum(tf.mul(qn, kn), 1), sims.reshape([-1]), tf.mean(tf.topk(sims, hardest, true).values, 1)];
  });
  try {
    const [p, allNeg, h] = await Promise.all([pos.data(), neg.data(), hard.data()]);
    let negs = Array.from(allNeg as Float32Array);
    if (negs.length > sample) {
      const perm = new Rng((opts.seed ?? 0) >>> 0).permutation(negs.length);
      negs = Array.from(perm.subarray(0, sample), (i) => Number(allNeg[i]));
    }
    return { positives: Array.from(p), queueNegatives: negs, hardestNegatives: Array.from(h), hardest };
  } finally {
    pos.dispose();
    neg.dispose();
    hard.dispose();
  }
}
