import type * as Dfd from 'danfojs-node';
import { loadDanfo } from '../util/danfo';
import { applyOverrides, runId, validateConfig, type RunConfig } from './config';
import { runDirOf } from './paths';
import { readSummary, runStatus, type RunSummary } from './records';
import { run, type RunOptions, type RunResult } from './runner';

export type Grid = Record<string, unknown[]>;
export type ParamValue = string | number | boolean;

/** One point of a list sweep: overrides (dotted paths) and the labels it gets in reports. */
export interface PointSpec {
  overrides: Record<string, unknown>;
  params?: Record<string, ParamValue>;
}

export interface SweepPoint {
  index: number;
  overrides: Record<string, unknown>;
  params: Record<string, ParamValue>;
  config: RunConfig;
  runId: string;
  dir: string;
}

/** Cartesian product of a grid, last key varying fastest. */
export function expandGrid(grid: Grid): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    if (!Array.isArray(values) || values.length === 0) throw new Error(`grid.${key} must be a non-empty list of values`);
    const next: Record<string, unknown>[] = [];
    for (const o of out) for (const v of values) next.push({ ...o, [key]: v });
    out = next;
  }
  return out;
}

function paramName(key: string): string {
  return key.split('.').pop() as string;
}

function isParamValue(v: unknown): v is ParamValue {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function paramsOf(overrides: Record<string, unknown>): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(overrides)) if (isParamValue(v) && k !== 'name') out[paramName(k)] = v;
  return out;
}

function describe(params: Record<string, ParamValue>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** The runs of a sweep, in index order. */
export function sweepPoints(base: RunConfig, spec: Grid | (PointSpec | Record<string, unknown>)[], resultsDir?: string): SweepPoint[] {
  const list: PointSpec[] = Array.isArray(spec)
    ? spec.map((p) => ('overrides' in p && typeof p.overrides === 'object' ? (p as PointSpec) : { overrides: p as Record<string, unknown> }))
    : expandGrid(spec).map((o) => ({ overrides: o }));
  const points = list.map((p, index) => {
    const params = { ...paramsOf(p.overrides), ...(p.params ?? {}) };
    const named = applyOverrides(base, p.overrides);
    const config = validateConfig({
      ...named,
      name: p.overrides.name !== undefined ? named.name : `${base.name}${Object.keys(params).length ? `-${describe(params)}` : ''}`,
      params: { ...(base.params ?? {}), ...params },
    });
    const id = runId(config);
    return { index, overrides: p.overrides, params, config, runId: id, dir: runDirOf(resultsDir, config.experiment, id) };
  });
  const seen = new Map<string, number>();
  for (const p of points) {
    const prev = seen.get(p.runId);
    if (prev !== undefined) throw new Error(`sweep points ${prev} and ${p.index} are the same run (${p.runId})`);
    seen.set(p.runId, p.index);
  }
  return points;
}

export interface SweepOptions extends RunOptions {
  /** Run only these point indices (one process per index in a job array). */
  index?: number | number[];
  /** Called before each point runs. */
  onPoint?: (p: SweepPoint, total: number) => void;
}

export type SweepRow = Record<string, ParamValue | null>;

export interface SweepResult {
  points: SweepPoint[];
  runs: RunResult[];
  /** One row per point: point (its index), run id, status, params, then the summary metrics. */
  rows: SweepRow[];
  /**
   * The same rows as a danfojs DataFrame, built on first access: danfojs-node carries its own
   * TF.js copy that re-registers the cpu kernels, so it is loaded only when asked for.
   */
  readonly df: Dfd.DataFrame;
}

/** A report row of one sweep point (status 'pending' when it has no summary yet). */
export function rowOf(p: Pick<SweepPoint, 'index' | 'runId' | 'params' | 'dir'>, summary?: RunSummary): SweepRow {
  // 'point', not 'index': a column named 'index' breaks danfojs' table printing.
  const row: SweepRow = { point: p.index, runId: p.runId, status: runStatus(summary), ...p.params };
  if (summary) {
    for (const k of [
      'method',
      'epochs',
      'seed',
      'finalLoss',
      'proxyAcc',
      'knnAcc',
      'knnAccMax',
      'linearAcc',
      'alignment',
      'uniformity',
      'imagesPerSec',
      'trainSeconds',
      'evalSeconds',
      'sessions',
      'backend',
    ] as const) {
      const v = summary[k];
      if (!(k in row)) row[k] = v === undefined ? null : (v as ParamValue | null);
    }
  }
  return row;
}

/**
 * danfojs-node, loaded on first use and with TF.js's kernel registry restored afterwards (its own
 * TF.js copy re-registers every kernel; see src/util/danfo.ts).
 */
export function danfo(): typeof Dfd {
  return loadDanfo();
}

/** Rows as a DataFrame (danfojs needs at least one row; an empty sweep gives an empty frame). */
export function toDataFrame(rows: SweepRow[]): Dfd.DataFrame {
  const dfd = danfo();
  if (!rows.length) return new dfd.DataFrame([]);
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  // Same columns in every row (danfojs infers columns from the first row).
  const full = rows.map((r) => Object.fromEntries(cols.map((c) => [c, r[c] ?? null])));
  return new dfd.DataFrame(full);
}

/**
 * Run a sweep: every point (or only `opts.index`), skipping complete runs and resuming an
 * unfinished one. Returns the rows of all points (pending ones included) and a DataFrame.
 * (src/results' `sweep` runs this and adds the table of the points' records.)
 */
export async function runSweep(base: RunConfig, spec: Grid | (PointSpec | Record<string, unknown>)[], opts: SweepOptions = {}): Promise<SweepResult> {
  const points = sweepPoints(base, spec, opts.resultsDir);
  const wanted = opts.index === undefined ? points.map((p) => p.index) : Array.isArray(opts.index) ? opts.index : [opts.index];
  for (const i of wanted) {
    if (!Number.isInteger(i) || i < 0 || i >= points.length) {
      throw new Error(`--index ${i} is out of range: this sweep has ${points.length} points (0..${points.length - 1})`);
    }
  }
  const runs: RunResult[] = [];
  for (const i of wanted) {
    const p = points[i];
    opts.onPoint?.(p, points.length);
    const { index: _i, onPoint: _o, ...runOpts } = opts;
    runs.push(await run(p.config, runOpts));
  }
  const rows = points.map((p) => rowOf(p, readSummary(p.dir)));
  return withLazyFrame({ points, runs, rows });
}

function withLazyFrame(r: Omit<SweepResult, 'df'>): SweepResult {
  let df: Dfd.DataFrame | undefined;
  return Object.defineProperty(r, 'df', { enumerable: true, get: () => (df ??= toDataFrame(r.rows)) }) as SweepResult;
}

/** Rows of a sweep from what is on disk (no training): merges runs written by separate processes. */
export function sweepRows(base: RunConfig, spec: Grid | (PointSpec | Record<string, unknown>)[], resultsDir?: string): SweepRow[] {
  return sweepPoints(base, spec, resultsDir).map((p) => rowOf(p, readSummary(p.dir)));
}
