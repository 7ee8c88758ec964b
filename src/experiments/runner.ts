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
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { backendReport, initBackend } from '../backend/init';
import { disposeBatch, loadDataset, type Loader } from '../data';
import { learningRateAt } from '../optim';
import type { DatasetConfig, ImageSet, Method, Split, StepResult } from '../types';
import { Rng } from '../util/rng';
import { readJson, writeJsonAtomic } from '../util/fsx';
import { cleanCheckpointTemps, disposeState, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { canonicalJson, configWarnings, runId as runIdOf, validateConfig, type RunConfig } from './config';
import { finalEvaluation, methodForRun, monitorPass, finalRecord, trainLoader, type EvalSubject, type FinalEvaluation } from './evaluation';
import { appendMetrics, readMetrics, truncateMetrics, type MetricsRecord } from './metrics-log';
import { acquireRunLock, LockHeldError, lockState, type RunLock } from './lock';
import { FILES, runDirOf } from './paths';
import { readSummary, type RunSummary } from './records';
import { ProgressBar, type ProgressEvent } from './progress';
import { EpochTally, newRunState, restoreRunState, runnerMeta, type PartialEpoch, type RunState } from './run-state';

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
export function withDataRoot(cfg: RunConfig, dataDir?: string): RunConfig {
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

/**
 * The training loop of one session: epochs, batches, steps, mid-epoch and end-of-epoch
 * checkpoints, progress; then the final evaluation and summary once every epoch is done.
 */
async function runLocked(cfg: RunConfig, id: string, dir: string, opts: RunOptions, lock: RunLock, interrupt: Interrupt): Promise<RunResult> {
  if (fs.existsSync(path.join(dir, FILES.summary))) {
    // Finished by another process while this one waited for the backend.
    return { runId: id, dir, summary: readSummary(dir), resumedFrom: cfg.epochs, skipped: true };
  }
  const s = await Session.open(cfg, id, dir, opts, lock, interrupt);
  try {
    const { method, loader, steps, progress } = s;
    const stepEvery = cfg.checkpointEverySteps ?? 0;
    const every = cfg.checkpointEvery ?? 1;
    let diverged = false;
    for (let epoch = s.startEpoch; epoch < s.stopAt && !diverged; epoch++) {
      method.setEpoch(epoch);
      const ep = new EpochTally(epoch, cfg.optimizer.lr, s.resumeInside(epoch));
      for await (const batch of loader.epoch(epoch, ep.step)) {
        ep.batchArrived();
        let res: StepResult;
        try {
          ep.lr = learningRateAt(cfg.schedule, cfg.optimizer.lr, epoch, ep.step, steps, cfg.epochs);
          method.setLearningRate(ep.lr);
          res = await method.trainStep(batch);
          s.images += batch.size;
        } finally {
          disposeBatch(batch);
        }
        ep.stepDone(res);
        if (!Number.isFinite(res.loss)) {
          diverged = true;
          s.bar.log(`${id}: loss is ${res.loss} at epoch ${epoch + 1} step ${ep.step}; stopping (diverged)`);
          break;
        }
        // Mid-epoch checkpoint: the completed-epoch count stays `epoch`; the step and sums travel along.
        if (stepEvery > 0 && ep.step % stepEvery === 0 && ep.step < steps) await s.checkpoint(epoch, { partial: ep.partial() });
        const elapsed = ep.seconds;
        const perStep = elapsed / ep.step;
        lock.touch();
        progress.emit('train', epoch + 1, {
          step: ep.step,
          loss: ep.lossSum / ep.step,
          lr: ep.lr,
          imagesPerSec: (ep.step * cfg.batchSize) / Math.max(elapsed, 1e-9),
          etaSec: (steps - ep.step) * perStep + (cfg.epochs - epoch - 1) * steps * perStep,
        });
        await tick();
        s.stopIfInterrupted();
        ep.nextBatch();
      }
      const end = await s.endEpoch(ep, diverged);
      s.stopIfInterrupted();
      progress.emit('epoch', epoch + 1, {
        step: ep.step,
        loss: end.loss,
        lr: ep.lr,
        imagesPerSec: end.imagesPerSec,
        etaSec: (cfg.epochs - epoch - 1) * end.seconds,
        metrics: end.shown,
      });
      if (diverged || (epoch + 1) % every === 0 || epoch + 1 === s.stopAt) await s.checkpoint(epoch + 1, { diverged });
    }
    return await s.finish(diverged);
  } finally {
    s.close();
  }
}

/** The fields of a progress event that vary; the others come from the run. */
type ProgressFields = Partial<Pick<ProgressEvent, 'step' | 'loss' | 'lr' | 'imagesPerSec' | 'etaSec' | 'metrics' | 'message'>>;

/** Progress events of one run, to the bar and to `onProgress`. */
class RunProgress {
  constructor(
    private readonly bar: ProgressBar,
    private readonly onProgress: RunOptions['onProgress'],
    private readonly run: { runId: string; epochs: number; steps: number },
  ) {}

  /** An event with no loss, lr or ETA unless given. Steps redraw the bar at its pace; evaluations at once. */
  emit(phase: ProgressEvent['phase'], epoch: number, fields: ProgressFields = {}): void {
    const { runId, epochs, steps } = this.run;
    const p: ProgressEvent = {
      phase,
      runId,
      epoch,
      epochs,
      step: 0,
      steps,
      loss: NaN,
      lr: NaN,
      imagesPerSec: 0,
      etaSec: NaN,
      metrics: {},
      ...fields,
    };
    // Epoch ends and the end of the run are logged as lines; the bar shows steps and evaluations.
    if (phase === 'train' || phase === 'eval') this.bar.update(p, phase !== 'train');
    this.onProgress?.(p);
  }
}

/** An epoch's end as the loop reports it. */
interface EpochEnd {
  loss: number;
  imagesPerSec: number;
  seconds: number;
  /** Epoch means, and the monitor's kNN accuracy when it ran. */
  shown: Record<string, number>;
}

/**
 * One process's session of a run, under its lock: the data, method and loader, the run state
 * restored from the checkpoint, and every write of the run folder. Every write is preceded by
 * lock.verify(): a process that lost the lock (taken over as stale while it was paused, or by
 * hand) stops without writing.
 */
class Session {
  readonly method: Method;
  readonly loader: Loader;
  readonly steps: number;
  readonly bar: ProgressBar;
  readonly progress: RunProgress;
  /** Epochs are trained from startEpoch up to (not including) stopAt in this session. */
  readonly startEpoch: number;
  readonly stopAt: number;
  /** Training images of this session. */
  images = 0;
  private readonly started = Date.now();
  private readonly subject: EvalSubject;
  private readonly metricsFile: string;
  /** Set when the checkpoint was taken inside an epoch: where to continue and the epoch's sums so far. */
  private partial: PartialEpoch | undefined;
  /** What the last checkpoint holds: where an interrupted run resumes. */
  private saved: { epoch: number; step: number };

  private constructor(
    readonly cfg: RunConfig,
    readonly id: string,
    readonly dir: string,
    private readonly lock: RunLock,
    private readonly interrupt: Interrupt,
    private readonly state: RunState,
    parts: { opts: RunOptions; bar: ProgressBar; subject: EvalSubject; loader: Loader; startEpoch: number; partial?: PartialEpoch },
  ) {
    this.bar = parts.bar;
    this.subject = parts.subject;
    this.method = parts.subject.method;
    this.loader = parts.loader;
    this.steps = parts.loader.stepsPerEpoch;
    this.startEpoch = parts.startEpoch;
    this.partial = parts.partial;
    this.saved = { epoch: parts.startEpoch, step: parts.partial?.step ?? 0 };
    const max = parts.opts.maxEpochs;
    this.stopAt = max !== undefined ? Math.min(cfg.epochs, parts.startEpoch + max) : cfg.epochs;
    this.metricsFile = path.join(dir, FILES.metrics);
    this.progress = new RunProgress(parts.bar, parts.opts.onProgress, { runId: id, epochs: cfg.epochs, steps: this.steps });
  }

  /** Writes config.json, loads the data, builds the method and resumes it from the checkpoint when there is one. */
  static async open(cfg: RunConfig, id: string, dir: string, opts: RunOptions, lock: RunLock, interrupt: Interrupt): Promise<Session> {
    const { dataRoot: _root, ...datasetForFile } = cfg.dataset;
    lock.verify();
    writeJsonAtomic(path.join(dir, FILES.config), { ...cfg, dataset: datasetForFile });
    cleanCheckpointTemps(dir);
    const bar = new ProgressBar(opts.quiet ? null : process.stderr);
    const train = await loadDatasetCached(cfg.dataset, 'train');
    const test = await loadDatasetCached(cfg.dataset, 'test');
    const method = methodForRun(cfg, train.info);
    try {
      const metricsFile = path.join(dir, FILES.metrics);
      const fresh = newRunState(new Rng(cfg.seed).nextUint32());
      let resumed: { state: RunState; partial?: PartialEpoch } = { state: fresh };
      let startEpoch = 0;
      const ck = loadCheckpoint(dir);
      if (ck) {
        try {
          method.setState(ck.state);
        } finally {
          disposeState(ck.state);
        }
        startEpoch = ck.meta.epoch;
        resumed = restoreRunState(ck.meta.runner, fresh, dir);
        lock.verify();
        truncateMetrics(metricsFile, startEpoch);
        bar.log(`${id}: resuming after epoch ${startEpoch}/${cfg.epochs}${resumed.partial ? `, step ${resumed.partial.step}` : ''}`);
      } else {
        lock.verify();
        if (fs.existsSync(metricsFile)) fs.rmSync(metricsFile);
      }
      resumed.state.sessions += 1;
      const loader = trainLoader(cfg, train, method.viewsPerImage, resumed.state.loaderSeed);
      if (!(loader.stepsPerEpoch > 0)) {
        throw new Error(`batchSize ${cfg.batchSize} is larger than the ${train.n} training images (no full batch per epoch)`);
      }
      const subject: EvalSubject = { method, train, test, cfg, batchSize: cfg.eval.batchSize ?? 256 };
      return new Session(cfg, id, dir, lock, interrupt, resumed.state, { opts, bar, subject, loader, startEpoch, partial: resumed.partial });
    } catch (e) {
      bar.end();
      method.dispose();
      throw e;
    }
  }

  close(): void {
    this.bar.end();
    this.method.dispose();
  }

  /** The saved progress inside `epoch` when the run resumes there (given once). */
  resumeInside(epoch: number): PartialEpoch | undefined {
    const p = this.partial?.epoch === epoch ? this.partial : undefined;
    this.partial = undefined;
    return p;
  }

  stopIfInterrupted(): void {
    if (this.interrupt.signal) throw new RunInterrupted(this.interrupt.signal, this.saved.epoch, this.dir, this.saved.step);
  }

  /** Saves the method and the run state after `epoch` completed epochs (and, inside the next one, its progress). */
  async checkpoint(epoch: number, at: { partial: PartialEpoch } | { diverged: boolean }): Promise<void> {
    const state = this.method.getState(); // copies, owned here
    try {
      this.lock.verify();
      await saveCheckpoint(this.dir, state, { epoch, runId: this.id, runner: runnerMeta(this.state, at) });
      this.saved = { epoch, step: 'partial' in at ? at.partial.step : 0 };
    } finally {
      disposeState(state);
    }
  }

  private append(rec: MetricsRecord): void {
    this.lock.verify();
    appendMetrics(this.metricsFile, rec);
  }

  private write(file: string, value: unknown): void {
    this.lock.verify();
    writeJsonAtomic(path.join(this.dir, file), value);
  }

  /** Adds the epoch's record to metrics.jsonl, then the kNN monitor's when it is due, and logs the epoch. */
  async endEpoch(ep: EpochTally, diverged: boolean): Promise<EpochEnd> {
    const { cfg } = this;
    const seconds = ep.seconds;
    this.state.trainSeconds += seconds;
    this.state.images += ep.step * cfg.batchSize;
    const means = ep.means();
    const loss = ep.meanLoss();
    const imagesPerSec = (ep.step * cfg.batchSize) / Math.max(seconds, 1e-9);
    const { dataSeconds, stepSeconds } = ep;
    this.append({
      type: 'epoch',
      epoch: ep.epoch + 1,
      loss,
      lr: ep.lr,
      steps: ep.step,
      seconds,
      imagesPerSec,
      dataSeconds,
      stepSeconds,
      ...means,
      ...(diverged ? { diverged: true } : {}),
    });
    const shown: Record<string, number> = { ...means };
    const done = ep.epoch + 1;
    if (!diverged && cfg.eval.knnEvery > 0 && done % cfg.eval.knnEvery === 0 && done < cfg.epochs) {
      const t0 = Date.now();
      this.progress.emit('eval', done, { message: 'kNN monitor' });
      const rec = await monitorPass(this.subject, done);
      this.state.evalSeconds += (Date.now() - t0) / 1000;
      this.append(rec);
      shown.knnAcc = rec.knnAcc;
    }
    this.bar.end();
    this.bar.log(
      `${this.id} epoch ${done}/${cfg.epochs} loss ${loss.toFixed(4)} ${imagesPerSec.toFixed(0)} img/s ${seconds.toFixed(1)}s` +
        Object.entries(shown)
          .filter(([k]) => k === 'knnAcc' || k === 'proxyAcc')
          .map(([k, v]) => ` ${k} ${v.toFixed(4)}`)
          .join(''),
    );
    return { loss, imagesPerSec, seconds, shown };
  }

  /** Once every epoch is trained (or the run diverged): the final evaluation and summary.json. */
  async finish(divergedNow: boolean): Promise<RunResult> {
    const { cfg, id, dir } = this;
    const epochRecs = readMetrics(this.metricsFile).filter((r) => r.type === 'epoch');
    const diverged = divergedNow || epochRecs.some((r) => r.diverged === true);
    const done = epochRecs.length;
    if (!diverged && done < cfg.epochs) return { runId: id, dir, resumedFrom: this.startEpoch, skipped: false };
    const finals = diverged ? undefined : await this.finalEvaluation(done);
    const summary = this.summary(done, diverged, epochRecs[epochRecs.length - 1], finals);
    this.write(FILES.summary, summary);
    this.progress.emit('done', done, {
      step: this.steps,
      loss: summary.finalLoss ?? NaN,
      imagesPerSec: summary.imagesPerSec ?? 0,
      etaSec: 0,
      metrics: summary.knnAcc !== null ? { knnAcc: summary.knnAcc } : {},
    });
    this.bar.log(
      `${id} done: knnAcc ${summary.knnAcc?.toFixed(4) ?? '-'}` +
        (summary.linearAcc !== null ? ` linearAcc ${summary.linearAcc.toFixed(4)}` : '') +
        ` (${((Date.now() - this.started) / 1000).toFixed(1)}s this session, ${this.images} images)`,
    );
    return { runId: id, dir, summary, resumedFrom: this.startEpoch, skipped: false };
  }

  /**
   * The final evaluation (repeated in full if a previous session was killed during it), its files
   * and its metrics.jsonl record. Its randomness (probe head, shuffles, view pairs, PCA start)
   * comes from the config seed only, so a resumed run and an uninterrupted one write the same summary.
   */
  private async finalEvaluation(done: number): Promise<FinalEvaluation> {
    const { eval: plan } = this.cfg;
    const t0 = Date.now();
    const r = await finalEvaluation(this.subject, plan, (stage) => {
      this.stopIfInterrupted();
      if (stage === 'knn') this.progress.emit('eval', done, { message: 'kNN monitor' });
      if (stage === 'linear' && plan.linear) this.progress.emit('eval', done, { message: `linear probe (${plan.linear.protocol})` });
    });
    if (r.confusion) this.write(FILES.confusion, r.confusion);
    if (r.embeddings) this.write(FILES.embeddings, r.embeddings);
    this.state.evalSeconds += (Date.now() - t0) / 1000;
    this.stopIfInterrupted();
    this.append(finalRecord(done, r));
    return r;
  }

  private summary(done: number, diverged: boolean, last: MetricsRecord | undefined, finals: FinalEvaluation | undefined): RunSummary {
    const { cfg } = this;
    const knnAccs = readMetrics(this.metricsFile).flatMap((r) => (r.type === 'eval' && typeof r.knnAcc === 'number' ? [r.knnAcc] : []));
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    const { trainSeconds, evalSeconds, images, sessions } = this.state;
    const report = backendReport();
    return {
      runId: this.id,
      experiment: cfg.experiment,
      name: cfg.name,
      params: cfg.params ?? {},
      method: cfg.method.name,
      epochs: cfg.epochs,
      completedEpochs: done,
      seed: cfg.seed,
      finalLoss: num(last?.loss),
      proxyAcc: num(last?.proxyAcc),
      knnAcc: num(finals?.knn.accuracy),
      knnAccMax: knnAccs.length ? Math.max(...knnAccs) : null,
      linearAcc: num(finals?.linear?.accuracy),
      alignment: num(finals?.alignUniform?.alignment),
      uniformity: num(finals?.alignUniform?.uniformity),
      imagesPerSec: trainSeconds > 0 ? images / trainSeconds : null,
      trainSeconds,
      evalSeconds,
      sessions,
      diverged,
      backend: report?.backend ?? tf.getBackend(),
      device: report?.device ?? '',
      completedAt: new Date().toISOString(),
    };
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
  const method = methodForRun(cfg, train.info);
  try {
    try {
      method.setState(ck.state);
    } finally {
      disposeState(ck.state);
    }
    // Features are extracted at the evaluation default batch size (256), not eval.batchSize.
    const r = await finalEvaluation(
      { method, train, test, cfg },
      { linear: opts.linear ?? cfg.eval.linear, alignUniform: opts.alignUniform ?? cfg.eval.alignUniform },
    );
    return {
      runDir,
      epoch: ck.meta.epoch,
      knnAcc: r.knn.accuracy,
      ...(r.linear ? { linearAcc: r.linear.accuracy, linearProtocol: r.linear.protocol } : {}),
      ...(r.alignUniform ?? {}),
    };
  } finally {
    method.dispose();
  }
}
