/**
 * Where the wall time of a training run goes, phase by phase, for one parity config (the recipe of
 * `cwb parity`: CIFAR-10 5k / 2k, ConvNet width 1, batch 128, the method's views and augmentation):
 *
 *   load        the dataset into memory (JPEG decode, or the decoded-image cache when it is there)
 *   augment     one batch's views: pixels to the device and the augmentation ops (Loader.batch)
 *   step        one optimiser step with its read-back of loss and metrics (Method.trainStep)
 *   knn         the kNN monitor of one epoch (features of the train and test sets, then kNN)
 *   checkpoint  one checkpoint write
 *
 * and the top kernels of one step (tf.profile). The run's loop does augment then step for every
 * batch, so its train img/s is B / (augment + step); `epoch img/s` is that figure.
 *
 *   DATA_DIR=... npx tsx bench/phases.ts [--method moco] [--K 4096] [--steps 8] [--backend tensorflow]
 *                                        [--set method.bnSplits=1] [--json]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { backendReport, initBackend } from '../src/backend/init';
import { disposeBatch } from '../src/data/loader';
import { disposeState, saveCheckpoint } from '../src/experiments/checkpoint';
import { methodForRun, monitorPass, trainLoader } from '../src/experiments/evaluation';
import { PARITY_METHODS, type ParityMethod, parityConfig } from '../src/experiments/parity';
import { clearDatasetCache, loadDatasetCached } from '../src/experiments/runner';
import { arg } from './args';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const method = arg('method', 'moco') as ParityMethod;
  if (!(PARITY_METHODS as readonly string[]).includes(method)) throw new Error(`phases: --method must be one of ${PARITY_METHODS.join(', ')}`);
  const steps = Number(arg('steps', '8'));
  if (!(Number.isInteger(steps) && steps > 0)) throw new Error(`phases: --steps must be a positive integer, got ${arg('steps')}`);
  const overrides: Record<string, unknown> = {};
  for (let i = 0; i < process.argv.length; i++) {
    if (process.argv[i] !== '--set') continue;
    const [k, v] = (process.argv[i + 1] ?? '').split('=');
    if (!k || v === undefined) throw new Error(`phases: --set expects path=value, got '${process.argv[i + 1]}'`);
    overrides[k] = JSON.parse(v);
  }
  const K = arg('K') ? Number(arg('K')) : undefined;
  const dataRoot = process.env.DATA_DIR;
  if (!dataRoot) throw new Error('phases: set DATA_DIR to the folder that holds cifar10/{train,test}');
  await initBackend(arg('backend', 'tensorflow'));
  const base = parityConfig(method, 'parity', 0, { K, overrides });
  const cfg = { ...base, dataset: { ...base.dataset, dataRoot } };

  const ms: Record<string, number> = {};
  clearDatasetCache();
  let t = performance.now();
  const train = await loadDatasetCached(cfg.dataset, 'train');
  const test = await loadDatasetCached(cfg.dataset, 'test');
  ms.load = performance.now() - t;

  const m = methodForRun(cfg, train.info);
  const loader = trainLoader(cfg, train, m.viewsPerImage);
  const aug: number[] = [];
  const step: number[] = [];
  // Step 0 builds the kernels and the optimiser slots: measured from step 1 on.
  for (let s = 0; s <= steps; s++) {
    t = performance.now();
    const batch = loader.batch(0, s % loader.stepsPerEpoch);
    const ta = performance.now() - t;
    t = performance.now();
    try {
      await m.trainStep(batch);
    } finally {
      disposeBatch(batch);
    }
    if (s > 0) {
      aug.push(ta);
      step.push(performance.now() - t);
    }
  }
  ms.augment = median(aug);
  ms.step = median(step);

  const batch = loader.batch(0, 0);
  const prof = await tf.profile(async () => {
    await m.trainStep(batch);
  });
  disposeBatch(batch);
  const kernels = new Map<string, { ms: number; calls: number }>();
  for (const k of prof.kernels) {
    const e = kernels.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += Number(k.kernelTimeMs) || 0;
    e.calls += 1;
    kernels.set(k.name, e);
  }

  t = performance.now();
  const knn = await monitorPass({ method: m, train, test, cfg, batchSize: cfg.eval.batchSize ?? 256 }, 1);
  ms.knn = performance.now() - t;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-phases-'));
  const state = m.getState();
  t = performance.now();
  try {
    await saveCheckpoint(dir, state, { epoch: 1, runId: 'phases', runner: {} });
  } finally {
    disposeState(state);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  ms.checkpoint = performance.now() - t;
  m.dispose();

  const B = cfg.batchSize;
  const report = {
    method,
    K: (cfg.method as { K?: number }).K ?? null,
    bnSplits: (cfg.method as { bnSplits?: number }).bnSplits ?? null,
    batchSize: B,
    backend: backendReport()?.device ?? tf.getBackend(),
    stepsTimed: steps,
    ms,
    stepImagesPerSec: (1000 * B) / ms.step,
    epochImagesPerSec: (1000 * B) / (ms.augment + ms.step),
    knnAcc: knn.knnAcc,
    topKernels: [...kernels.entries()]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 12)
      .map(([name, e]) => ({ name, ms: Number(e.ms.toFixed(1)), calls: e.calls })),
  };
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const f = (x: number) => x.toFixed(0).padStart(7);
  console.log(
    `${method}${report.K ? ` K=${report.K}` : ''} bnSplits ${report.bnSplits ?? '-'} B=${B} on ${report.backend}, median of ${steps} steps`,
  );
  console.log(`phase       ms`);
  for (const [k, v] of Object.entries(ms))
    console.log(`${k.padEnd(10)} ${f(v)}${k === 'knn' || k === 'load' || k === 'checkpoint' ? '  (once)' : '  (per batch)'}`);
  console.log(`step img/s  ${report.stepImagesPerSec.toFixed(1)}   epoch img/s (augment + step)  ${report.epochImagesPerSec.toFixed(1)}`);
  console.log(`top kernels of one step (tf.profile; scopes such as customGrad forwards include their inner ops):`);
  console.log(report.topKernels.map((k) => `  ${k.name} ${k.ms} ms (${k.calls} calls)`).join('\n'));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
