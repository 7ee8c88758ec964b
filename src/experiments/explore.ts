/**
 * A finished (or checkpointed) run back in memory for exploratory analyses: `loadRun(dir)` reads
 * its config, summary and metrics, rebuilds the method with the trained weights from the last
 * checkpoint, and gives `embed(images)` (features of any image set of the run's shape) and
 * `similarities(set)` (positives, queue negatives and the hardest negatives, for MoCo-family runs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { backendReport, initBackend } from '../backend/init';
import { extractFeatures, extractViewPairs } from '../eval/features';
import { similarityDistributions, type SimilarityDistributions } from '../eval/retrieval';
import type { ImageSet, Method, Split } from '../types';
import { readJson } from '../util/fsx';
import { disposeState, loadCheckpoint } from './checkpoint';
import { validateConfig, type RunConfig } from './config';
import { readMetrics, type MetricsRecord } from './metrics-log';
import { FILES } from './paths';
import { readSummary, type RunSummary } from './records';
import { methodForRun } from './evaluation';
import { loadDatasetCached } from './runner';

export interface EmbedOptions {
  /** 'projection' (the contrastive head's L2-normalised output, what the kNN monitor reads by default) or 'backbone'. */
  features?: 'projection' | 'backbone';
  /** Embed only the first n images. */
  limit?: number;
  batchSize?: number;
}

export interface LoadedRun {
  dir: string;
  runId: string;
  config: RunConfig;
  /** summary.json when the run finished. */
  summary?: RunSummary;
  /** Every metrics.jsonl record (per epoch and per evaluation). */
  metrics: MetricsRecord[];
  /** Completed epochs at the checkpoint. */
  epoch: number;
  /** The method with the trained weights (owned by the LoadedRun: `dispose()` frees it). */
  method: Method;
  classNames: string[];
  /** The run's dataset split (its subset, size and normalisation), loaded once. */
  dataset(split: Split): Promise<ImageSet>;
  /**
   * Features [N, D] of an image set (uint8 images, normalised as in evaluation) or of a batch
   * that is already normalised [B, H, W, C]. The caller owns the result.
   */
  embed(images: ImageSet | tf.Tensor4D, opts?: EmbedOptions): Promise<tf.Tensor2D>;
  /**
   * For MoCo-family runs (a key queue): similarities of the first `limit` images' query view with
   * the key view of the same image, with every queue entry, and with the `hardest` most similar ones.
   */
  similarities(set: ImageSet, opts?: { limit?: number; hardest?: number; seed?: number }): Promise<SimilarityDistributions>;
  dispose(): void;
}

/**
 * Loads a run folder (`results/<experiment>/<run-id>/`): config.json, summary.json, metrics.jsonl
 * and the last checkpoint. `dataDir` is the data root when the config does not pin one;
 * `backend` initialises that TF.js backend first (default: the active one, else auto).
 */
export async function loadRun(dir: string, opts: { dataDir?: string; backend?: string } = {}): Promise<LoadedRun> {
  const cfgFile = path.join(dir, FILES.config);
  if (!fs.existsSync(cfgFile)) throw new Error(`loadRun: ${cfgFile} does not exist (is ${dir} a run folder?)`);
  let config = validateConfig(readJson(cfgFile));
  if (!config.dataset.dataRoot && opts.dataDir) config = { ...config, dataset: { ...config.dataset, dataRoot: opts.dataDir } };
  if (opts.backend) await initBackend(opts.backend);
  else if (!backendReport()) await initBackend();
  const ck = loadCheckpoint(dir);
  if (!ck) throw new Error(`loadRun: ${dir} has no checkpoint (the run never finished an epoch)`);
  const summary = readSummary(dir);
  const train = await loadDatasetCached(config.dataset, 'train');
  const info = train.info;
  const method = methodForRun(config, info);
  try {
    method.setState(ck.state);
  } catch (e) {
    method.dispose();
    throw new Error(`loadRun: the checkpoint of ${dir} does not fit its config: ${(e as Error).message}`);
  } finally {
    disposeState(ck.state);
  }
  const cfg = config;
  const embed = async (images: ImageSet | tf.Tensor4D, o: EmbedOptions = {}): Promise<tf.Tensor2D> => {
    const which = o.features ?? 'projection';
    if (images instanceof tf.Tensor) {
      if (images.rank !== 4) throw new Error(`embed: expected a [B, H, W, C] batch, got shape [${images.shape}]`);
      return method.features(images, which);
    }
    const [h, w] = images.info.imageSize;
    if (h !== info.imageSize[0] || w !== info.imageSize[1] || images.info.channels !== info.channels) {
      throw new Error(`embed: images are ${h}x${w}x${images.info.channels}, the run was trained on ${info.imageSize.join('x')}x${info.channels}`);
    }
    const f = await extractFeatures((x) => method.features(x, which), images, { limit: o.limit, batchSize: o.batchSize });
    return f.features;
  };
  return {
    dir,
    runId: path.basename(dir),
    config: cfg,
    summary,
    metrics: readMetrics(path.join(dir, FILES.metrics)),
    epoch: ck.meta.epoch,
    method,
    classNames: info.classNames,
    dataset: (split: Split) => loadDatasetCached(cfg.dataset, split),
    embed,
    similarities: async (set, o = {}) => {
      const queue = (method as unknown as { queue?: { keys: tf.Variable } }).queue;
      const keyNet = (
        method as unknown as { keyNet?: { forward(x: tf.Tensor4D, o: { training: boolean }): tf.Tensor2D; project(h: tf.Tensor2D): tf.Tensor2D } }
      ).keyNet;
      if (!queue) throw new Error(`similarities: method '${cfg.method.name}' has no key queue (MoCo, MoCHi and MixCo on MoCo do)`);
      // Query view through the query encoder, key view through the momentum (key) encoder.
      const keyFn = keyNet
        ? (x: tf.Tensor4D) => tf.tidy(() => keyNet.project(keyNet.forward(x, { training: false })))
        : (x: tf.Tensor4D) => method.features(x, 'projection');
      const pairs = await extractViewPairs((x) => method.features(x, 'projection'), set, {
        preset: cfg.augmentation,
        limit: o.limit ?? 512,
        seed: o.seed ?? 0,
      });
      // extractViewPairs runs one function on both views; recompute the key side with the key encoder.
      pairs.y.dispose();
      const keys = await extractViewPairs(keyFn, set, { preset: cfg.augmentation, limit: o.limit ?? 512, seed: o.seed ?? 0 });
      keys.x.dispose();
      try {
        return await similarityDistributions(pairs.x, keys.y, queue.keys as unknown as tf.Tensor2D, { hardest: o.hardest, seed: o.seed });
      } finally {
        pairs.x.dispose();
        keys.y.dispose();
      }
    },
    dispose: () => method.dispose(),
  };
}
