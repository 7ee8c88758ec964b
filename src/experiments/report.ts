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
  paperValueText,
  ablationFigure,
  lineFigure,
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
import { readSummary, runStatus, type RunSummary } from './records';
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
    out.push({
      dir: runDir,
      runId: id,
      config: readJson<RunConfig>(cfgFile),
      summary: readSummary(runDir),
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

/** The ablation key of data/paper-numbers.json per experiment (without its budget suffix). */
export const PAPER_SECTIONS: Record<string, string[]> = {
  'moco-queue': ['moco_queue_size', 'moco_momentum', 'moco_cifar_demo', 'cifar_reference'],
  mochi: ['mochi', 'cifar_reference'],
  mixco: ['mixco_beta', 'cifar_reference'],
  supcon: ['supcon_temperature', 'cifar_reference'],
  quickstart: ['moco_cifar_demo', 'cifar_reference'],
};

/** Which methods' CIFAR reproductions sit beside each experiment (none covers MoCHi or MixCo: their bases). */
const REFERENCE_METHODS: Record<string, string[]> = {
  'moco-queue': ['moco'],
  mochi: ['moco'],
  mixco: ['moco', 'simclr'],
  supcon: ['supcon', 'ce', 'simclr'],
  quickstart: ['moco'],
};

/** The experiment name without its budget suffix (`moco-queue-quick` -> `moco-queue`). */
export function experimentBase(experiment: string): string {
  return experiment.replace(/-(smoke|quick|paper)$/, '');
}

/** Paper numbers for a one-parameter sweep, where data/paper-numbers.json has them (ImageNet scale). */
const PAPER_KEYS: Record<string, string> = { 'moco-queue/K': 'moco_queue_size', 'moco-queue/m': 'moco_momentum' };

export function paperPoints(experiment: string, param: string): { value: number; score: number }[] {
  const key = PAPER_KEYS[`${experimentBase(experiment)}/${param}`];
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

const num = (v: unknown): string => (typeof v === 'number' ? String(v) : String(v));

/**
 * A group's label in the papers' notation: `MoCo K=4096, m=0.99`, `MoCHi (256, 256, 64)`,
 * `MoCo v2 + oracle`, `MixCo beta=1 / MoCo`, `SupCon T=0.1`, `CE`; other params as `k=v`.
 * `vary` (the params that differ between the groups shown together) keeps labels short: a param
 * every group shares (e.g. the encoder) is left out.
 */
export function groupLabel(params: Record<string, ParamValue>, vary?: string[]): string {
  const p = params;
  const shows = (k: string) => !vary || vary.includes(k);
  if (typeof p.variant === 'string') {
    // MoCHi ablation: variant 'MoCo v2', 'MoCHi', 'MoCo v2 + oracle', 'MoCHi + oracle'.
    const mochi = p.variant.startsWith('MoCHi');
    const triple = mochi && p.N !== undefined ? ` (${num(p.N)}, ${num(p.s)}, ${num(p.sPrime)})` : '';
    return mochi ? `MoCHi${triple}${p.oracle ? ' + oracle' : ''}` : p.variant;
  }
  if (p.base !== undefined && p.beta !== undefined) {
    const base = p.base === 'simclr' ? 'SimCLR' : p.base === 'moco' ? 'MoCo' : String(p.base);
    const enc = shows('encoder') && p.encoder !== undefined ? `, ${num(p.encoder)}${p.arch !== undefined ? ` (${num(p.arch)})` : ''}` : '';
    return `${Number(p.beta) > 0 ? `MixCo beta=${num(p.beta)} / ` : ''}${base}${enc}`;
  }
  if (typeof p.loss === 'string') return p.loss === 'CE' ? 'CE' : `${p.loss} T=${num(p.T)}`;
  if (p.K !== undefined || p.m !== undefined) {
    const parts = (['K', 'm'] as const).filter((k) => p[k] !== undefined && (shows(k) || !vary)).map((k) => `${k}=${num(p[k])}`);
    return `MoCo ${parts.join(', ')}`.trim();
  }
  const keys = Object.keys(p).filter((k) => k !== 'sweep' && k !== 'seed' && shows(k));
  return keys.length ? keys.map((k) => `${k}=${num(p[k])}`).join(', ') : 'run';
}

/** Params whose values differ between the groups. */
export function varyingParams(groups: { params: Record<string, ParamValue> }[]): string[] {
  const keys = [...new Set(groups.flatMap((g) => Object.keys(g.params)))];
  return keys.filter((k) => new Set(groups.map((g) => String(g.params[k]))).size > 1);
}

/** True when `values` are positive and span at least `ratio` (then a log axis shows them apart). */
export function wantsLogAxis(values: number[], ratio = 20): boolean {
  return values.length >= 2 && values.every((v) => v > 0) && Math.max(...values) / Math.min(...values) >= ratio;
}

/**
 * How a swept parameter is drawn on x: momentum m as 1 - m (0.9 ... 0.9999 are 0.1 ... 1e-4 apart on a
 * log scale, not crowded into [0.9, 1]); everything else as is. The axis is log when the values
 * drawn (ours and the paper's together) span a factor of 20 or more.
 */
export function sweepAxis(param: string, values: number[]): { title: string; map: (v: number) => number; log: boolean } {
  if (param === 'm') {
    const mapped = values.map((v) => 1 - v).filter((v) => v > 0);
    return { title: '1 - m (momentum; log scale)', map: (v) => 1 - v, log: wantsLogAxis(mapped, 5) };
  }
  const log = wantsLogAxis(values);
  return { title: `${param}${log ? ' (log scale)' : ''}`, map: (v) => v, log };
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

/** The reference rows (setting, value, metric, source) of the paper-number sections of one experiment. */
export function referenceRows(experiment: string): Record<string, unknown>[] {
  const keys = PAPER_SECTIONS[experimentBase(experiment)] ?? [];
  let all: ReturnType<typeof loadPaperNumbers>;
  try {
    all = loadPaperNumbers();
  } catch {
    return [];
  }
  return keys.flatMap((k) => {
    const ab = all[k];
    if (!ab) return [];
    const methods = k === 'cifar_reference' ? REFERENCE_METHODS[experimentBase(experiment)] : undefined;
    return ab.entries
      .filter((e) => e.value !== null && (!methods || methods.includes(String(e.params.method))))
      .map((e) => ({ reference: k, setting: e.setting, value: paperValueText(e), metric: ab.metric, source: `${e.source.paper.split(',')[0]}, ${e.source.where} [${e.source.evidence}]` }));
  });
}

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
      const byEpoch = new Map<number, Record<string, number | undefined>>();
      for (const m of r.metrics) {
        const rec = byEpoch.get(m.epoch) ?? { epoch: m.epoch };
        for (const [k, v] of Object.entries(m)) if (typeof v === 'number' && k !== 'epoch') rec[k] = v;
        byEpoch.set(m.epoch, rec);
      }
      const params = Object.fromEntries(Object.entries(r.config.params ?? {}).filter(([k]) => k !== 'sweep'));
      const label = Object.keys(params).length ? groupLabel(params) : r.config.name;
      return { name: label, history: [...byEpoch.values()].sort((a, b) => (a.epoch as number) - (b.epoch as number)) };
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
