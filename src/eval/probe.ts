/**
 * Linear evaluation of a frozen model through its feature function.
 * - cache = true: features of the train and test images are extracted once with the test
 *   transform, then the head trains for many epochs on the cached features (cheap).
 * - cache = false (the MoCo / SupContrast protocols): every epoch re-extracts features of
 *   augmented train images ('linear-eval' preset: random resized crop + flip); test images use
 *   the test transform. The encoder stays frozen (features are computed outside the gradient).
 */
import * as tf from '@tensorflow/tfjs';
import { Loader, disposeBatch } from '../data';
import type { ImageSet } from '../types';
import { Rng } from '../util/rng';
import { extractFeatures, type FeatureFn } from './features';
import {
  LinearHead,
  accuracyOf,
  fitStandardizer,
  linearLrAt,
  linearProbeOnFeatures,
  resolveLinearConfig,
  type LinearProbeConfig,
  type LinearProbeResult,
} from './linear-probe';

export interface ProbeOptions {
  batchSize?: number;
  /** Called after every epoch of the head (epoch is 1-based). */
  onEpoch?: (epoch: number, loss: number) => void;
}

export async function linearProbe(
  fn: FeatureFn,
  train: ImageSet,
  test: ImageSet,
  config: LinearProbeConfig,
  opts: ProbeOptions = {},
): Promise<LinearProbeResult> {
  const cfg = resolveLinearConfig(config);
  const numClasses = train.info.numClasses;
  const extractBatch = opts.batchSize ?? 256;
  const testF = await extractFeatures(fn, test, { batchSize: extractBatch });
  try {
    if (cfg.cache) {
      const trainF = await extractFeatures(fn, train, { batchSize: extractBatch });
      try {
        return await linearProbeOnFeatures(trainF.features, trainF.labels, testF.features, testF.labels, numClasses, cfg);
      } finally {
        trainF.features.dispose();
      }
    }
    return await probeAugmented(fn, train, testF.features, testF.labels, numClasses, cfg, opts);
  } finally {
    testF.features.dispose();
  }
}

async function probeAugmented(
  fn: FeatureFn,
  train: ImageSet,
  xTest: tf.Tensor2D,
  yTest: Int32Array,
  numClasses: number,
  cfg: ReturnType<typeof resolveLinearConfig>,
  opts: ProbeOptions,
): Promise<LinearProbeResult> {
  const head = new LinearHead(xTest.shape[1], numClasses, cfg.seed);
  const seed = new Rng(cfg.seed).nextUint32();
  if (cfg.standardize) {
    // Standardise with statistics of un-augmented train features (computed once).
    const f = await extractFeatures(fn, train, { batchSize: opts.batchSize ?? 256 });
    head.standardizer = fitStandardizer(f.features);
    f.features.dispose();
  }
  const loader = new Loader(train, { batchSize: cfg.batchSize, views: 1, preset: 'linear-eval', shuffle: true, dropLast: false, seed });
  const losses: number[] = [];
  try {
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      const lr = linearLrAt(cfg, epoch);
      let sum = 0;
      let steps = 0;
      for await (const batch of loader.epoch(epoch)) {
        try {
          const loss = tf.tidy(() => head.step(fn(batch.views[0]), batch.labels, lr, cfg.momentum, cfg.weightDecay));
          sum += (await loss.data())[0];
          loss.dispose();
          steps++;
        } finally {
          disposeBatch(batch);
        }
        await new Promise((r) => setImmediate(r));
      }
      losses.push(sum / Math.max(1, steps));
      opts.onEpoch?.(epoch + 1, losses[losses.length - 1]);
    }
    const predictions = await head.predict(xTest);
    return { accuracy: accuracyOf(predictions, yTest), trainAccuracy: NaN, predictions, losses, config: cfg };
  } finally {
    head.dispose();
  }
}
