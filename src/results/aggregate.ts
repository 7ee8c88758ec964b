/**
 * Aggregation over seeds: runs that differ only in their seed form one group, with the mean and
 * the standard deviation of each metric; and the views of groups that tables and figures take
 * (table rows, our points beside the papers', one series per combination of params).
 */
import type { Series } from '../plots/figure';
import type { OurPoint } from '../plots/paper-numbers';
import type { Row } from '../plots/table';
import type { ParamValue } from '../experiments/sweep';
import { METRIC_COLUMNS, type RunRecord } from './records';

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
function std(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

export interface GroupRow {
  group: string;
  params: Record<string, ParamValue>;
  seeds: number;
  [metric: string]: unknown;
}

/** Runs grouped by their sweep params except the seed: mean and std of each metric. */
export function aggregate(records: readonly RunRecord[]): GroupRow[] {
  const groups = new Map<string, { params: Record<string, ParamValue>; runs: RunRecord[] }>();
  for (const r of records) {
    if (!r.summary) continue;
    const params = Object.fromEntries(Object.entries(r.config.params ?? {}).filter(([k]) => k !== 'seed'));
    const key = Object.keys(params).length ? Object.entries(params).map(([k, v]) => `${k}=${v}`).join(', ') : r.config.name;
    if (!groups.has(key)) groups.set(key, { params, runs: [] });
    (groups.get(key) as { runs: RunRecord[] }).runs.push(r);
  }
  return [...groups.entries()].map(([group, g]) => {
    const row: GroupRow = { group, params: g.params, seeds: g.runs.length };
    for (const k of METRIC_COLUMNS) {
      const xs = g.runs.map((r) => r.summary?.[k]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      row[`${k}`] = xs.length ? mean(xs) : null;
      row[`${k}Std`] = xs.length > 1 ? std(xs) : null;
    }
    row.diverged = g.runs.filter((r) => r.summary?.diverged).length;
    return row;
  });
}

/** Table rows of aggregated groups: the sweep params, seeds, then each metric's mean and std. */
export function groupTableRows(groups: GroupRow[], metrics: string[] = [...METRIC_COLUMNS]): Row[] {
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

/** Whether the group's params hold every value of `where`. */
export function matches(g: GroupRow, where: Record<string, ParamValue>): boolean {
  return Object.entries(where).every(([k, v]) => g.params[k] === v);
}

/**
 * Our result per value of one swept param, for `comparisonRows`: groups matching `where`
 * (e.g. {sweep: 'K'}), keyed by `param`, with `metric`'s mean and std over seeds.
 */
export function ourPoints(
  groups: GroupRow[],
  param: string,
  metric: string,
  where: Record<string, ParamValue> = {},
  label?: (params: Record<string, ParamValue>) => string | number,
): OurPoint[] {
  return groups
    .filter((g) => matches(g, where) && g.params[param] !== undefined)
    .map((g) => ({
      value: label ? label(g.params) : g.params[param],
      mean: typeof g[metric] === 'number' ? (g[metric] as number) : null,
      std: typeof g[`${metric}Std`] === 'number' ? (g[`${metric}Std`] as number) : null,
      seeds: g.seeds,
    }));
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
  where: Record<string, ParamValue> = {},
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
