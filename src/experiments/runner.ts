/**
 * `run(config)`: train one method on one dataset, evaluate on schedule, and leave everything in
 * results/<experiment>/<run-id>/:
 *   config.json    the validated config
 *   metrics.jsonl  one line per epoch and per evaluation
 *   checkpoint/    method tensors + host state + runner state (atomic, see checkpoint.ts)
 *   summary.json   final metrics; its presence marks the run complete
 *   embeddings.json, confusion.json (when asked for)
 * Started again, a run resumes from its last checkpoint (or returns at once when complete).
 * Seeded runs on one backend repeat their losses: the method, the loader and the probes all
 * take their randomness from the config seed.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backendReport, initBackend } from '../backend/init';
import { disposeBatch, loadDataset, Loader } from '../data';
import { createMethod } from '../methods';
import { learningRateAt } from '../optim';
import type { DatasetConfig, DatasetInfo, ImageSet, Method, Split } from '../types';
import { Rng, tfSeedOf } from '../util/rng';
import { readJson, writeJsonAtomic } from '../util/fsx';
import { alignment, uniformity } from '../eval/align-uniform';
import { confusionMatrix } from '../eval/confusion';
import { extractFeatures, extractViewPairs, headOf, type FeatureFn } from '../eval/features';
import { knnEvaluate } from '../eval/knn';
import { linearProbe } from '../eval/probe';
import { pca2d } from '../eval/projection';
import { cleanCheckpointTemps, disposeState, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { canonicalJson, configWarnings, runId as runIdOf, validateConfig, type RunConfig } from './config';
import { appendMetrics, readMetrics, truncateMetrics, type MetricsRecord } from './metrics-log';
import { acquireRunLock, LockHeldError, lockState, type RunLock } from './lock';
import { FILES, runDirOf } from './paths';
import { readSummary, type RunSummary } from './records';
import { ProgressBar, type ProgressEvent } from './progress';

export interface RunOptions {
  /** Results root (default $CWB_RESULTS_DIR, then ./results). */
  resultsDir?: string;
  /** Data root used when the config's dataset has no dataRoot (default $DATA_DIR, then ./data). */
  dataDir?: string;
  /** Backend to initialise (default: keep the active one, else $CWB_BACKEND / auto). */
  backend?: string;
  /** Live progress for notebooks (called every step, after each epoch and evaluation). */
  onProgress?: (p: ProgressEvent) => void;
  /** No progress bar on stderr. */
  quiet?: boolean;
  /** Delete an existing run folder of this config and start over. */
  force?: boolean;
  /** Train at most this many epochs in this call, then checkpoint and return (the run stays resumable). */
  maxEpochs?: number;
}

/** Progress inside an epoch, saved with a mid-epoch checkpoint. */
interface PartialEpoch {
  epoch: number;
  step: number;
  lossSum: number;
  metricSums: Record<string, number>;
  seconds: number;
}


export interface RunResult {
  runId: string;
  dir: string;
  /** Undefined when the call stopped early (maxEpochs) before the run completed. */
  summary?: RunSummary;
  /** Epoch the run resumed from (0 for a fresh start). */
  resumedFrom: number;
  /** True when the run was already complete and nothing was done. */
  skipped: boolean;
}

// Datasets are kept across runs of one process (a sweep loads CIFAR-10 once).
const datasetCache = new Map<string, Promise<ImageSet>>();
export function loadDatasetCached(cfg: DatasetConfig, split: Split): Promise<ImageSet> {
  const key = `${split}:${canonicalJson(cfg)}`;
  let p = datasetCache.get(key);
  if (!p) {
    if (datasetCache.size >= 4) datasetCache.delete(datasetCache.keys().next().value as string);
    p = loadDataset(cfg, split);
    datasetCache.set(key, p);
    p.catch(() => datasetCache.delete(key));
  }
  return p;
}

export function clearDatasetCache(): void {
  datasetCache.clear();
}

/** The config with the data root filled in (not part of the run id). */
function withDataRoot(cfg: RunConfig, dataDir?: string): RunConfig {
  if (cfg.dataset.dataRoot || !dataDir) return cfg;
  return { ...cfg, dataset: { ...cfg.dataset, dataRoot: dataDir } };
}

async function ensureBackend(backend?: string): Promise<void> {
  if (backend) await initBackend(backend);
  else if (!backendReport()) await initBackend();
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Thrown by `run` when SIGINT or SIGTERM stopped it; the run resumes from `resumesFrom` epochs. */
export class RunInterrupted extends Error {
  constructor(
    readonly signal: NodeJS.Signals,
    readonly resumesFrom: number,
    readonly dir: string,
    readonly resumesAtStep = 0,
  ) {
    super(`interrupted; resumes from epoch ${resumesFrom}${resumesAtStep ? `, step ${resumesAtStep}` : ''}`);
    this.name = 'RunInterrupted';
  }
}

/** Set by the SIGINT/SIGTERM handlers of a running `run`; checked between steps. */
interface Interrupt {
  signal?: NodeJS.Signals;
}

/**
 * While `body` runs, SIGINT and SIGTERM ask it to stop at the next step (it checks
 * `interrupt.signal`); a second signal releases the lock and exits at once.
 */
async function withSignals<T>(lock: RunLock, body: (interrupt: Interrupt) => Promise<T>): Promise<T> {
  const interrupt: Interrupt = {};
  const handler = (signal: NodeJS.Signals) => {
    if (interrupt.signal) {
      lock.release();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    interrupt.signal = signal;
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await body(interrupt);
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}

/** Delete what a run folder holds except its lock (a forced restart, under the lock). */
function clearRunDir(dir: string, lock: RunLock): void {
  for (const f of fs.readdirSync(dir)) {
    if (f === path.basename(lock.file) || f.startsWith(`${path.basename(lock.file)}.`)) continue;
    fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  }
}

/** Run (or resume) one configured training run. */
export async function run(config: RunConfig, opts: RunOptions = {}): Promise<RunResult> {
  const cfg = withDataRoot(validateConfig(config), opts.dataDir);
  const id = runIdOf(cfg);
  const dir = runDirOf(opts.resultsDir, cfg.experiment, id);
  const summaryFile = path.join(dir, FILES.summary);
  if (opts.force) {
    // Never under a live trainer: --force takes the lock first (a stale one is taken over).
    const st = lockState(dir);
    if (st && !st.stale && st.holder) {
      throw new Error(
        `refusing --force: ${dir} is being trained by process ${st.holder.pid} on ${st.holder.host} since ${st.holder.startedAt}; ` +
          `stop that process first`,
      );
    }
  } else if (fs.existsSync(summaryFile)) {
    return { runId: id, dir, summary: readSummary(dir), resumedFrom: cfg.epochs, skipped: true };
  }
  for (const w of configWarnings(cfg)) process.stderr.write(`[cwb] warning: ${id}: ${w}\n`);
  await ensureBackend(opts.backend);
  fs.mkdirSync(dir, { recursive: true });
  let lock: RunLock;
  try {
    lock = acquireRunLock(dir);
  } catch (e) {
    if (opts.force && e instanceof LockHeldError) throw new Error(`refusing --force: ${e.message}`);
    throw e;
  }
  try {
    if (opts.force) clearRunDir(dir, lock);
    return await withSignals(lock, (interrupt) => runLocked(cfg, id, dir, opts, lock, interrupt));
  } catch (e) {
    if (e instanceof RunInterrupted) process.stderr.write(`[cwb] ${id}: ${e.message} (${e.signal})\n`);
    throw e;
  } finally {
    lock.release();
  }
}

async function runLocked(cfg: RunConfig, id: string, dir: string, opts: RunOptions, lock: RunLock, interrupt: Interrupt): Promise<RunResult> {
  const summaryFile = path.join(dir, FILES.summary);
  if (fs.existsSync(summaryFile)) {
    // Finished by another process while this one waited for the backend.
    return { runId: id, dir, summary: readSummary(dir), resumedFrom: cfg.epochs, skipped: true };
  }
  const { dataRoot: _root, ...datasetForFile } = cfg.dataset;
  // Every write below is preceded by lock.verify(): a process that lost the lock (taken over as
  // stale while it was paused, or by hand) stops without writing.
  lock.verify();
  writeJsonAtomic(path.join(dir, FILES.config), { ...cfg, dataset: datasetForFile });
  cleanCheckpointTemps(dir);

  const bar = new ProgressBar(opts.quiet ? null : process.stderr);
  const train = await loadDatasetCached(cfg.dataset, 'train');
  const test = await loadDatasetCached(cfg.dataset, 'test');
  const info = train.info;
  const method = methodForRun(cfg, info);
  const metricsFile = path.join(dir, FILES.metrics);
  const loaderSeed = new Rng(cfg.seed).nextUint32();
  let startEpoch = 0;
  let runner: Record<string, unknown> = { loaderSeed, trainSeconds: 0, evalSeconds: 0, images: 0, sessions: 0 };
  // Set when the checkpoint was taken inside an epoch: where to continue and the epoch's sums so far.
  let partial: PartialEpoch | undefined;
  // What the last checkpoint holds: where an interrupted run resumes.
  let saved = { epoch: 0, step: 0 };
  const stopIfInterrupted = () => {
    if (interrupt.signal) throw new RunInterrupted(interrupt.signal, saved.epoch, dir, saved.step);
  };
  try {
    const ck = loadCheckpoint(dir);
    if (ck) {
      try {
        method.setState(ck.state);
      } finally {
        disposeState(ck.state);
      }
      startEpoch = ck.meta.epoch;
      runner = { ...runner, ...ck.meta.runner };
      partial = runner.partial as PartialEpoch | undefined;
      delete runner.partial;
      if (runner.loaderSeed !== loaderSeed) throw new Error(`${dir}: checkpoint was made with another loader seed`);
      saved = { epoch: startEpoch, step: partial?.step ?? 0 };
      lock.verify();
      truncateMetrics(metricsFile, startEpoch);
      bar.log(`${id}: resuming after epoch ${startEpoch}/${cfg.epochs}${partial ? `, step ${partial.step}` : ''}`);
    } else {
      lock.verify();
      if (fs.existsSync(metricsFile)) fs.rmSync(metricsFile);
    }
    runner.sessions = (runner.sessions as number) + 1;
    const loader = new Loader(train, {
      batchSize: cfg.batchSize,
      views: method.viewsPerImage,
      preset: cfg.augmentation,
      shuffle: true,
      dropLast: true,
      seed: loaderSeed,
    });
    const steps = loader.stepsPerEpoch;
    if (!(steps > 0)) {
      throw new Error(`batchSize ${cfg.batchSize} is larger than the ${train.n} training images (no full batch per epoch)`);
    }
    const evalBatch = cfg.eval.batchSize ?? 256;
    const knnFeatures = cfg.eval.knnFeatures ?? 'projection';
    const projFn: FeatureFn = (x) => method.features(x, 'projection');
    const knnFn: FeatureFn = (x) => method.features(x, knnFeatures);
    let diverged = false;
    const stopAt = opts.maxEpochs !== undefined ? Math.min(cfg.epochs, startEpoch + opts.maxEpochs) : cfg.epochs;
    const emit = (p: ProgressEvent, force = false) => {
      // Epoch ends and the end of the run are logged as lines; the bar shows steps and evaluations.
      if (p.phase === 'train' || p.phase === 'eval') bar.update(p, force);
      opts.onProgress?.(p);
    };
    const sessionStart = Date.now();
    let sessionImages = 0;

    const monitor = async (epoch: number, final: boolean): Promise<MetricsRecord> => {
      const t0 = Date.now();
      emit({ phase: 'eval', runId: id, epoch, epochs: cfg.epochs, step: 0, steps, loss: NaN, lr: NaN, imagesPerSec: 0, etaSec: NaN, metrics: {}, message: 'kNN monitor' }, true);
      const bankSet = cfg.eval.knnBankLimit ? headOf(train, cfg.eval.knnBankLimit) : train;
      const bank = await extractFeatures(knnFn, bankSet, { batchSize: evalBatch });
      const q = await extractFeatures(knnFn, test, { batchSize: evalBatch });
      try {
        const res = await knnEvaluate(bank.features, bank.labels, q.features, q.labels, info.numClasses, {
          k: cfg.eval.knnK,
          T: cfg.eval.knnT,
          batchSize: evalBatch,
        });
        const rec: MetricsRecord = { type: 'eval', epoch, knnAcc: res.accuracy, knnK: res.k, knnT: res.T, seconds: (Date.now() - t0) / 1000 };
        if (cfg.eval.alignUniform && !final) {
          // Alignment and uniformity over training, on at most 512 test images per monitor pass
          // (the final values use alignUniformLimit).
          Object.assign(rec, await alignUniform(projFn, test, { preset: cfg.augmentation, limit: Math.min(cfg.eval.alignUniformLimit ?? 1000, 512), batchSize: evalBatch, seed: cfg.seed }));
        }
        if (final) {
          rec.final = true;
          if (cfg.eval.confusion) {
            lock.verify();
            writeJsonAtomic(path.join(dir, FILES.confusion), {
              source: 'knn',
              classNames: info.classNames,
              matrix: await confusionMatrix(q.labels, res.predictions, info.numClasses),
            });
          }
        }
        runner.evalSeconds = (runner.evalSeconds as number) + (Date.now() - t0) / 1000;
        return rec;
      } finally {
        bank.features.dispose();
        q.features.dispose();
      }
    };

    for (let epoch = startEpoch; epoch < stopAt && !diverged; epoch++) {
      method.setEpoch(epoch);
      // Resuming inside this epoch: continue at the saved step with the saved sums.
      const resume = partial && partial.epoch === epoch ? partial : undefined;
      partial = undefined;
      const t0 = Date.now() - (resume ? resume.seconds * 1000 : 0);
      let lossSum = resume?.lossSum ?? 0;
      let step = resume?.step ?? 0;
      let lr = cfg.optimizer.lr;
      const metricSums: Record<string, number> = { ...(resume?.metricSums ?? {}) };
      const stepEvery = cfg.checkpointEverySteps ?? 0;
      // Where the epoch's wall time goes (this session's part of it): waiting for the loader's next
      // augmented batch, and the training step (forward, backward, optimiser, key path).
      let dataSeconds = 0;
      let stepSeconds = 0;
      let tMark = Date.now();
      for await (const batch of loader.epoch(epoch, step)) {
        const tStep = Date.now();
        dataSeconds += (tStep - tMark) / 1000;
        let res;
        try {
          lr = learningRateAt(cfg.schedule, cfg.optimizer.lr, epoch, step, steps, cfg.epochs);
          method.setLearningRate(lr);
          res = await method.trainStep(batch);
          sessionImages += batch.size;
        } finally {
          disposeBatch(batch);
        }
        stepSeconds += (Date.now() - tStep) / 1000;
        step++;
        lossSum += res.loss;
        for (const [k, v] of Object.entries(res.metrics)) metricSums[k] = (metricSums[k] ?? 0) + v;
        if (!Number.isFinite(res.loss)) {
          diverged = true;
          bar.log(`${id}: loss is ${res.loss} at epoch ${epoch + 1} step ${step}; stopping (diverged)`);
          break;
        }
        if (stepEvery > 0 && step % stepEvery === 0 && step < steps) {
          // Mid-epoch checkpoint: the completed-epoch count stays `epoch`; the step and sums travel along.
          const mid: PartialEpoch = { epoch, step, lossSum, metricSums: { ...metricSums }, seconds: (Date.now() - t0) / 1000 };
          const state = method.getState();
          try {
            lock.verify();
            await saveCheckpoint(dir, state, { epoch, runId: id, runner: { ...runner, partial: mid } });
            saved = { epoch, step };
          } finally {
            disposeState(state);
          }
        }
        const elapsed = (Date.now() - t0) / 1000;
        const ips = (step * cfg.batchSize) / Math.max(elapsed, 1e-9);
        const epochLeft = (steps - step) * (elapsed / step);
        const eta = epochLeft + (cfg.epochs - epoch - 1) * steps * (elapsed / step);
        lock.touch();
        emit({ phase: 'train', runId: id, epoch: epoch + 1, epochs: cfg.epochs, step, steps, loss: lossSum / step, lr, imagesPerSec: ips, etaSec: eta, metrics: {} });
        await tick();
        stopIfInterrupted();
        tMark = Date.now();
      }
      const seconds = (Date.now() - t0) / 1000;
      runner.trainSeconds = (runner.trainSeconds as number) + seconds;
      runner.images = (runner.images as number) + step * cfg.batchSize;
      const means: Record<string, number> = {};
      for (const [k, v] of Object.entries(metricSums)) means[k] = v / Math.max(1, step);
      const rec: MetricsRecord = {
        type: 'epoch',
        epoch: epoch + 1,
        loss: lossSum / Math.max(1, step),
        lr,
        steps: step,
        seconds,
        imagesPerSec: (step * cfg.batchSize) / Math.max(seconds, 1e-9),
        dataSeconds,
        stepSeconds,
        ...means,
        ...(diverged ? { diverged: true } : {}),
      };
      lock.verify();
      appendMetrics(metricsFile, rec);
      const shown: Record<string, number> = { ...means };
      if (!diverged && cfg.eval.knnEvery > 0 && (epoch + 1) % cfg.eval.knnEvery === 0 && epoch + 1 < cfg.epochs) {
        const ev = await monitor(epoch + 1, false);
        lock.verify();
        appendMetrics(metricsFile, ev);
        shown.knnAcc = ev.knnAcc as number;
      }
      bar.end();
      bar.log(
        `${id} epoch ${epoch + 1}/${cfg.epochs} loss ${(rec.loss as number).toFixed(4)} ` +
          `${(rec.imagesPerSec as number).toFixed(0)} img/s ${seconds.toFixed(1)}s` +
          Object.entries(shown)
            .filter(([k]) => k === 'knnAcc' || k === 'proxyAcc')
            .map(([k, v]) => ` ${k} ${v.toFixed(4)}`)
            .join(''),
      );
      stopIfInterrupted();
      emit({ phase: 'epoch', runId: id, epoch: epoch + 1, epochs: cfg.epochs, step, steps, loss: rec.loss as number, lr, imagesPerSec: rec.imagesPerSec as number, etaSec: (cfg.epochs - epoch - 1) * seconds, metrics: shown }, true);
      const every = cfg.checkpointEvery ?? 1;
      if (diverged || (epoch + 1) % every === 0 || epoch + 1 === stopAt) {
        const state = method.getState(); // copies, owned here
        try {
          lock.verify();
          await saveCheckpoint(dir, state, { epoch: epoch + 1, runId: id, runner: { ...runner, diverged } });
          saved = { epoch: epoch + 1, step: 0 };
        } finally {
          disposeState(state);
        }
      }
    }

    const records = readMetrics(metricsFile);
    const epochRecs = records.filter((r) => r.type === 'epoch');
    diverged = diverged || epochRecs.some((r) => r.diverged === true);
    const done = epochRecs.length;
    if (!diverged && done < cfg.epochs) {
      return { runId: id, dir, resumedFrom: startEpoch, skipped: false };
    }

    // Final evaluation (repeated in full if a previous session was killed during it). Its
    // randomness (probe head, shuffles, view pairs, PCA start) comes from the config seed only, so
    // a resumed run and an uninterrupted one write the same summary.
    const finals: MetricsRecord = { type: 'eval', epoch: done, final: true };
    if (!diverged) {
      stopIfInterrupted();
      Object.assign(finals, await monitor(done, true));
      stopIfInterrupted();
      const tEval = Date.now();
      if (cfg.eval.linear) {
        emit({ phase: 'eval', runId: id, epoch: done, epochs: cfg.epochs, step: 0, steps, loss: NaN, lr: NaN, imagesPerSec: 0, etaSec: NaN, metrics: {}, message: `linear probe (${cfg.eval.linear.protocol})` }, true);
        const lin = await linearProbe((x) => method.features(x, 'backbone'), train, test, { seed: cfg.seed, ...cfg.eval.linear }, { batchSize: evalBatch });
        finals.linearAcc = lin.accuracy;
        finals.linearTrainAcc = lin.trainAccuracy;
        finals.linearEpochs = lin.config.epochs;
        stopIfInterrupted();
      }
      if (cfg.eval.alignUniform) {
        Object.assign(finals, await alignUniform(projFn, test, { preset: cfg.augmentation, limit: cfg.eval.alignUniformLimit ?? 1000, batchSize: evalBatch, seed: cfg.seed }));
      }
      if (cfg.eval.embeddings) {
        const emb = await extractFeatures(projFn, test, { limit: cfg.eval.embeddings, batchSize: evalBatch });
        try {
          const p = await pca2d(emb.features, { seed: tfSeedOf(cfg.seed) });
          lock.verify();
          writeJsonAtomic(path.join(dir, FILES.embeddings), {
            features: 'projection',
            explainedVariance: p.explainedVariance,
            classNames: info.classNames,
            labels: Array.from(emb.labels),
            points: p.points,
          });
        } finally {
          emb.features.dispose();
        }
      }
      runner.evalSeconds = (runner.evalSeconds as number) + (Date.now() - tEval) / 1000;
      stopIfInterrupted();
      lock.verify();
      appendMetrics(metricsFile, finals);
    }

    const last = epochRecs[epochRecs.length - 1];
    const knnRecs = readMetrics(metricsFile).filter((r) => r.type === 'eval' && typeof r.knnAcc === 'number');
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    const report = backendReport();
    const summary: RunSummary = {
      runId: id,
      experiment: cfg.experiment,
      name: cfg.name,
      params: cfg.params ?? {},
      method: cfg.method.name,
      epochs: cfg.epochs,
      completedEpochs: done,
      seed: cfg.seed,
      finalLoss: num(last?.loss),
      proxyAcc: num(last?.proxyAcc),
      knnAcc: num(finals.knnAcc),
      knnAccMax: knnRecs.length ? Math.max(...knnRecs.map((r) => r.knnAcc as number)) : null,
      linearAcc: num(finals.linearAcc),
      alignment: num(finals.alignment),
      uniformity: num(finals.uniformity),
      imagesPerSec: (runner.trainSeconds as number) > 0 ? (runner.images as number) / (runner.trainSeconds as number) : null,
      trainSeconds: runner.trainSeconds as number,
      evalSeconds: runner.evalSeconds as number,
      sessions: runner.sessions as number,
      diverged,
      backend: report?.backend ?? tf.getBackend(),
      device: report?.device ?? '',
      completedAt: new Date().toISOString(),
    };
    lock.verify();
    writeJsonAtomic(summaryFile, summary);
    emit({ phase: 'done', runId: id, epoch: done, epochs: cfg.epochs, step: steps, steps, loss: summary.finalLoss ?? NaN, lr: NaN, imagesPerSec: summary.imagesPerSec ?? 0, etaSec: 0, metrics: { ...(summary.knnAcc !== null ? { knnAcc: summary.knnAcc } : {}) } }, true);
    bar.log(
      `${id} done: knnAcc ${summary.knnAcc?.toFixed(4) ?? '-'}` +
        (summary.linearAcc !== null ? ` linearAcc ${summary.linearAcc.toFixed(4)}` : '') +
        ` (${((Date.now() - sessionStart) / 1000).toFixed(1)}s this session, ${sessionImages} images)`,
    );
    return { runId: id, dir, summary, resumedFrom: startEpoch, skipped: false };
  } finally {
    bar.end();
    method.dispose();
  }
}


/**
 * Evaluate a run's latest checkpoint again (e.g. with another linear protocol) without training.
 * Returns kNN, and optionally linear / alignment-uniformity results.
 */
export async function evaluateCheckpoint(
  runDir: string,
  opts: { dataDir?: string; backend?: string; linear?: RunConfig['eval']['linear']; alignUniform?: boolean } = {},
): Promise<Record<string, number | string>> {
  const cfg = withDataRoot(validateConfig(readJson(path.join(runDir, FILES.config))), opts.dataDir);
  await ensureBackend(opts.backend);
  const ck = loadCheckpoint(runDir);
  if (!ck) throw new Error(`${runDir} has no checkpoint to evaluate`);
  const train = await loadDatasetCached(cfg.dataset, 'train');
  const test = await loadDatasetCached(cfg.dataset, 'test');
  const info = train.info;
  const method = methodForRun(cfg, info);
  try {
    method.setState(ck.state);
    disposeState(ck.state);
    const out: Record<string, number | string> = { runDir, epoch: ck.meta.epoch };
    const which = cfg.eval.knnFeatures ?? 'projection';
    const fn: FeatureFn = (x) => method.features(x, which);
    const bank = await extractFeatures(fn, cfg.eval.knnBankLimit ? headOf(train, cfg.eval.knnBankLimit) : train);
    const q = await extractFeatures(fn, test);
    const knn = await knnEvaluate(bank.features, bank.labels, q.features, q.labels, info.numClasses, { k: cfg.eval.knnK, T: cfg.eval.knnT });
    bank.features.dispose();
    q.features.dispose();
    out.knnAcc = knn.accuracy;
    const linCfg = opts.linear ?? cfg.eval.linear;
    if (linCfg) {
      const lin = await linearProbe((x) => method.features(x, 'backbone'), train, test, { seed: cfg.seed, ...linCfg });
      out.linearAcc = lin.accuracy;
      out.linearProtocol = lin.config.protocol;
    }
    if (opts.alignUniform ?? cfg.eval.alignUniform) {
      Object.assign(out, await alignUniform((x) => method.features(x, 'projection'), test, { preset: cfg.augmentation, limit: cfg.eval.alignUniformLimit ?? 1000, seed: cfg.seed }));
    }
    return out;
  } finally {
    method.dispose();
  }
}

/** The method a run trains, built from its config and its dataset's shape (initial weights from cfg.seed). */
export function methodForRun(cfg: RunConfig, info: DatasetInfo): Method {
  return createMethod(
    { method: cfg.method, encoder: cfg.encoder, optimizer: cfg.optimizer },
    { imageSize: info.imageSize, channels: info.channels, numClasses: info.numClasses },
    cfg.seed,
  );
}

/** Alignment and uniformity of fn's features of two augmented views of the first `limit` images. */
async function alignUniform(
  fn: FeatureFn,
  set: ImageSet,
  opts: Parameters<typeof extractViewPairs>[2],
): Promise<{ alignment: number; uniformity: number }> {
  const pairs = await extractViewPairs(fn, set, opts);
  try {
    return { alignment: await alignment(pairs.x, pairs.y), uniformity: await uniformity(pairs.x) };
  } finally {
    pairs.x.dispose();
    pairs.y.dispose();
  }
}
