/**
 * Feature extraction through a feature function (x [B, H, W, C] -> f [B, D]), so evaluation never
 * touches model internals: pass `(x) => method.features(x, 'backbone' | 'projection')`.
 */
import * as tf from '@tensorflow/tfjs';
import { Loader, disposeBatch } from '../data';
import type { AugmentPresetName, ImageSet } from '../types';

/** Maps a normalised image batch [B, H, W, C] to features [B, D]; the caller owns the result. */
export type FeatureFn = (x: tf.Tensor4D) => tf.Tensor2D;

export interface ExtractOptions {
  batchSize?: number;
  /** Augmentation preset; 'test' (normalise only) by default, as the kNN bank uses. */
  preset?: AugmentPresetName;
  /** Seed and epoch of the loader (matter only for random presets). */
  seed?: number;
  epoch?: number;
  /** Use only the first n images of the set. */
  limit?: number;
}

export interface FeatureSet {
  /** [N, D], owned by the caller. */
  features: tf.Tensor2D;
  labels: Int32Array;
}

/** Restrict an image set to its first n images (no copy). */
export function headOf(set: ImageSet, n: number): ImageSet {
  if (n >= set.n) return set;
  const [h, w] = set.info.imageSize;
  const per = h * w * set.info.channels;
  return { ...set, n, images: set.images.subarray(0, n * per), labels: set.labels.subarray(0, n) };
}

/** Features of every image of `set` in order (no shuffle, no dropped batch). */
export async function extractFeatures(fn: FeatureFn, set: ImageSet, opts: ExtractOptions = {}): Promise<FeatureSet> {
  const src = opts.limit !== undefined ? headOf(set, opts.limit) : set;
  const loader = new Loader(src, {
    batchSize: opts.batchSize ?? 256,
    views: 1,
    preset: opts.preset ?? 'test',
    shuffle: false,
    dropLast: false,
    seed: opts.seed ?? 0,
  });
  const parts: tf.Tensor2D[] = [];
  const labels = new Int32Array(src.n);
  let offset = 0;
  try {
    for await (const batch of loader.epoch(opts.epoch ?? 0)) {
      try {
        parts.push(tf.tidy(() => fn(batch.views[0])));
        labels.set((await batch.labels.data()) as Int32Array, offset);
        offset += batch.size;
      } finally {
        disposeBatch(batch);
      }
      await new Promise((r) => setImmediate(r));
    }
    if (offset !== src.n) throw new Error(`extractFeatures: loader yielded ${offset} images, expected ${src.n}`);
    const features = parts.length === 1 ? parts[0].clone() : (tf.concat(parts, 0) as tf.Tensor2D);
    return { features, labels };
  } finally {
    for (const p of parts) p.dispose();
  }
}

/**
 * Features of two augmented views of the first `limit` images (for alignment): returns
 * x, y [N, D] L2-normalised, owned by the caller.
 */
export async function extractViewPairs(
  fn: FeatureFn,
  set: ImageSet,
  opts: ExtractOptions & { preset: AugmentPresetName },
): Promise<{ x: tf.Tensor2D; y: tf.Tensor2D }> {
  const src = opts.limit !== undefined ? headOf(set, opts.limit) : set;
  const loader = new Loader(src, {
    batchSize: opts.batchSize ?? 256,
    views: 2,
    preset: opts.preset,
    shuffle: false,
    dropLast: false,
    seed: opts.seed ?? 0,
  });
  const xs: tf.Tensor2D[] = [];
  const ys: tf.Tensor2D[] = [];
  try {
    for await (const batch of loader.epoch(opts.epoch ?? 0)) {
      try {
        const norm = (t: tf.Tensor2D) => tf.div(t, tf.maximum(tf.norm(t, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D;
        xs.push(tf.tidy(() => norm(fn(batch.views[0]))));
        ys.push(tf.tidy(() => norm(fn(batch.views[1]))));
      } finally {
        disposeBatch(batch);
      }
      await new Promise((r) => setImmediate(r));
    }
    return { x: tf.concat(xs, 0) as tf.Tensor2D, y: tf.concat(ys, 0) as tf.Tensor2D };
  } finally {
    for (const t of [...xs, ...ys]) t.dispose();
  }
}
