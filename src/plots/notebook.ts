/**
 * Showing figures, tables and live progress in a tslab (TypeScript Jupyter) kernel.
 *
 * tslab's public `display.raw` sends one MIME type per message; a plotly figure is best sent as a
 * bundle (plotly JSON for JupyterLab's plotly renderer / VS Code, a static SVG for everything else,
 * plain text last), so we write through tslab's internal `lastWriteDisplayData` (the function its
 * own `display` calls) when it is there, and fall back to `tslab.display.html` otherwise.
 * Outside a kernel (scripts, tests) the text/plain part is printed. See ecosystem.md A1/A2.
 */
import type { PlotlyFigure } from './figure';
import { escapeHtml } from './html';
import { figureSvg } from './svg';
import { tableHtml, tableText, toRows, type DataFrameLike, type Row, type TableOptions } from './table';

/** A Jupyter display_data payload: MIME type -> content (objects for JSON MIME types). */
export type MimeBundle = Record<string, unknown>;

/** Where display bundles go: (bundle, displayId, update) -> void. */
export type DisplaySink = (bundle: MimeBundle, displayId: string | undefined, update: boolean) => void;

interface TslabDisplay {
  html(s: string): void;
  text(s: string): void;
  raw(contentType: string, b: string | Uint8Array): unknown;
}

interface TslabModule {
  display: TslabDisplay;
  newDisplay(): TslabDisplay;
}

type WriteDisplayData = (msg: { data: MimeBundle; metadata: Record<string, unknown>; transient: Record<string, unknown> }, update: boolean) => void;

let customSink: DisplaySink | undefined;
const fallbackDisplays = new Map<string, TslabDisplay>();

/** Routes all display output to `sink` (tests, other frontends); `undefined` restores the default. */
export function setDisplaySink(sink: DisplaySink | undefined): void {
  customSink = sink;
}

function tryRequire<T>(name: string): T | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require(name) as T;
  } catch {
    return undefined;
  }
}

/** True when running inside a tslab kernel that is executing a cell. */
export function inTslabKernel(): boolean {
  const jup = tryRequire<{ lastWriteDisplayData: WriteDisplayData | null }>('tslab/dist/jupyter');
  return typeof jup?.lastWriteDisplayData === 'function';
}

/** How the last bundle was delivered: 'sink', 'bundle' (full MIME bundle), 'html' (tslab fallback), 'text' (stdout). */
export type DisplayRoute = 'sink' | 'bundle' | 'html' | 'text';

/**
 * Sends a MIME bundle as display_data (or update_display_data when `update` and `displayId`).
 * Returns the route it took.
 */
export function displayBundle(bundle: MimeBundle, opts: { displayId?: string; update?: boolean } = {}): DisplayRoute {
  const update = opts.update === true && opts.displayId !== undefined;
  if (customSink) {
    customSink(bundle, opts.displayId, update);
    return 'sink';
  }
  const jup = tryRequire<{ lastWriteDisplayData: WriteDisplayData | null }>('tslab/dist/jupyter');
  if (jup && typeof jup.lastWriteDisplayData === 'function') {
    jup.lastWriteDisplayData({ data: bundle, metadata: {}, transient: opts.displayId ? { display_id: opts.displayId } : {} }, update);
    return 'bundle';
  }
  const tslab = tryRequire<TslabModule>('tslab');
  const html = typeof bundle['text/html'] === 'string' ? (bundle['text/html'] as string) : undefined;
  const svg = typeof bundle['image/svg+xml'] === 'string' ? (bundle['image/svg+xml'] as string) : undefined;
  if (tslab && (html !== undefined || svg !== undefined)) {
    try {
      // One tslab.newDisplay() per display id, so updates replace the output in place.
      let target = tslab.display;
      if (opts.displayId !== undefined) {
        target = fallbackDisplays.get(opts.displayId) ?? tslab.newDisplay();
        fallbackDisplays.set(opts.displayId, target);
      }
      if (html !== undefined) target.html(html);
      else target.raw('image/svg+xml', svg as string);
      return 'html';
    } catch {
      // "Not ready": not inside a kernel; fall through to text.
    }
  }
  const text = bundle['text/plain'];
  console.log(typeof text === 'string' ? text : JSON.stringify(bundle));
  return 'text';
}

function figureSummary(fig: PlotlyFigure): string {
  const title = fig.layout?.title as { text?: string } | string | undefined;
  const t = typeof title === 'string' ? title : title?.text;
  const names = fig.data.map((d) => String(d.name ?? d.type ?? 'trace'));
  return `Figure${t ? ` '${t}'` : ''}: ${fig.data.length} trace(s)${names.length ? ` [${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''}]` : ''}`;
}

/**
 * The display bundle of a plotly figure: `application/vnd.plotly.v1+json` (drawn interactively by
 * JupyterLab's plotly renderer, which the `plotly` Python package installs, and by VS Code; a
 * mime renderer needs no notebook trust), a static `image/svg+xml` rendering (`figureSvg`, what
 * code-host viewers and nbconvert exports show) and `text/plain`. No script and no plotly.js: a
 * saved notebook stays small and nothing in it needs trust to draw.
 */
export function figureBundle(fig: PlotlyFigure): MimeBundle {
  const json: Record<string, unknown> = { data: fig.data, layout: fig.layout ?? {} };
  if (fig.config) json.config = fig.config;
  return {
    // JSON MIME types must carry an object (jupyterlab-plotly destructures it); non-finite numbers become null.
    'application/vnd.plotly.v1+json': JSON.parse(JSON.stringify(json, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))),
    'image/svg+xml': figureSvg(fig),
    'text/plain': figureSummary(fig),
  };
}

/** Shows a plotly figure inline (see `figureBundle` for what is sent). */
export function showFigure(fig: PlotlyFigure): void {
  displayBundle(figureBundle(fig));
}

/** Shows a table (rows or a danfojs DataFrame) as HTML with a text fallback. */
export function showTable(table: Row[] | DataFrameLike, opts: TableOptions = {}): void {
  const rows = toRows(table);
  displayBundle({ 'text/html': tableHtml(rows, opts), 'text/plain': (opts.caption ? `${opts.caption}\n` : '') + tableText(rows, opts) });
}

/** Shows an HTML fragment (with a text fallback). */
export function showHtml(html: string, text = ''): void {
  displayBundle({ 'text/html': html, 'text/plain': text || html.replace(/<[^>]*>/g, '') });
}

/** Shows Markdown (with the source as text fallback). */
export function showMarkdown(md: string): void {
  displayBundle({ 'text/markdown': md, 'text/plain': md });
}

/** Shows a PNG (e.g. a grid of augmented views) given its bytes. */
export function showPng(png: Uint8Array, alt = 'image'): void {
  const b64 = Buffer.from(png).toString('base64');
  displayBundle({ 'image/png': b64, 'text/plain': alt });
}

// ---------------------------------------------------------------------------------------------
// Live progress
// ---------------------------------------------------------------------------------------------

/**
 * What a progress callback receives: counters plus any numeric metrics (loss, knnAcc...).
 * It matches the experiments runner's ProgressEvent (1-based epoch and step, `phase`, `runId`,
 * `metrics`) and also accepts looser records (0-based epochs when `phase` is absent).
 */
export interface ProgressInfo {
  phase?: string;
  runId?: string;
  epoch?: number;
  epochs?: number;
  step?: number;
  steps?: number;
  message?: string;
  loss?: number;
  lr?: number;
  imagesPerSec?: number;
  etaSec?: number;
  metrics?: Record<string, number>;
}

export interface ProgressDisplay {
  /** Feed this to the runner's onProgress. */
  onProgress: (p: ProgressInfo) => void;
  /** Renders the final state (always, ignoring the throttle). */
  finish: (note?: string) => void;
  /** Values recorded so far per metric (x = fractional epochs done), for a plot afterwards. */
  readonly history: Record<string, { x: number; y: number }[]>;
}

/** Fields shown as text but not plotted as sparklines by default. */
const TEXT_ONLY = new Set(['lr', 'imagesPerSec', 'etaSec']);

function sparklineSvg(points: { x: number; y: number }[], w = 200, h = 36): string {
  if (points.length < 2) return '';
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => (x1 === x0 ? 0 : ((x - x0) / (x1 - x0)) * (w - 4) + 2);
  const sy = (y: number) => (y1 === y0 ? h / 2 : h - 2 - ((y - y0) / (y1 - y0)) * (h - 4));
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join('');
  return `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" style="vertical-align:middle;background:#fafafa"><path d="${d}" fill="none" stroke="#1f77b4" stroke-width="1.5"/></svg>`;
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1000 || Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toFixed(4);
}

/**
 * A live progress line that updates in place (tslab `update_display_data`): a bar over all
 * epochs, the latest value of each numeric field, and an inline-SVG sparkline per plotted metric
 * (SVG needs no script, so it also shows in untrusted notebooks). Updates are throttled to one per
 * `minIntervalMs`; 'epoch', 'eval' and 'done' events are always drawn.
 */
export function progressDisplay(opts: { title?: string; metrics?: string[]; minIntervalMs?: number } = {}): ProgressDisplay {
  const displayId = `cwb-progress-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
  const history: Record<string, { x: number; y: number }[]> = {};
  const latest: Record<string, number> = {};
  const minInterval = opts.minIntervalMs ?? 500;
  let last: ProgressInfo = {};
  let sent = false;
  let lastSent = 0;
  let tick = 0;

  const epochsDone = (p: ProgressInfo): number | undefined => {
    if (typeof p.epoch !== 'number') return undefined;
    const oneBased = typeof p.phase === 'string';
    const base = oneBased ? p.epoch - 1 : p.epoch;
    if (p.phase === 'epoch' || p.phase === 'done') return p.epoch;
    const within = typeof p.step === 'number' && typeof p.steps === 'number' && p.steps > 0 ? p.step / p.steps : 0;
    return base + within;
  };

  const render = (note?: string) => {
    const p = last;
    const done = epochsDone(p);
    const frac =
      done !== undefined && typeof p.epochs === 'number' && p.epochs > 0
        ? Math.min(1, done / p.epochs)
        : typeof p.step === 'number' && typeof p.steps === 'number' && p.steps > 0
          ? Math.min(1, p.step / p.steps)
          : undefined;
    const counters = [
      typeof p.runId === 'string' ? p.runId : '',
      typeof p.epoch === 'number' ? `epoch ${p.epoch}${typeof p.epochs === 'number' ? `/${p.epochs}` : ''}` : '',
      typeof p.step === 'number' ? `step ${p.step}${typeof p.steps === 'number' ? `/${p.steps}` : ''}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    const values = Object.keys(latest)
      .map((k) => `${k}=${fmt(latest[k])}`)
      .join('  ');
    const msg = [p.message, note].filter((x) => typeof x === 'string' && x).join(' ');
    const text = `${opts.title ? `${opts.title}: ` : ''}${counters}${values ? `  ${values}` : ''}${msg ? `  ${msg}` : ''}`;
    const bar =
      frac === undefined
        ? ''
        : `<div style="width:300px;height:10px;background:#eee;display:inline-block;vertical-align:middle"><div style="width:${(frac * 100).toFixed(1)}%;height:10px;background:#1f77b4"></div></div> ${(frac * 100).toFixed(0)}% `;
    const plotted = Object.keys(history).filter((k) => (opts.metrics ? opts.metrics.includes(k) : !TEXT_ONLY.has(k)));
    const sparks = plotted
      .map((k) => `<span style="margin-right:12px;white-space:nowrap">${escapeHtml(k)} ${sparklineSvg(history[k])}</span>`)
      .join('');
    const html =
      `<div class="cwb-progress" style="font-family:monospace;font-size:12px">` +
      `${opts.title ? `<div><b>${escapeHtml(opts.title)}</b></div>` : ''}` +
      `<div>${bar}${escapeHtml(counters)}</div><div>${escapeHtml(values)}${msg ? ` ${escapeHtml(msg)}` : ''}</div><div>${sparks}</div></div>`;
    displayBundle({ 'text/html': html, 'text/plain': text }, { displayId, update: sent });
    sent = true;
    lastSent = Date.now();
  };

  const record = (k: string, v: unknown, x: number) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return;
    latest[k] = v;
    history[k] ??= [];
    const h = history[k];
    // Repeated events at the same x (e.g. the 'epoch' event after the last 'train' step) replace, not append.
    if (h.length > 0 && h[h.length - 1].x === x) h[h.length - 1].y = v;
    else h.push({ x, y: v });
  };

  return {
    history,
    onProgress: (p: ProgressInfo) => {
      last = { ...last, ...p };
      tick += 1;
      const x = epochsDone(p) ?? tick;
      for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
        if (['epoch', 'epochs', 'step', 'steps'].includes(k)) continue;
        if (k === 'metrics' && v !== null && typeof v === 'object') {
          for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) record(k2, v2, x);
        } else {
          record(k, v, x);
        }
      }
      const important = p.phase === 'epoch' || p.phase === 'eval' || p.phase === 'done';
      if (!sent || important || Date.now() - lastSent >= minInterval) render();
    },
    finish: (note?: string) => render(note ?? 'done'),
  };
}
