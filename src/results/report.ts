/**
 * `report`: merge whatever runs are on disk (written by one process or many) into one CSV per
 * experiment (`<results>/<experiment>/results.csv`) and one offline HTML page
 * (`<results>/report.html`) with tables and plotly figures: final accuracy per sweep point
 * (mean +- std over seeds), kNN accuracy and loss per epoch, and the 2-D embeddings.
 */
import * as fs from 'fs';
import * as path from 'path';
import { curvesFigure, scatterByClassFigure, type PlotlyFigure } from '../plots/figure';
import { escapeHtml, plotlyFigureHtml, standaloneHtml } from '../plots/html';
import { tableHtml, toCsv } from '../plots/table';
import { readJson, writeFileAtomic } from '../util/fsx';
import { FILES, outputFile, resultsRoot } from '../experiments/paths';
import type { ParamValue } from '../experiments/sweep';
import { aggregate, type GroupRow } from './aggregate';
import { accuracyFigure, trendShapeFigure } from './figures';
import { groupLabel, varyingParams } from './labels';
import { paperPoints, referenceRows } from './paper';
import { listExperiments, listRuns, METRIC_COLUMNS, runHistory, runRow, type ReportRow, type RunRecord } from './records';

/**
 * One sentence per sweep of what held: the best and worst group by kNN accuracy (and linear when
 * there is one), their gap, and the seeds behind it.
 */
export function sweepSummary(experiment: string, groups: GroupRow[]): string {
  const metric = groups.some((g) => typeof g.linearAcc === 'number') ? 'linearAcc' : 'knnAcc';
  const usable = groups.filter((g) => typeof g[metric] === 'number');
  if (!usable.length) return `${experiment}: no complete run yet.`;
  const vary = varyingParams(usable);
  const sorted = [...usable].sort((a, b) => (b[metric] as number) - (a[metric] as number));
  const pct = (v: unknown) => `${(100 * (v as number)).toFixed(1)}%`;
  const seeds = [...new Set(usable.map((g) => g.seeds))].sort((a, b) => a - b);
  const best = sorted[0];
  const worst = sorted[sorted.length - 1];
  const seedText = seeds.length === 1 ? `${seeds[0]} seed${seeds[0] > 1 ? 's' : ''} per point` : `${seeds.join('-')} seeds per point`;
  const name = (g: GroupRow) => (Object.keys(g.params).length ? groupLabel(g.params, vary) : g.group);
  if (sorted.length === 1) return `${experiment}: ${name(best)} ${metric} ${pct(best[metric])} (${seedText}).`;
  const gap = 100 * ((best[metric] as number) - (worst[metric] as number));
  const noise = seeds[0] < 2 ? '; one seed, so no run-to-run spread is measured' : '';
  return `${experiment}: best ${name(best)} (${metric} ${pct(best[metric])}), worst ${name(worst)} (${pct(worst[metric])}), a spread of ${gap.toFixed(1)} points over ${usable.length} points (${seedText}${noise}).`;
}

/** Write `<results>/<experiment>/results.csv` (one row per run on disk); returns the path and rows. */
export function writeExperimentCsv(resultsDir: string | undefined, experiment: string, records = listRuns(resultsDir, experiment)): { file: string; rows: ReportRow[] } {
  const rows = records.map(runRow);
  const file = outputFile(resultsDir, experiment, 'results.csv');
  writeFileAtomic(file, toCsv(rows));
  return { file, rows };
}

export interface ReportResult {
  html: string;
  csv: Record<string, string>;
  rows: Record<string, ReportRow[]>;
}

/** A table that scrolls inside its own box instead of widening the page. */
function scrollTable(rows: Record<string, unknown>[], caption: string): string {
  return `<div class="cwb-scroll">${tableHtml(rows as never, { caption } as never)}</div>`;
}

/** One experiment's section of report.html: its parts and the figures among them (for tests). */
export function experimentSection(exp: string, records: RunRecord[], csvFile: string, root: string): { parts: string[]; figures: PlotlyFigure[]; summary: string[] } {
  const parts: string[] = [];
  const figures: PlotlyFigure[] = [];
  const summary: string[] = [];
  const fig = (f: PlotlyFigure | undefined) => {
    if (!f) return;
    figures.push(f);
    parts.push(plotlyFigureHtml(f));
  };
  const done = records.filter((r) => r.summary).length;
  parts.push(`<h2 id="${escapeHtml(exp)}">${escapeHtml(exp)}</h2><p>${done} of ${records.length} runs complete. CSV: ${escapeHtml(path.relative(root, csvFile))}</p>`);
  const groups = aggregate(records);
  if (groups.length) {
    const multiSeed = groups.some((g) => g.seeds > 1);
    const vary = varyingParams(groups);
    parts.push(
      scrollTable(
        groups.map((g) => {
          const out: Record<string, unknown> = { group: Object.keys(g.params).length ? groupLabel(g.params, vary) : g.group, seeds: g.seeds };
          for (const k of METRIC_COLUMNS) {
            if (g[k] === null) continue;
            out[k] = g[k];
            if (multiSeed) out[`${k} std`] = g[`${k}Std`];
          }
          if (g.diverged) out.diverged = g.diverged;
          return out;
        }),
        multiSeed ? `${exp}: mean and std over seeds` : `${exp}: one seed per point (no spread to show)`,
      ),
    );
    // Ablations made of several one-parameter sweeps (moco-queue: K, then m) label each point
    // with {sweep: <param>}: one curve figure per sweep.
    const sweeps = [...new Set(groups.map((g) => g.params.sweep).filter((v): v is string => typeof v === 'string'))];
    const sections = sweeps.length
      ? sweeps.map((sw) => ({
          title: `${exp}: ${sw} sweep`,
          groups: groups.filter((g) => g.params.sweep === sw).map((g): GroupRow => ({ ...g, params: { [sw]: g.params[sw] as ParamValue } })),
        }))
      : [{ title: exp, groups }];
    if (sweeps.length) for (const sec of sections) summary.push(sweepSummary(sec.title, sec.groups));
    else summary.push(sweepSummary(exp, groups));
    for (const sec of sections) {
      const param = Object.keys(sec.groups[0]?.params ?? {})[0];
      const pp = sweeps.length && param ? paperPoints(exp, param) : [];
      for (const metric of ['knnAcc', 'linearAcc'] as const) {
        fig(accuracyFigure(sec.groups, metric, `${sec.title}: final ${metric}`, { points: pp, name: 'paper: ImageNet linear top-1 % (R50)' }));
      }
      if (pp.length >= 2 && param) {
        const metric = sec.groups.some((g) => typeof g.linearAcc === 'number') ? 'linearAcc' : 'knnAcc';
        const ours = sec.groups.filter((g) => typeof g[metric] === 'number' && typeof g.params[param] === 'number')
          .map((g) => ({ value: g.params[param] as number, score: 100 * (g[metric] as number) }));
        fig(trendShapeFigure(ours, pp, { param, title: `${sec.title}: the paper's trend as a shape (each curve minus its best point)`, paperName: 'paper (ImageNet, R50)', ourName: `ours (${metric})` }));
      }
    }
  }
  const refs = referenceRows(exp);
  if (refs.length) {
    parts.push(scrollTable(refs, `${exp}: reference numbers (their scale and protocol are in the setting and metric columns)`));
  }
  const curves = records
    .filter((r) => r.metrics.length)
    .map((r) => {
      const params = Object.fromEntries(Object.entries(r.config.params ?? {}).filter(([k]) => k !== 'sweep'));
      const label = Object.keys(params).length ? groupLabel(params) : r.config.name;
      return { name: label, history: runHistory(r) };
    });
  if (curves.length) fig(curvesFigure(curves, ['loss', 'knnAcc'], { title: `${exp}: training curves` }));
  const withEmb = records.filter((r) => fs.existsSync(path.join(r.dir, FILES.embeddings))).slice(0, 4);
  for (const r of withEmb) {
    const e = readJson<{ points: number[][]; labels: number[]; classNames: string[]; explainedVariance: number[] }>(path.join(r.dir, FILES.embeddings));
    fig(
      scatterByClassFigure(e.points, e.labels, e.classNames, {
        title: `${r.config.name}: PCA of test embeddings (${(100 * (e.explainedVariance[0] + e.explainedVariance[1])).toFixed(1)}% of variance)`,
        height: 420,
      }),
    );
  }
  parts.push(`<details><summary>${escapeHtml(exp)}: all runs</summary>${scrollTable(records.map(runRow), `${exp}: all runs`)}</details>`);
  return { parts, figures, summary };
}

/** Write one CSV per experiment and results/report.html; returns the paths and rows. */
export function writeReport(resultsDir?: string, opts: { experiments?: string[]; title?: string } = {}): ReportResult {
  const root = resultsRoot(resultsDir);
  const experiments = opts.experiments ?? listExperiments(resultsDir);
  const body: string[] = [];
  const summary: string[] = [];
  const csv: Record<string, string> = {};
  const rowsBy: Record<string, ReportRow[]> = {};
  for (const exp of experiments) {
    const records = listRuns(resultsDir, exp);
    const { file: csvFile, rows } = writeExperimentCsv(resultsDir, exp, records);
    rowsBy[exp] = rows;
    csv[exp] = csvFile;
    const sec = experimentSection(exp, records, csvFile, root);
    body.push(...sec.parts);
    summary.push(...sec.summary.map((t) => `<li><a href="#${escapeHtml(exp)}">${escapeHtml(exp)}</a>: ${escapeHtml(t.slice(t.indexOf(':') + 1).trim())}</li>`));
  }
  const head = [`<p>Generated ${escapeHtml(new Date().toISOString())} from the results folder <code>${escapeHtml(path.basename(root))}</code>.</p>`];
  if (!experiments.length) head.push('<p>No runs found.</p>');
  else head.push(`<h2>Summary</h2><ul class="cwb-summary">${summary.join('')}</ul>`);
  const html = path.join(root, 'report.html');
  writeFileAtomic(html, standaloneHtml(opts.title ?? 'contrastive-workbench report', [...head, ...body]));
  return { html, csv, rows: rowsBy };
}
