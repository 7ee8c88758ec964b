/**
 * Notebook glue between the experiments' on-disk results and the plots: live progress over a
 * sweep, training curves of runs, the per-point result table, our points for the paper
 * comparison and the 2-D embedding scatter. Only *types* come from ../experiments (which itself
 * imports the plots), so there is no runtime import cycle.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { GroupRow, RunRecord } from '../experiments';
import { sweepEta } from '../experiments/sweep-eta';
import { readJson } from '../util/fsx';
import { curvesFigure, scatterByClassFigure, PALETTE, type PlotlyFigure, type Series } from './figure';
import { progressDisplay, showHtml, type ProgressDisplay, type ProgressInfo } from './notebook';
import type { OurPoint } from './paper-numbers';
import type { Row } from './table';
import { escapeHtml } from './html';

export interface SweepProgress {
  /** Pass both to `sweep(..., {onPoint, onProgress})`. */
  onPoint: (p: { index: number; runId: string }, total: number) => void;
  onProgress: (e: ProgressInfo) => void;
  /** Closes the last point's display. */
  finish: () => void;
}

/**
 * One live progress display per sweep point (a point already complete on disk says so instead of
 * training again). Feed `onPoint` and `onProgress` to `sweep`.
 */
export function sweepProgressDisplay(opts: { minIntervalMs?: number } = {}): SweepProgress {
  let current: ProgressDisplay | undefined;
  let events = 0;
  let title = '';
  let pointId = '';
  const eta = sweepEta();
  const close = () => {
    if (current) current.finish(events ? 'done' : 'already complete on disk (skipped)');
    else if (title) showHtml(`<div style="font-family:monospace;font-size:12px">${escapeHtml(title)} ${escapeHtml(pointId)}: already complete on disk (skipped)</div>`, `${title} ${pointId}: already complete on disk (skipped)`);
    current = undefined;
    title = '';
  };
  return {
    onPoint: (p, total) => {
      close();
      events = 0;
      const line = eta.start(p.index, total);
      title = `point ${p.index + 1}/${total}${eta.perPoint !== undefined ? ` (${line.slice(line.indexOf(', ') + 2)})` : ''}`;
      pointId = p.runId;
    },
    onProgress: (e) => {
      events += 1;
      current ??= progressDisplay({ title, minIntervalMs: opts.minIntervalMs });
      current.onProgress(e);
    },
    finish: close,
  };
}

/** Only the records of the given run ids (a sweep's points), in that order. */
export function recordsOf(records: RunRecord[], runIds: string[]): RunRecord[] {
  const byId = new Map(records.map((r) => [r.runId, r]));
  return runIds.map((id) => byId.get(id)).filter((r): r is RunRecord => r !== undefined);
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

/** Training curves (one subplot per metric, one line per run) of runs read from disk. */
export function runCurvesFigure(records: RunRecord[], metrics: string[] = ['loss', 'knnAcc'], opts: { title?: string; label?: (r: RunRecord) => string } = {}): PlotlyFigure {
  const runs = records.filter((r) => r.metrics.length).map((r) => ({ name: opts.label ? opts.label(r) : r.config.name, history: runHistory(r) }));
  if (!runs.length) throw new Error('runCurvesFigure: none of the runs has metrics yet');
  return curvesFigure(runs, metrics, { title: opts.title });
}

/** Table rows of aggregated groups: the sweep params, seeds, then each metric's mean and std. */
export function groupTableRows(groups: GroupRow[], metrics: string[] = ['knnAcc', 'linearAcc', 'proxyAcc', 'alignment', 'uniformity', 'finalLoss']): Row[] {
  return groups.map((g) => {
    const row: Row = { ...g.params, seeds: g.seeds };
    for (const k of metrics) {
      if (g[k] === null || g[k] === undefined) continue;
      row[k] = g[k];
      if (g.seeds > 1) row[`${k} std`] = g[`${k}Std`];
    }
    if (typeof g.diverged === 'number' && g.diverged > 0) row.diverged = g.diverged;
    return row;
  });
}

/**
 * Our result per value of one swept param, for `comparisonRows`: groups matching `where`
 * (e.g. {sweep: 'K'}), keyed by `param`, with `metric`'s mean and std over seeds.
 */
export function ourPoints(
  groups: GroupRow[],
  param: string,
  metric: string,
  where: Record<string, string | number | boolean> = {},
  label?: (params: Record<string, string | number | boolean>) => string | number,
): OurPoint[] {
  return groups
    .filter((g) => Object.entries(where).every(([k, v]) => g.params[k] === v) && g.params[param] !== undefined)
    .map((g) => ({
      value: label ? label(g.params) : g.params[param],
      mean: typeof g[metric] === 'number' ? (g[metric] as number) : null,
      std: typeof g[`${metric}Std`] === 'number' ? (g[`${metric}Std`] as number) : null,
      seeds: g.seeds,
    }));
}

/** The 2-D PCA scatter of a run's test embeddings (embeddings.json written by the runner). */
export function embeddingFigure(runDir: string, opts: { title?: string } = {}): PlotlyFigure {
  const file = path.join(runDir, 'embeddings.json');
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: run with eval.embeddings > 0`);
  const e = readJson<{ points: number[][]; labels: number[]; classNames: string[]; explainedVariance?: number[] }>(file);
  if (!Array.isArray(e.points) || !Array.isArray(e.labels)) throw new Error(`${file}: needs arrays 'points' and 'labels'`);
  const ev = e.explainedVariance && e.explainedVariance.length >= 2 ? ` (${(100 * (e.explainedVariance[0] + e.explainedVariance[1])).toFixed(1)}% of variance)` : '';
  return scatterByClassFigure(e.points, e.labels, e.classNames ?? [], {
    title: opts.title ?? `PCA of ${e.points.length} test embeddings${ev}`,
    height: 460,
  });
}

function matches(g: GroupRow, where: Record<string, string | number | boolean>): boolean {
  return Object.entries(where).every(([k, v]) => g.params[k] === v);
}

/**
 * Ablation curves: one series per combination of the `by` params (e.g. base x encoder), x = the
 * numeric param `x`, y = the metric's mean with its std over seeds as error bars (when > 1 seed).
 */
export function groupSeries(
  groups: GroupRow[],
  x: string,
  metric: string,
  by: string[] = [],
  where: Record<string, string | number | boolean> = {},
): Series[] {
  const out = new Map<string, { x: number; y: number; e: number }[]>();
  for (const g of groups) {
    if (!matches(g, where)) continue;
    const xv = g.params[x];
    const yv = g[metric];
    if (typeof xv !== 'number' || typeof yv !== 'number') continue;
    const name = by.length ? by.map((k) => `${k}=${g.params[k]}`).join(', ') : metric;
    const list = out.get(name) ?? [];
    list.push({ x: xv, y: yv, e: g.seeds > 1 && typeof g[`${metric}Std`] === 'number' ? (g[`${metric}Std`] as number) : 0 });
    out.set(name, list);
  }
  if (!out.size) throw new Error(`groupSeries: no group has numeric '${x}' and '${metric}'${Object.keys(where).length ? ` where ${JSON.stringify(where)}` : ''}`);
  return [...out.entries()].map(([name, pts]) => {
    pts.sort((a, b) => a.x - b.x);
    const s: Series = { name, x: pts.map((p) => p.x), y: pts.map((p) => p.y) };
    if (pts.some((p) => p.e > 0)) s.error = pts.map((p) => p.e);
    return s;
  });
}

/**
 * Wang & Isola's alignment (x, lower is better) against uniformity (y, lower is better), one
 * labelled marker per group: the better representations sit bottom-left.
 */
export function alignUniformFigure(groups: GroupRow[], label: (params: Record<string, string | number | boolean>) => string, opts: { title?: string } = {}): PlotlyFigure {
  const usable = groups.filter((g) => typeof g.alignment === 'number' && typeof g.uniformity === 'number');
  if (!usable.length) throw new Error('alignUniformFigure: no group has alignment and uniformity (run with eval.alignUniform)');
  return {
    data: usable.map((g, i) => ({
      type: 'scatter', mode: 'markers+text', name: label(g.params), x: [g.alignment], y: [g.uniformity],
      text: [label(g.params)], textposition: 'top center', marker: { size: 10, color: PALETTE[i % PALETTE.length] },
    })),
    layout: {
      title: { text: opts.title ?? 'alignment vs uniformity (lower is better for both)' },
      xaxis: { title: { text: 'alignment  E||f(x)-f(y)||^2' }, automargin: true },
      yaxis: { title: { text: 'uniformity  log E exp(-2||f(x)-f(y)||^2)' }, automargin: true },
      showlegend: false, height: 420,
    },
  };
}
