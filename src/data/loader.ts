/**
 * Mini-batches of augmented views. The order of an epoch and the augmentation of each step depend
 * only on (seed, epoch, step), so a run resumed at any step sees exactly the batches it would have
 * seen. While the caller works on batch i (and awaits between steps), batch i+1 is prepared in the
 * background (a setImmediate task). The caller owns each batch's tensors (`disposeBatch`); a batch
 * prepared ahead and never handed over is disposed when the iteration ends early.
 */
import * as tf from '@tensorflow/tfjs';
import type { AugmentPresetName, Batch, ImageSet } from '../types';
import { Rng } from '../util/rng';
import { augment } from './augment/augment';
import type { AugmentPipeline } from './augment/presets';

export interface LoaderOptions {
  batchSize: number;
  /** Augmented views per image (2 for contrastive methods, 1 for CE / evaluation). */
  views: number;
  preset: AugmentPresetName | AugmentPipeline;
  /** Reshuffle every epoch (default true). */
  shuffle?: boolean;
  /** Drop the last incomplete batch (default: same as shuffle, as the reference training loaders). */
  dropLast?: boolean;
  seed: number;
}

/** A 32-bit mix of integers (for per-epoch / per-step seeds). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return h >>> 0;
}

export function disposeBatch(b: Batch): void {
  for (const v of b.views) v.dispose();
  b.labels.dispose();
  b.indices.dispose();
}

export class Loader {
  readonly set: ImageSet;
  readonly opts: Required<Omit<LoaderOptions, 'preset'>> & { preset: LoaderOptions['preset'] };
  readonly stepsPerEpoch: number;

  constructor(set: ImageSet, opts: LoaderOptions) {
    const shuffle = opts.shuffle ?? true;
    this.opts = { ...opts, shuffle, dropLast: opts.dropLast ?? shuffle };
    this.set = set;
    const { batchSize, views } = this.opts;
    if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`Loader: batchSize must be a positive integer, got ${batchSize}`);
    if (!(Number.isInteger(views) && views > 0)) throw new Error(`Loader: views must be a positive integer, got ${views}`);
    const [h, w] = set.info.imageSize;
    if (set.images.length !== set.n * h * w * set.info.channels || set.labels.length !== set.n) {
      throw new Error(`Loader: image set holds ${set.images.length} pixels and ${set.labels.length} labels, expected n=${set.n} x ${h}x${w}x${set.info.channels}`);
    }
    this.stepsPerEpoch = this.opts.dropLast ? Math.floor(set.n / batchSize) : Math.ceil(set.n / batchSize);
    if (this.stepsPerEpoch === 0) throw new Error(`Loader: ${set.n} images give no full batch of ${batchSize} with dropLast`);
  }

  /** The order of the images in epoch `e`. */
  order(e: number): Int32Array {
    if (!this.opts.shuffle) return Int32Array.from({ length: this.set.n }, (_, i) => i);
    return new Rng(mixSeed(this.opts.seed, e, 0x5eed)).permutation(this.set.n);
  }

  /** Build batch `step` of epoch `e` now (synchronously). */
  batch(e: number, step: number, order: Int32Array = this.order(e)): Batch {
    const { batchSize, views, preset, seed } = this.opts;
    if (step < 0 || step >= this.stepsPerEpoch) throw new Error(`Loader.batch: step ${step} outside 0..${this.stepsPerEpoch - 1}`);
    const idx = order.subarray(step * batchSize, Math.min(this.set.n, (step + 1) * batchSize));
    const B = idx.length;
    const [h, w] = this.set.info.imageSize;
    const c = this.set.info.channels;
    const px = h * w * c;
    const pixels = new Float32Array(B * px);
    const labels = new Int32Array(B);
    const scale = 1 / 255;
    for (let k = 0; k < B; k++) {
      const src = this.set.images.subarray(idx[k] * px, (idx[k] + 1) * px);
      const off = k * px;
      for (let j = 0; j < px; j++) pixels[off + j] = src[j] * scale;
      labels[k] = this.set.labels[idx[k]];
    }
    const rng = new Rng(mixSeed(seed, e, step, 0xa09));
    const x = tf.tensor4d(pixels, [B, h, w, c]);
    try {
      const out: tf.Tensor4D[] = [];
      for (let v = 0; v < views; v++) out.push(augment(x, preset, rng, this.set.info));
      return { views: out, labels: tf.tensor1d(labels, 'int32'), indices: tf.tensor1d(Int32Array.from(idx), 'int32'), size: B };
    } finally {
      x.dispose();
    }
  }

  private prepareLater(e: number, step: number, order: Int32Array): Promise<Batch> {
    return new Promise((resolve, reject) =>
      setImmediate(() => {
        try {
          resolve(this.batch(e, step, order));
        } catch (err) {
          reject(err);
        }
      }),
    );
  }

  /** The batches of epoch `e`, from `fromStep` (to resume mid-epoch). */
  async *epoch(e: number, fromStep = 0): AsyncIterableIterator<Batch> {
    const order = this.order(e);
    let pending: Promise<Batch> | undefined = fromStep < this.stepsPerEpoch ? this.prepareLater(e, fromStep, order) : undefined;
    try {
      for (let step = fromStep; step < this.stepsPerEpoch; step++) {
        const batch: Batch = await pending!;
        pending = step + 1 < this.stepsPerEpoch ? this.prepareLater(e, step + 1, order) : undefined;
        yield batch;
      }
    } finally {
      if (pending) {
        const left = pending;
        pending = undefined;
        try {
          disposeBatch(await left);
        } catch {
          /* a failed prefetch holds no tensors */
        }
      }
    }
  }
}
