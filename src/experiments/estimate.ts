/**
 * How long a list of runs will take on the active backend, from measured steps rather than a
 * table: for each kind of run (method, encoder, batch, augmentation and dataset; seeds and names
 * aside) a few training steps of the run's own loader and method, one feature batch of its
 * evaluation, and, per feature width, one epoch of the fast linear probe. A run's estimate is
 *   epochs x steps per epoch x (augment + step)
 *   + the images its evaluations embed (kNN monitor, final kNN, probe, alignment, 2-D map) x seconds per image
 *   + probe epochs x seconds per probe epoch,
 * and a run complete on disk costs nothing. The weights of the measured steps are thrown away.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { backendReport } from '../backend/init';
import { disposeBatch } from '../data/loader';
import { linearProbeOnFeatures, resolveLinearConfig } from '../eval/linear-probe';
import type { ImageSet } from '../types';
import { canonicalJson, type RunConfig } from './config';
import { methodForRun, trainLoader } from './evaluation';
import { withDataRoot } from './runner';
import { duration } from './sweep-eta';
import { FILES } from './paths';

export interface RunToEstimate {
  config: RunConfig;
  /** The run's folder: a run whose summary is there is complete and costs nothing. */
  dir?: string;
}

export interface KindCalibration {
  /** What the kind trains, e.g. `moco convnet x0.25 b128 (moco-v2-cifar)`. */
  label: string;
  /** Seconds of one training step with its batch's augmentation. */
  stepSeconds: number;
  /** Seconds per image of evaluation features (no augmentation, no gradient). */
  featureSecondsPerImage: number;
  /** Seconds of one epoch of the fast linear probe on this kind's features (0: no cached probe). */
  probeEpochSeconds: number;
  runs: number;
}

export interface RunsEstimate {
  /** Seconds for every run not complete on disk. */
  seconds: number;
  /** Runs to train and runs already complete. */
  toRun: number;
  complete: number;
  kinds: KindCalibration[];
  /** Seconds the calibration itself took. */
  calibrationSeconds: number;
  backend: string;
}

export interface EstimateOptions {
  /** Data root for configs without one (default $DATA_DIR, as `run`). */
  dataDir?: string;
  /** Timed steps per kind after two untimed warm-up steps (default 3). */
  steps?: number;
  /** Loads a run's dataset (the runner's `loadDatasetCached` keeps one copy per process). */
  load: (cfg: RunConfig['dataset'], split: 'train' | 'test') => Promise<ImageSet>;
}

/** Untimed steps before the timed ones. */
const WARMUP_STEPS = 2;

/** Method fields that change values but not the work of a step (the queue's length barely does). */
const COST_FREE = new Set(['m', 'T', 'mixT', 'beta', 'classOracle', 'warmupEpochs', 'K']);

/** The fields that set a run's cost. */
function kindKey(cfg: RunConfig): string {
  const method = Object.fromEntries(Object.entries(cfg.method).filter(([k]) => !COST_FREE.has(k)));
  return canonicalJson({ method, encoder: cfg.encoder, batchSize: cfg.batchSize, augmentation: cfg.augmentation, dataset: cfg.dataset });
}

function kindLabel(cfg: RunConfig): string {
  const e = cfg.encoder;
  const base = 'base' in cfg.method ? `-${String((cfg.method as { base?: string }).base)}` : '';
  return `${cfg.method.name}${base} ${e.arch}${e.width !== undefined ? ` x${e.width}` : ''} b${cfg.batchSize} (${cfg.augmentation})`;
}

/** Images the evaluations of a run embed: the monitor's passes, the final kNN, the probe's, alignment's and the map's. */
function evalImages(cfg: RunConfig, nTrain: number, nTest: number): number {
  const ev = cfg.eval;
  const bank = ev.knnBankLimit ? Math.min(ev.knnBankLimit, nTrain) : nTrain;
  const monitors = ev.knnEvery > 0 ? Math.floor((cfg.epochs - 1) / ev.knnEvery) : 0;
  let images = (monitors + 1) * (bank + nTest);
  if (ev.alignUniform) images += monitors * 2 * Math.min(ev.alignUniformLimit ?? 1000, 512, nTest);
  if (ev.linear) {
    const lin = resolveLinearConfig(ev.linear);
    images += lin.cache ? nTrain + nTest : lin.epochs * nTrain + nTest;
  }
  if (ev.alignUniform) images += 2 * Math.min(ev.alignUniformLimit ?? 1000, nTest);
  if (ev.embeddings) images += Math.min(ev.embeddings, nTest);
  return images;
}

async function timeIt(f: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}

/** Measure one kind: `steps` training steps after the warm-up, one feature batch, one probe epoch. */
async function calibrate(
  cfg: RunConfig,
  train: ImageSet,
  test: ImageSet,
  steps: number,
  probeCache: Map<string, number>,
): Promise<Omit<KindCalibration, 'runs'>> {
  const method = methodForRun(cfg, train.info);
  try {
    // The run's own loop: the loader prepares batch i + 1 while step i is read back. Timed from
    // the end of the warm-up steps (kernels, optimiser slots) to the end of the last step.
    const loader = trainLoader(cfg, train, method.viewsPerImage);
    const warm = Math.min(WARMUP_STEPS, loader.stepsPerEpoch - 1);
    const timed = Math.max(1, Math.min(steps, loader.stepsPerEpoch - warm));
    let done = 0;
    let t0 = performance.now();
    for await (const batch of loader.epoch(0)) {
      try {
        await method.trainStep(batch);
      } finally {
        disposeBatch(batch);
      }
      done++;
      if (done === warm) t0 = performance.now();
      if (done === warm + timed) break;
    }
    const stepSeconds = (performance.now() - t0) / 1000 / (done - warm);

    const evalBatch = Math.min(cfg.eval.batchSize ?? 256, test.n);
    const [h, w] = test.info.imageSize;
    const x = tf.tidy(() => tf.randomUniform([evalBatch, h, w, test.info.channels]) as tf.Tensor4D);
    let dim = 0;
    try {
      const embed = async () => {
        const f = tf.tidy(() => method.features(x, 'backbone'));
        dim = f.shape[1];
        await f.data();
        f.dispose();
      };
      await embed();
      const featureSecondsPerImage = (await timeIt(embed)) / evalBatch;
      let probeEpochSeconds = 0;
      if (cfg.eval.linear && resolveLinearConfig(cfg.eval.linear).cache) {
        const key = `${dim}/${train.n}/${test.n}`;
        if (!probeCache.has(key)) probeCache.set(key, await probeEpoch(dim, train.n, test.n, train.info.numClasses, cfg));
        probeEpochSeconds = probeCache.get(key) as number;
      }
      return { label: kindLabel(cfg), stepSeconds, featureSecondsPerImage, probeEpochSeconds };
    } finally {
      x.dispose();
    }
  } finally {
    method.dispose();
  }
}

/** One epoch of the cached-feature probe on random features of the run's shape. */
async function probeEpoch(dim: number, nTrain: number, nTest: number, classes: number, cfg: RunConfig): Promise<number> {
  const xTrain = tf.randomNormal([nTrain, dim]) as tf.Tensor2D;
  const xTest = tf.randomNormal([nTest, dim]) as tf.Tensor2D;
  const yTrain = Int32Array.from({ length: nTrain }, (_, i) => i % classes);
  const yTest = Int32Array.from({ length: nTest }, (_, i) => i % classes);
  try {
    const lin = { ...(cfg.eval.linear || { protocol: 'fast' as const }), epochs: 1 };
    return await timeIt(async () => {
      await linearProbeOnFeatures(xTrain, yTrain, xTest, yTest, classes, lin);
    });
  } finally {
    tf.dispose([xTrain, xTest]);
  }
}

/** Estimate the wall time of `runs` on the active backend (see the file comment). */
export async function estimateRuns(runs: RunToEstimate[], opts: EstimateOptions): Promise<RunsEstimate> {
  const t0 = performance.now();
  const steps = opts.steps ?? 3;
  const kinds = new Map<string, { cfg: RunConfig; runs: RunConfig[]; cal?: Omit<KindCalibration, 'runs'> }>();
  let complete = 0;
  for (const r of runs) {
    if (r.dir && fs.existsSync(path.join(r.dir, FILES.summary))) {
      complete++;
      continue;
    }
    const cfg = withDataRoot(r.config, opts.dataDir);
    const key = kindKey(cfg);
    const k = kinds.get(key) ?? { cfg, runs: [] };
    k.runs.push(cfg);
    kinds.set(key, k);
  }
  const probeCache = new Map<string, number>();
  let seconds = 0;
  const out: KindCalibration[] = [];
  // A fresh process runs its first steps slower for a while (JIT, allocator, kernel caches), and a
  // long run soon stops paying that: the first kind is measured twice and its first measurement dropped.
  const first = kinds.values().next().value;
  if (first) await calibrate(first.cfg, await opts.load(first.cfg.dataset, 'train'), await opts.load(first.cfg.dataset, 'test'), steps, new Map());
  for (const k of kinds.values()) {
    const train = await opts.load(k.cfg.dataset, 'train');
    const test = await opts.load(k.cfg.dataset, 'test');
    const cal = await calibrate(k.cfg, train, test, steps, probeCache);
    const stepsPerEpoch = Math.floor(train.n / k.cfg.batchSize);
    for (const cfg of k.runs) {
      const lin = cfg.eval.linear ? resolveLinearConfig(cfg.eval.linear) : undefined;
      const probeEpochs = lin?.cache ? lin.epochs : 0;
      seconds +=
        cfg.epochs * stepsPerEpoch * cal.stepSeconds +
        evalImages(cfg, train.n, test.n) * cal.featureSecondsPerImage +
        probeEpochs * cal.probeEpochSeconds;
    }
    out.push({ ...cal, runs: k.runs.length });
  }
  return {
    seconds,
    toRun: runs.length - complete,
    complete,
    kinds: out,
    calibrationSeconds: (performance.now() - t0) / 1000,
    backend: backendReport()?.backend ?? tf.getBackend(),
  };
}

/** The estimate as printed lines: the total first, then one line per kind. */
export function estimateLines(e: RunsEstimate, what: string): string[] {
  if (e.toRun === 0) return [`${what}: all ${e.complete} runs are complete on disk; nothing to train`];
  const head =
    `${what}: about ${duration(e.seconds)} on ${e.backend} for ${e.toRun} run${e.toRun === 1 ? '' : 's'}` +
    `${e.complete ? ` (${e.complete} complete on disk)` : ''}, from ${e.kinds.length} calibrated kind${e.kinds.length === 1 ? '' : 's'} of run (${e.calibrationSeconds.toFixed(0)} s)`;
  return [
    head,
    ...e.kinds.map(
      (k) =>
        `  ${k.label}: ${k.runs} run${k.runs === 1 ? '' : 's'}, ${(1000 * k.stepSeconds).toFixed(0)} ms per step, ${(1e6 * k.featureSecondsPerImage).toFixed(0)} µs per evaluated image`,
    ),
  ];
}
