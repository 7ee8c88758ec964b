/**
 * What a run carries from one session to the next, saved as the `runner` field of its checkpoint
 * meta (see checkpoint.ts):
 *   {loaderSeed, trainSeconds, evalSeconds, images, sessions}            the run state
 *   + {diverged}                                                         at the end of an epoch
 *   + {partial: {epoch, step, lossSum, metricSums, seconds}}             inside an epoch
 * and the tally of the epoch being trained, which becomes `partial` at a mid-epoch checkpoint and
 * the epoch's metrics.jsonl record at its end.
 */
import type { StepResult } from '../types';

/** Totals over every session of a run. */
export interface RunState {
  /** Seed of the training loader (drawn from the config seed; a checkpoint must match it). */
  loaderSeed: number;
  trainSeconds: number;
  evalSeconds: number;
  /** Training images seen (steps x batch size). */
  images: number;
  /** Process sessions the run took so far (1 + resumes). */
  sessions: number;
}

/** Progress inside an epoch, saved with a mid-epoch checkpoint. */
export interface PartialEpoch {
  /** 0-based epoch being trained. */
  epoch: number;
  /** Steps of it done. */
  step: number;
  lossSum: number;
  metricSums: Record<string, number>;
  /** Wall time of the epoch so far. */
  seconds: number;
}

export function newRunState(loaderSeed: number): RunState {
  return { loaderSeed, trainSeconds: 0, evalSeconds: 0, images: 0, sessions: 0 };
}

const isNumber = (v: unknown): v is number => typeof v === 'number';
const numberOr = (v: unknown, fallback: number): number => (isNumber(v) ? v : fallback);

function partialOf(v: unknown): PartialEpoch | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const p = v as Record<string, unknown>;
  if (!isNumber(p.epoch) || !isNumber(p.step) || !isNumber(p.lossSum) || !isNumber(p.seconds)) return undefined;
  const metricSums: Record<string, number> = {};
  if (typeof p.metricSums === 'object' && p.metricSums !== null) {
    for (const [k, s] of Object.entries(p.metricSums)) if (isNumber(s)) metricSums[k] = s;
  }
  return { epoch: p.epoch, step: p.step, lossSum: p.lossSum, metricSums, seconds: p.seconds };
}

/**
 * The run state and mid-epoch progress saved in a checkpoint's `runner` field; fields it lacks
 * keep their values in `fresh`. Throws when it was made with another loader seed.
 */
export function restoreRunState(runner: Record<string, unknown>, fresh: RunState, where: string): { state: RunState; partial?: PartialEpoch } {
  const state: RunState = {
    loaderSeed: numberOr(runner.loaderSeed, fresh.loaderSeed),
    trainSeconds: numberOr(runner.trainSeconds, fresh.trainSeconds),
    evalSeconds: numberOr(runner.evalSeconds, fresh.evalSeconds),
    images: numberOr(runner.images, fresh.images),
    sessions: numberOr(runner.sessions, fresh.sessions),
  };
  if (state.loaderSeed !== fresh.loaderSeed) throw new Error(`${where}: checkpoint was made with another loader seed`);
  return { state, partial: partialOf(runner.partial) };
}

/** The checkpoint's `runner` field: the state and, inside an epoch, its progress (else whether it diverged). */
export function runnerMeta(state: RunState, at: { partial: PartialEpoch } | { diverged: boolean }): Record<string, unknown> {
  return { ...state, ...at };
}

/** Loss, metric sums and wall time of the epoch being trained (continued from a saved `PartialEpoch`). */
export class EpochTally {
  step: number;
  lossSum: number;
  readonly metricSums: Record<string, number>;
  /** Learning rate of the last step. */
  lr: number;
  /** Where this session's part of the epoch went: waiting for the loader's next augmented batch, and the training step. */
  dataSeconds = 0;
  stepSeconds = 0;
  private readonly t0: number;
  private tMark: number;
  private tStep = 0;

  constructor(
    readonly epoch: number,
    lr: number,
    resume?: PartialEpoch,
  ) {
    this.t0 = Date.now() - (resume ? resume.seconds * 1000 : 0);
    this.step = resume?.step ?? 0;
    this.lossSum = resume?.lossSum ?? 0;
    this.metricSums = { ...(resume?.metricSums ?? {}) };
    this.lr = lr;
    this.tMark = Date.now();
  }

  /** Seconds since the epoch began (including the saved part). */
  get seconds(): number {
    return (Date.now() - this.t0) / 1000;
  }

  /** A batch has arrived: the time since the last step went to the loader. */
  batchArrived(): void {
    this.tStep = Date.now();
    this.dataSeconds += (this.tStep - this.tMark) / 1000;
  }

  /** The step on that batch is done. */
  stepDone(res: StepResult): void {
    this.stepSeconds += (Date.now() - this.tStep) / 1000;
    this.step++;
    this.lossSum += res.loss;
    for (const [k, v] of Object.entries(res.metrics)) this.metricSums[k] = (this.metricSums[k] ?? 0) + v;
  }

  /** Waiting for the next batch starts now. */
  nextBatch(): void {
    this.tMark = Date.now();
  }

  partial(): PartialEpoch {
    return { epoch: this.epoch, step: this.step, lossSum: this.lossSum, metricSums: { ...this.metricSums }, seconds: this.seconds };
  }

  /** Mean loss over the steps so far. */
  meanLoss(): number {
    return this.lossSum / Math.max(1, this.step);
  }

  /** Mean of each step metric over the steps so far. */
  means(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.metricSums)) out[k] = v / Math.max(1, this.step);
    return out;
  }
}
