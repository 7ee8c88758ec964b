/**
 * metrics.jsonl: one JSON object per line, `{type: 'epoch', epoch, loss, ...}` after every
 * training epoch and `{type: 'eval', epoch, knnAcc, ...}` after every evaluation (epoch is the
 * number of completed epochs). On resume the lines written after the checkpoint are dropped, so
 * a killed-and-resumed run has exactly one line per epoch.
 */
import * as fs from 'node:fs';
import { appendLine, writeFileAtomic } from '../util/fsx';

export interface MetricsRecord {
  type: 'epoch' | 'eval';
  epoch: number;
  /** Set on the evaluation after the last epoch. */
  final?: boolean;
  [key: string]: unknown;
}

export function readMetrics(file: string): MetricsRecord[] {
  if (!fs.existsSync(file)) return [];
  const out: MetricsRecord[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as MetricsRecord);
    } catch {
      // A line cut by a kill mid-append: ignore it (it is rewritten on resume).
    }
  }
  return out;
}

export function appendMetrics(file: string, rec: MetricsRecord): void {
  appendLine(file, JSON.stringify(rec));
}

/** Keep only what was true at a checkpoint of `epoch` completed epochs. */
export function truncateMetrics(file: string, epoch: number): MetricsRecord[] {
  const keep = readMetrics(file).filter((r) => r.epoch <= epoch && !r.final);
  writeFileAtomic(file, keep.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return keep;
}
