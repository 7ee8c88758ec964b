/**
 * What a run folder holds once written, and the one reader of its summary:
 *   summary.json  the final metrics (`RunSummary`); its presence marks the run finished
 * A run's status follows from it: 'complete', 'diverged' (finished early on a non-finite loss) or
 * 'pending' (no summary yet: not started, training, or interrupted).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJson } from '../util/fsx';
import { FILES } from './paths';

export interface RunSummary {
  runId: string;
  experiment: string;
  name: string;
  params: Record<string, string | number | boolean>;
  method: string;
  epochs: number;
  completedEpochs: number;
  seed: number;
  finalLoss: number | null;
  proxyAcc: number | null;
  knnAcc: number | null;
  /** Best kNN accuracy seen by the monitor. */
  knnAccMax: number | null;
  linearAcc: number | null;
  alignment: number | null;
  uniformity: number | null;
  /** Training images per second (mean over the epochs of all sessions). */
  imagesPerSec: number | null;
  trainSeconds: number;
  evalSeconds: number;
  /** Number of process sessions the run took (1 + resumes). */
  sessions: number;
  diverged: boolean;
  backend: string;
  device: string;
  completedAt: string;
}

export type RunStatus = 'complete' | 'diverged' | 'pending';

/** Summary of a finished run folder, or undefined when it has none yet. */
export function readSummary(dir: string): RunSummary | undefined {
  const f = path.join(dir, FILES.summary);
  return fs.existsSync(f) ? readJson<RunSummary>(f) : undefined;
}

/** The status of a run with this summary (undefined: not finished). */
export function runStatus(summary: RunSummary | undefined): RunStatus {
  return summary ? (summary.diverged ? 'diverged' : 'complete') : 'pending';
}
