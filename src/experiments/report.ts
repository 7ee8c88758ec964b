/**
 * `report`: merge whatever runs are on disk (written by one process or many) into one CSV per
 * experiment (`<results>/<experiment>/results.csv`) and one offline HTML page
 * (`<results>/report.html`) with tables and plotly figures: final accuracy per sweep point
 * (mean +- std over seeds), kNN accuracy and loss per epoch, and the 2-D embeddings.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  loadPaperNumbers,
  ablationFigure,
  barFigure,
  curvesFigure,
  escapeHtml,
  plotlyFigureHtml,
  scatterByClassFigure,
  standaloneHtml,
  tableHtml,
  toCsv,
  type PlotlyFigure,
} from '../plots';
import { readJson, writeFileAtomic } from '../util/fsx';
import type { RunConfig } from './config';
import { readMetrics, type MetricsRecord } from './metrics-log';
import { experimentDir, FILES, outputFile, resultsRoot } from './paths';
import type { RunSummary } from './runner';
import type { ParamValue } from './sweep';

export type ReportRow = Record<string, ParamValue | null>;

export interface RunRecord {
  dir: string;
  runId: string;
  config: RunConfig;
  summary?: RunSummary;
  metrics: MetricsRecord[];
}

export const METRIC_COLUMNS = ['knnAcc', 'linearAcc', 'proxyAcc', 'alignment', 'uniformity', 'finalLoss'] as const;

/** Every run folder (with a config.json) of one experiment. */
export function listRuns(resultsDir: string | undefined, experiment: string): RunRecord[] {
  const dir = experimentDir(resultsDir, experiment);
  if (!fs.existsSync(dir)) return [];
  const out: RunRecord[] = [];
  for (const id of fs.readdirSync(dir).sort()) {
    const runDir = path.join(dir, id);
    const cfgFile = path.join(runDir, FILES.config);
    if (!fs.statSync(runDir).isDirectory() || !fs.existsSync(cfgFile)) continue;
    const sumFile = path.join(runDir, FILES.summary);
    out.push({
      dir: runDir,
      runId: id,
      config: readJson<RunConfig>(cfgFile),
      summary: fs.existsSync(sumFile) ? readJson<RunSummary>(sumFile) : undefined,
      metrics: readMetrics(path.join(runDir, FILES.metrics)),
    });
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

/** One CSV row per run: id, name, status, sweep params, metrics. */
export function runRow(r: RunRecord): ReportRow {
  const s = r.summary;
  const epochs = r.metrics.filter((m) => m.type === 'epoch').length;
  const row: ReportRow = {
    runId: r.runId,
    name: r.config.name,
    status: s ? (s.diverged ? 'diverged' : 'complete') : 'pending',
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
export function aggregate(records: RunRecord[]): GroupRow[] {
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

/** Paper numbers for a one-parameter sweep, where data/paper-numbers.json has them (ImageNet scale). */
const PAPER_KEYS: Record<string, string> = { 'moco-queue/K': 'moco_queue_size', 'moco-queue/m': 'moco_momentum' };

export function paperPoints(experiment: string, param: string): { value: number; score: number }[] {
  const key = PAPER_KEYS[`${experiment.replace(/-(smoke|quick|paper)$/, '')}/${param}`];
  if (!key) return [];
  try {
    const ab = loadPaperNumbers()[key];
    if (!ab) return [];
    // Only entries that vary exactly this parameter and carry a number.
    return ab.entries
      .filter((e) => e.value !== null && Object.keys(e.params).length === 1 && typeof e.params[param] === 'number')
      .map((e) => ({ value: e.params[param] as number, score: e.value as number }));
  } catch {
    return [];
  }
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
  const keys = [...new Set(usable.flatMap((g) => Object.keys(g.params)))];
  const varying = keys.filter((k) => new Set(usable.map((g) => String(g.params[k]))).size > 1);
  if (varying.length === 1 && usable.every((g) => typeof g.params[varying[0]] === 'number') && usable.length >= 2) {
    const k = varying[0];
    const values = usable.map((g) => g.params[k] as number);
    const logX = values.every((v) => v > 0) && Math.max(...values) / Math.min(...values) >= 20;
    return ablationFigure(
      usable.map((g) => ({ value: g.params[k] as number, mean: g[metric] as number, std: (g[`${metric}Std`] as number) ?? 0 })),
      {
        title,
        name: metric,
        logX,
        x: { title: k },
        y: { title: metric },
        ...(paper && paper.points.length ? { paper: paper.points, paperName: paper.name } : {}),
      },
    );
  }
  return barFigure(
    usable.map((g) => ({ name: g.group, value: g[metric] as number, error: (g[`${metric}Std`] as number) ?? 0 })),
    { title, y: { title: metric } },
  );
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

/** Write one CSV per experiment and results/report.html; returns the paths and rows. */
export function writeReport(resultsDir?: string, opts: { experiments?: string[]; title?: string } = {}): ReportResult {
  const root = resultsRoot(resultsDir);
  const experiments = opts.experiments ?? listExperiments(resultsDir);
  const parts: string[] = [];
  const csv: Record<string, string> = {};
  const rowsBy: Record<string, ReportRow[]> = {};
  parts.push(`<p>Generated ${escapeHtml(new Date().toISOString())} from ${escapeHtml(root)}.</p>`);
  if (!experiments.length) parts.push('<p>No runs found.</p>');
  for (const exp of experiments) {
    const records = listRuns(resultsDir, exp);
    const { file: csvFile, rows } = writeExperimentCsv(resultsDir, exp, records);
    rowsBy[exp] = rows;
    csv[exp] = csvFile;
    const done = records.filter((r) => r.summary).length;
    parts.push(`<h2>${escapeHtml(exp)}</h2><p>${done} of ${records.length} runs complete. CSV: ${escapeHtml(path.relative(root, csvFile))}</p>`);
    const groups = aggregate(records);
    if (groups.length) {
      parts.push(
        tableHtml(
          groups.map((g) => {
            const out: Record<string, unknown> = { group: g.group, seeds: g.seeds };
            for (const k of METRIC_COLUMNS) {
              if (g[k] === null) continue;
              out[k] = g[k];
              out[`${k} std`] = g[`${k}Std`];
            }
            if (g.diverged) out.diverged = g.diverged;
            return out;
          }),
          { caption: `${exp}: mean and std over seeds` } as never,
        ),
      );
      // Ablations made of several one-parameter sweeps (moco-queue: K, then m) label each point
      // with {sweep: <param>}: one curve figure per sweep.
      const sweeps = [...new Set(groups.map((g) => g.params.sweep).filter((v): v is string => typeof v === 'string'))];
      const parts2 = sweeps.length
        ? sweeps.map((sw) => ({
            title: `${exp}: ${sw} sweep`,
            groups: groups
              .filter((g) => g.params.sweep === sw)
              .map((g) => ({ ...g, params: { [sw]: g.params[sw] as ParamValue } })),
          }))
        : [{ title: exp, groups }];
      for (const part of parts2) {
        for (const metric of ['knnAcc', 'linearAcc'] as const) {
          const param = Object.keys(part.groups[0]?.params ?? {})[0];
          const pp = sweeps.length && param ? paperPoints(exp, param) : [];
          const fig = accuracyFigure(part.groups, metric, `${part.title}: final ${metric}`, {
            points: pp,
            name: 'paper: ImageNet linear top-1 % (R50)',
          });
          if (fig) parts.push(plotlyFigureHtml(fig));
        }
      }
    }
    const curves = records
      .filter((r) => r.metrics.length)
      .map((r) => {
        const byEpoch = new Map<number, Record<string, number | undefined>>();
        for (const m of r.metrics) {
          const rec = byEpoch.get(m.epoch) ?? { epoch: m.epoch };
          for (const [k, v] of Object.entries(m)) if (typeof v === 'number' && k !== 'epoch') rec[k] = v;
          byEpoch.set(m.epoch, rec);
        }
        return { name: r.config.name, history: [...byEpoch.values()].sort((a, b) => (a.epoch as number) - (b.epoch as number)) };
      });
    if (curves.length) parts.push(plotlyFigureHtml(curvesFigure(curves, ['loss', 'knnAcc'], { title: `${exp}: training curves` })));
    const withEmb = records.filter((r) => fs.existsSync(path.join(r.dir, FILES.embeddings))).slice(0, 4);
    for (const r of withEmb) {
      const e = readJson<{ points: number[][]; labels: number[]; classNames: string[]; explainedVariance: number[] }>(path.join(r.dir, FILES.embeddings));
      parts.push(
        plotlyFigureHtml(
          scatterByClassFigure(e.points, e.labels, e.classNames, {
            title: `${r.config.name}: PCA of test embeddings (${(100 * (e.explainedVariance[0] + e.explainedVariance[1])).toFixed(1)}% of variance)`,
            height: 420,
          }),
        ),
      );
    }
    parts.push(tableHtml(rows, { caption: `${exp}: all runs` }));
  }
  const html = path.join(root, 'report.html');
  writeFileAtomic(html, standaloneHtml(opts.title ?? 'contrastive-workbench report', parts));
  return { html, csv, rows: rowsBy };
}
