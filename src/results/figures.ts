/**
 * Figures of results: training curves of run records, final accuracy per group (a curve over one
 * numeric param, else bars), the paper's trend as a shape beside ours, alignment against
 * uniformity per group, and the 2-D PCA scatter of a run's test embeddings.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readJson } from '../util/fsx';
import { FILES } from '../experiments/paths';
import { ablationFigure, barFigure, curvesFigure, lineFigure, PALETTE, scatterByClassFigure, type PlotlyFigure } from '../plots/figure';
import type { ParamValue } from '../experiments/sweep';
import type { GroupRow } from './aggregate';
import { groupLabel, sweepAxis, varyingParams } from './labels';
import { runHistory, type RunRecord } from './records';

/** Training curves (one subplot per metric, one line per run) of runs read from disk. */
export function runCurvesFigure(records: readonly RunRecord[], metrics: string[] = ['loss', 'knnAcc'], opts: { title?: string; label?: (r: RunRecord) => string } = {}): PlotlyFigure {
  const runs = records.filter((r) => r.metrics.length).map((r) => ({ name: opts.label ? opts.label(r) : r.config.name, history: runHistory(r) }));
  if (!runs.length) throw new Error('runCurvesFigure: none of the runs has metrics yet');
  return curvesFigure(runs, metrics, { title: opts.title });
}

/** The figure of final accuracy per group: a curve when one numeric param varies, else bars. */
export function accuracyFigure(
  groups: GroupRow[],
  metric: 'knnAcc' | 'linearAcc',
  title: string,
  paper?: { points: { value: number; score: number }[]; name: string },
): PlotlyFigure | undefined {
  const usable = groups.filter((g) => typeof g[metric] === 'number');
  if (!usable.length) return undefined;
  const varying = varyingParams(usable);
  const errOf = (g: GroupRow) => (g.seeds > 1 && typeof g[`${metric}Std`] === 'number' ? (g[`${metric}Std`] as number) : undefined);
  if (varying.length === 1 && usable.every((g) => typeof g.params[varying[0]] === 'number') && usable.length >= 2) {
    const k = varying[0];
    const pp = paper?.points ?? [];
    const axis = sweepAxis(k, [...usable.map((g) => g.params[k] as number), ...pp.map((q) => q.value)]);
    const fig = ablationFigure(
      usable
        .filter((g) => !axis.log || axis.map(g.params[k] as number) > 0)
        .map((g) => ({ value: axis.map(g.params[k] as number), mean: g[metric] as number, std: errOf(g) })),
      {
        title,
        name: `ours: ${metric}`,
        logX: axis.log,
        x: { title: axis.title },
        y: { title: metric },
        ...(pp.length ? { paper: pp.map((q) => ({ value: axis.map(q.value), score: q.score })), paperName: paper?.name } : {}),
      },
    );
    return fig;
  }
  const labels = usable.map((g) => (Object.keys(g.params).length ? groupLabel(g.params, varying) : g.group));
  return barFigure(
    usable.map((g, i) => ({ name: labels[i], value: g[metric] as number, error: errOf(g) })),
    { title, y: { title: metric } },
  );
}

/**
 * The paper's trend beside ours as a shape, not as levels: each curve is its top-1 minus the best
 * point of its own sweep (percentage points), on one axis, so an ImageNet curve and a CIFAR subset
 * curve can be read side by side.
 */
export function trendShapeFigure(
  ours: { value: number; score: number }[],
  paper: { value: number; score: number }[],
  opts: { param: string; title: string; paperName: string; ourName: string },
): PlotlyFigure | undefined {
  if (ours.length < 2 || paper.length < 2) return undefined;
  const axis = sweepAxis(opts.param, [...ours.map((p) => p.value), ...paper.map((p) => p.value)]);
  const rel = (pts: { value: number; score: number }[]) => {
    const best = Math.max(...pts.map((p) => p.score));
    const sorted = pts.map((p) => ({ x: axis.map(p.value), y: Number((p.score - best).toFixed(3)) })).filter((p) => !axis.log || p.x > 0).sort((a, b) => a.x - b.x);
    return { x: sorted.map((p) => p.x), y: sorted.map((p) => p.y) };
  };
  const fig = lineFigure(
    [{ name: opts.ourName, ...rel(ours) }, { name: opts.paperName, ...rel(paper) }],
    { title: opts.title, x: { title: axis.title, type: axis.log ? 'log' : 'linear' }, y: { title: 'top-1 minus the sweep\'s best (points)' } },
  );
  (fig.data[1] as Record<string, unknown>).line = { dash: 'dash' };
  return fig;
}

/**
 * Wang & Isola's alignment (x, lower is better) against uniformity (y, lower is better), one
 * labelled marker per group: the better representations sit bottom-left.
 */
export function alignUniformFigure(groups: GroupRow[], label: (params: Record<string, ParamValue>) => string, opts: { title?: string } = {}): PlotlyFigure {
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

/** The 2-D PCA scatter of a run's test embeddings (embeddings.json written by the runner). */
export function embeddingFigure(runDir: string, opts: { title?: string } = {}): PlotlyFigure {
  const file = path.join(runDir, FILES.embeddings);
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: run with eval.embeddings > 0`);
  const e = readJson<{ points: number[][]; labels: number[]; classNames: string[]; explainedVariance?: number[] }>(file);
  if (!Array.isArray(e.points) || !Array.isArray(e.labels)) throw new Error(`${file}: needs arrays 'points' and 'labels'`);
  const ev = e.explainedVariance && e.explainedVariance.length >= 2 ? ` (${(100 * (e.explainedVariance[0] + e.explainedVariance[1])).toFixed(1)}% of variance)` : '';
  return scatterByClassFigure(e.points, e.labels, e.classNames ?? [], {
    title: opts.title ?? `PCA of ${e.points.length} test embeddings${ev}`,
    height: 460,
  });
}
