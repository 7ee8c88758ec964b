/**
 * Plotly figure builders: plain JSON objects ({data, layout}) that any plotly.js renderer draws.
 * They hold no rendering logic; `html.ts` turns them into offline HTML and `notebook.ts` shows them
 * in tslab. Every builder checks its inputs and names the field at fault.
 */

/** One plotly trace (scatter, bar, heatmap...): plain JSON as plotly.js reads it. */
export type PlotlyTrace = Record<string, unknown>;

/** A plotly figure as plotly.js `newPlot(div, data, layout, config)` takes it. */
export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/** One named series of (x, y) points, e.g. the kNN accuracy per epoch of one run. */
export interface Series {
  name: string;
  x: number[];
  y: number[];
  /** Optional symmetric error (e.g. std over seeds) per point. */
  error?: number[];
}

export interface AxisOptions {
  title?: string;
  /** 'log' for sweeps over K or temperature. */
  type?: 'linear' | 'log' | 'category';
  range?: [number, number];
}

export interface ChartOptions {
  title?: string;
  x?: AxisOptions;
  y?: AxisOptions;
  /** 'lines', 'markers' or 'lines+markers' (default). */
  mode?: string;
  height?: number;
  width?: number;
}

function checkSeries(s: Series, where: string): void {
  if (!Array.isArray(s.x) || !Array.isArray(s.y)) {
    throw new Error(`${where}: series '${s.name}' needs arrays x and y`);
  }
  if (s.x.length !== s.y.length) {
    throw new Error(`${where}: series '${s.name}' has x of length ${s.x.length} but y of length ${s.y.length}`);
  }
  if (s.error !== undefined && s.error.length !== s.y.length) {
    throw new Error(`${where}: series '${s.name}' has error of length ${s.error.length} but y of length ${s.y.length}`);
  }
}

function axisLayout(a: AxisOptions | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { automargin: true };
  if (a?.title !== undefined) out.title = { text: a.title };
  if (a?.type !== undefined) out.type = a.type;
  if (a?.range !== undefined) {
    // plotly log axes take their range in log10 units.
    out.range = a.type === 'log' ? a.range.map((v) => Math.log10(v)) : a.range;
  }
  return out;
}

function baseLayout(opts: ChartOptions): Record<string, unknown> {
  const layout: Record<string, unknown> = {
    xaxis: axisLayout(opts.x),
    yaxis: axisLayout(opts.y),
    margin: { l: 60, r: 20, t: opts.title ? 50 : 20, b: 50 },
    legend: { orientation: 'h', y: -0.2 },
  };
  if (opts.title !== undefined) layout.title = { text: opts.title };
  if (opts.height !== undefined) layout.height = opts.height;
  if (opts.width !== undefined) layout.width = opts.width;
  return layout;
}

/**
 * Line chart of several series (training curves, ablation curves). Series with `error` get
 * error bars (mean +- std over seeds).
 */
export function lineFigure(series: Series[], opts: ChartOptions = {}): PlotlyFigure {
  if (!Array.isArray(series) || series.length === 0) throw new Error('lineFigure: series must be a non-empty array');
  const data = series.map((s, i) => {
    checkSeries(s, 'lineFigure');
    const trace: PlotlyTrace = { type: 'scatter', mode: opts.mode ?? 'lines+markers', name: s.name, x: s.x, y: s.y };
    if (s.error !== undefined) trace.error_y = { type: 'data', array: s.error, visible: true };
    if (i > 9) trace.line = { dash: 'dot' };
    return trace;
  });
  return { data, layout: baseLayout(opts) };
}

/**
 * Per-epoch training curves from a list of history records, one subplot row per metric.
 * `history[i][metric]` is read for every metric; missing values are skipped (not drawn as 0).
 */
export function curvesFigure(
  runs: { name: string; history: Record<string, number | undefined>[] }[],
  metrics: string[],
  opts: { x?: string; title?: string; height?: number } = {},
): PlotlyFigure {
  if (metrics.length === 0) throw new Error('curvesFigure: metrics must name at least one field');
  const xKey = opts.x ?? 'epoch';
  const data: PlotlyTrace[] = [];
  const layout: Record<string, unknown> = baseLayout({ title: opts.title, height: opts.height ?? 220 * metrics.length + 80 });
  const gap = 0.08;
  const h = (1 - gap * (metrics.length - 1)) / metrics.length;
  metrics.forEach((metric, m) => {
    const axis = m === 0 ? '' : String(m + 1);
    const top = 1 - m * (h + gap);
    layout[`yaxis${axis}`] = { title: { text: metric }, domain: [Math.max(0, top - h), top], automargin: true };
    layout[`xaxis${axis}`] = { anchor: `y${axis}`, title: m === metrics.length - 1 ? { text: xKey } : undefined, automargin: true };
    if (m > 0) (layout[`xaxis${axis}`] as Record<string, unknown>).matches = 'x';
    runs.forEach((run, r) => {
      const x: number[] = [];
      const y: number[] = [];
      run.history.forEach((rec, i) => {
        const v = rec[metric];
        if (typeof v === 'number' && Number.isFinite(v)) {
          const xv = rec[xKey];
          x.push(typeof xv === 'number' ? xv : i);
          y.push(v);
        }
      });
      data.push({
        type: 'scatter',
        mode: 'lines+markers',
        name: run.name,
        x,
        y,
        xaxis: `x${axis}`,
        yaxis: `y${axis}`,
        legendgroup: run.name,
        showlegend: m === 0,
        marker: { color: PALETTE[r % PALETTE.length] },
        line: { color: PALETTE[r % PALETTE.length] },
      });
    });
  });
  // Whole epochs: one tick per epoch instead of plotly's 0.5 steps.
  const xs = data.flatMap((t) => t.x as number[]);
  if (xs.length && xs.every((v) => Number.isInteger(v)) && Math.max(...xs) - Math.min(...xs) <= 30) {
    metrics.forEach((_m, m) => {
      (layout[`xaxis${m === 0 ? '' : String(m + 1)}`] as Record<string, unknown>).dtick = 1;
    });
  }
  return { data, layout };
}

/** Plotly's default colour cycle (so a run keeps its colour across subplots). */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/**
 * Ablation curve: our metric (mean +- std over seeds) against the swept value, optionally beside
 * the paper's numbers on a second series. Use `logX` for K or temperature sweeps.
 */
export function ablationFigure(
  points: { value: number; mean: number; std?: number }[],
  opts: ChartOptions & { name?: string; paper?: { value: number; score: number }[]; paperName?: string; logX?: boolean } = {},
): PlotlyFigure {
  if (points.length === 0) throw new Error('ablationFigure: points must not be empty');
  const sorted = [...points].sort((a, b) => a.value - b.value);
  const ours: Series = {
    name: opts.name ?? 'ours',
    x: sorted.map((p) => p.value),
    y: sorted.map((p) => p.mean),
  };
  if (sorted.some((p) => p.std !== undefined)) ours.error = sorted.map((p) => p.std ?? 0);
  const series: Series[] = [ours];
  const fig = lineFigure(series, { ...opts, x: { ...opts.x, type: opts.logX ? 'log' : opts.x?.type } });
  if (opts.paper && opts.paper.length > 0) {
    const p = [...opts.paper].sort((a, b) => a.value - b.value);
    // The paper's numbers live on another scale (ImageNet top-1) -> a second y axis.
    fig.data.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: opts.paperName ?? 'paper',
      x: p.map((q) => q.value),
      y: p.map((q) => q.score),
      yaxis: 'y2',
      line: { dash: 'dash' },
      marker: { symbol: 'diamond' },
    });
    (fig.layout as Record<string, unknown>).yaxis2 = { title: { text: opts.paperName ?? 'paper' }, overlaying: 'y', side: 'right', automargin: true };
  }
  return fig;
}

/**
 * 2-D scatter of embeddings coloured by class. `xy` is [n][2]; `labels[i]` indexes `classNames`.
 */
export function scatterByClassFigure(xy: number[][], labels: ArrayLike<number>, classNames: string[], opts: ChartOptions = {}): PlotlyFigure {
  if (xy.length !== labels.length) {
    throw new Error(`scatterByClassFigure: ${xy.length} points but ${labels.length} labels`);
  }
  const groups = new Map<number, { x: number[]; y: number[] }>();
  xy.forEach((p, i) => {
    if (p.length < 2) throw new Error(`scatterByClassFigure: point ${i} has ${p.length} coordinates, needs 2`);
    const c = labels[i];
    if (!groups.has(c)) groups.set(c, { x: [], y: [] });
    const g = groups.get(c) as { x: number[]; y: number[] };
    g.x.push(p[0]);
    g.y.push(p[1]);
  });
  const data = [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([c, g]) => ({
      type: 'scatter',
      mode: 'markers',
      name: classNames[c] ?? `class ${c}`,
      x: g.x,
      y: g.y,
      marker: { size: 5, opacity: 0.75, color: PALETTE[c % PALETTE.length] },
    }));
  return { data, layout: baseLayout({ ...opts, x: opts.x ?? { title: 'component 1' }, y: opts.y ?? { title: 'component 2' } }) };
}

/** Bar chart of one value per named bar (e.g. final kNN accuracy per method), with optional error. */
export function barFigure(bars: { name: string; value: number; error?: number }[], opts: ChartOptions = {}): PlotlyFigure {
  if (bars.length === 0) throw new Error('barFigure: bars must not be empty');
  const trace: PlotlyTrace = { type: 'bar', x: bars.map((b) => b.name), y: bars.map((b) => b.value) };
  if (bars.some((b) => b.error !== undefined)) trace.error_y = { type: 'data', array: bars.map((b) => b.error ?? 0), visible: true };
  return { data: [trace], layout: baseLayout(opts) };
}
