/**
 * Run records: what one run folder holds once read (its config, its summary when finished, its
 * metrics log), the listing of an experiment's runs and of the experiments under a results root,
 * and one CSV row per run.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readJson } from '../util/fsx';
import type { RunConfig } from '../experiments/config';
import { readMetrics, type MetricsRecord } from '../experiments/metrics-log';
import { experimentDir, FILES, resultsRoot } from '../experiments/paths';
import { readSummary, runStatus, type RunSummary } from '../experiments/records';
import type { ParamValue } from '../experiments/sweep';

export type ReportRow = Record<string, ParamValue | null>;

export interface RunRecord {
  dir: string;
  runId: string;
  config: RunConfig;
  summary?: RunSummary;
  metrics: MetricsRecord[];
}

export const METRIC_COLUMNS = ['knnAcc', 'linearAcc', 'proxyAcc', 'alignment', 'uniformity', 'finalLoss'] as const;

/** The record of one run folder, or undefined when it holds no config.json (not started). */
export function readRunRecord(runDir: string): RunRecord | undefined {
  const cfgFile = path.join(runDir, FILES.config);
  if (!fs.existsSync(runDir) || !fs.statSync(runDir).isDirectory() || !fs.existsSync(cfgFile)) return undefined;
  return {
    dir: runDir,
    runId: path.basename(runDir),
    config: readJson<RunConfig>(cfgFile),
    summary: readSummary(runDir),
    metrics: readMetrics(path.join(runDir, FILES.metrics)),
  };
}

/** Every run folder (with a config.json) of one experiment. */
export function listRuns(resultsDir: string | undefined, experiment: string): RunRecord[] {
  const dir = experimentDir(resultsDir, experiment);
  if (!fs.existsSync(dir)) return [];
  const out: RunRecord[] = [];
  for (const id of fs.readdirSync(dir).sort()) {
    const r = readRunRecord(path.join(dir, id));
    if (r) out.push(r);
  }
  return out;
}

/** Experiments (folders holding at least one run) under the results root. */
export function listExperiments(resultsDir?: string): string[] {
  const root = resultsRoot(resultsDir);
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((e) => fs.statSync(path.join(root, e)).isDirectory() && listRuns(resultsDir, e).length > 0)
    .sort();
}

/** Only the records of the given run ids (a sweep's points), in that order. */
export function recordsOf(records: RunRecord[], runIds: string[]): RunRecord[] {
  const byId = new Map(records.map((r) => [r.runId, r]));
  return runIds.map((id) => byId.get(id)).filter((r): r is RunRecord => r !== undefined);
}

/** One CSV row per run: id, name, status, sweep params, metrics. */
export function runRow(r: RunRecord): ReportRow {
  const s = r.summary;
  const epochs = r.metrics.filter((m) => m.type === 'epoch').length;
  const row: ReportRow = {
    runId: r.runId,
    name: r.config.name,
    status: runStatus(s),
    method: r.config.method.name,
    ...(r.config.params ?? {}),
    seed: r.config.seed,
    epochs: r.config.epochs,
    completedEpochs: s ? s.completedEpochs : epochs,
  };
  for (const k of METRIC_COLUMNS) row[k] = s ? (s[k] ?? null) : null;
  row.knnAccMax = s?.knnAccMax ?? null;
  row.imagesPerSec = s?.imagesPerSec ?? null;
  row.trainSeconds = s?.trainSeconds ?? null;
  row.backend = s?.backend ?? null;
  return row;
}

/** Per-epoch history of a run (training lines and evaluations merged by epoch). */
export function runHistory(record: Pick<RunRecord, 'metrics'>): Record<string, number | undefined>[] {
  const byEpoch = new Map<number, Record<string, number | undefined>>();
  for (const m of record.metrics) {
    const rec = byEpoch.get(m.epoch) ?? { epoch: m.epoch };
    for (const [k, v] of Object.entries(m)) if (typeof v === 'number' && k !== 'epoch') rec[k] = v;
    byEpoch.set(m.epoch, rec);
  }
  return [...byEpoch.values()].sort((a, b) => (a.epoch as number) - (b.epoch as number));
}
