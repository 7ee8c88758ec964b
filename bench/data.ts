/**
 * Data bench: images/s of loading + two-view augmentation (the Loader feeding a contrastive
 * method) on the active backend, on CIFAR-10 when the data root has it (else synthetic 32x32).
 *
 *   npx tsx bench/data.ts [--backend wasm] [--batch 256] [--steps 10] [--preset moco-cifar-demo] [--views 2]
 *
 * A batch of B images with two views counts as B images, like the training-step bench.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/init';
import { Loader, disposeBatch, loadDataset, locateDataset } from '../src/data';
import type { AugmentPresetName, ImageSet } from '../src/types';
import { requiredArg } from './args';

export interface DataBenchOptions {
  batchSize?: number;
  /** Alias of batchSize (bench/run.ts passes `batch`). */
  batch?: number;
  steps: number;
  preset?: AugmentPresetName;
  views?: number;
  /** Data root (default $DATA_DIR, then ./data). */
  dataRoot?: string;
}

export interface DataBenchResult {
  imagesPerSec: number;
  msPerBatch: number;
  batchSize: number;
  views: number;
  steps: number;
  preset: AugmentPresetName;
  source: string;
  backend: string;
  /** Seconds to load the training split into memory (cache hit, parse or generation). */
  loadSeconds: number;
}

export async function benchData(opts: DataBenchOptions): Promise<DataBenchResult> {
  const batchSize = opts.batchSize ?? opts.batch ?? 256;
  const preset = opts.preset ?? 'moco-cifar-demo';
  const views = opts.views ?? 2;
  const t0 = performance.now();
  let set: ImageSet;
  let source: string;
  if (locateDataset({ name: 'cifar10', dataRoot: opts.dataRoot })) {
    set = await loadDataset({ name: 'cifar10', dataRoot: opts.dataRoot }, 'train', { download: false });
    source = 'cifar10';
  } else {
    set = await loadDataset({ name: 'synthetic', synthetic: { perClass: 200, size: 32, classes: 10 } }, 'train');
    source = 'synthetic 32x32 (CIFAR-10 not found in the data root)';
  }
  const loadSeconds = (performance.now() - t0) / 1000;
  const loader = new Loader(set, { batchSize, views, preset, seed: 0 });
  const steps = Math.min(opts.steps, loader.stepsPerEpoch - 1);
  if (steps < 1) throw new Error(`benchData: ${set.n} images give fewer than 2 batches of ${batchSize}`);
  let done = -1; // the first batch is a warm-up
  let start = 0;
  for await (const b of loader.epoch(0)) {
    await b.views[views - 1].data(); // make sure the work is finished (asynchronous backends)
    disposeBatch(b);
    if (++done === 0) start = performance.now();
    if (done === steps) break;
    await new Promise(setImmediate); // the trainer awaits between steps; the next batch is prefetched then
  }
  const secs = (performance.now() - start) / 1000;
  return {
    imagesPerSec: (steps * batchSize) / secs,
    msPerBatch: (1000 * secs) / steps,
    batchSize,
    views,
    steps,
    preset,
    source,
    backend: tf.getBackend(),
    loadSeconds,
  };
}

if (require.main === module) {
  (async () => {
    await initBackend(requiredArg('data', 'backend', 'wasm'));
    const r = await benchData({
      batchSize: Number(requiredArg('data', 'batch', '256')),
      steps: Number(requiredArg('data', 'steps', '10')),
      preset: requiredArg('data', 'preset', 'moco-cifar-demo') as AugmentPresetName,
      views: Number(requiredArg('data', 'views', '2')),
    });
    console.log(JSON.stringify(r, null, 2));
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
