/**
 * Offline HTML for plotly figures and whole report pages. plotly.js comes from the npm package
 * `plotly.js-dist-min` and is inlined (never a CDN link), so pages and notebooks draw with no network.
 */
import * as fs from 'node:fs';
import type { PlotlyFigure } from './figure';

let plotlySource: string | undefined;

/** The minified plotly.js bundle (about 4.8 MB), read once from node_modules. */
export function plotlyLibrarySource(): string {
  if (plotlySource === undefined) {
    let file: string;
    try {
      file = require.resolve('plotly.js-dist-min/plotly.min.js');
    } catch (e) {
      throw new Error(`plotly.js-dist-min is not installed (needed to inline plotly.js): ${(e as Error).message}`);
    }
    // A literal "</script" inside inlined code would end the <script> element early.
    plotlySource = fs.readFileSync(file, 'utf8').replace(/<\/script/gi, '<\\/script');
  }
  return plotlySource;
}

/** The version of the inlined plotly.js (from its package.json). */
export function plotlyVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return (require('plotly.js-dist-min/package.json') as { version: string }).version;
}

/** `<script>` element that defines window.Plotly from the inlined bundle. */
export function plotlyLibraryScript(): string {
  return `<script type="text/javascript">${plotlyLibrarySource()}</script>`;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** JSON safe to place inside a <script> element (no "</script>", no HTML comment openers). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

let divCounter = 0;

function newDivId(): string {
  divCounter += 1;
  return `cwb-plot-${Date.now().toString(36)}-${divCounter}`;
}

function checkFigure(fig: PlotlyFigure): void {
  if (fig === null || typeof fig !== 'object' || !Array.isArray(fig.data)) {
    throw new Error('plotly figure: expected an object with a `data` array of traces');
  }
}

/**
 * One figure as a `<div>` plus a `<script>` that draws it with `Plotly.newPlot`. With
 * `includeLib` the plotly.js bundle is inlined in front (needed once per page / notebook).
 * Without it, the script waits for `window.Plotly` and says so in the div if it never comes.
 */
export function plotlyFigureHtml(fig: PlotlyFigure, opts: { includeLib?: boolean; divId?: string } = {}): string {
  checkFigure(fig);
  const id = opts.divId ?? newDivId();
  if (!/^[A-Za-z][\w-]*$/.test(id)) throw new Error(`plotlyFigureHtml: divId '${id}' must be a letter then letters, digits, _ or -`);
  const config = { responsive: true, displaylogo: false, ...(fig.config ?? {}) };
  const lib = opts.includeLib ? plotlyLibraryScript() : '';
  const height = typeof fig.layout?.height === 'number' ? `${fig.layout.height}px` : '420px';
  const draw =
    `(function(){var d=document.getElementById(${scriptJson(id)});var n=0;` +
    `function go(){if(window.Plotly){window.Plotly.newPlot(d,${scriptJson(fig.data)},${scriptJson(fig.layout ?? {})},${scriptJson(config)});}` +
    `else if(n++<100){setTimeout(go,100);}` +
    `else{d.textContent='plotly.js is not loaded: re-run the first figure cell (it carries the library) or trust the notebook.';}}go();})();`;
  return `${lib}<div id="${id}" class="cwb-plot" style="width:100%;min-height:${height}"></div>\n<script type="text/javascript">${draw}</script>`;
}

/**
 * A complete offline HTML page: plotly.js inlined once in <head>, then the given parts (figure
 * HTML from `plotlyFigureHtml` without the library, tables, headings...) in order.
 */
export function standaloneHtml(title: string, parts: string[]): string {
  const css =
    // The page fits a 1400 px window: wide tables scroll inside their own box.
    'body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;max-width:1300px}' +
    '.cwb-scroll{max-width:100%;overflow-x:auto}.cwb-plot{max-width:100%}' +
    'table.cwb-table{border-collapse:collapse;font-size:13px;margin:8px 0}' +
    'table.cwb-table th,table.cwb-table td{border:1px solid #ccc;padding:3px 8px;text-align:right}' +
    'table.cwb-table th{background:#f3f3f3}table.cwb-table td.cwb-text{text-align:left}';
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    `<title>${escapeHtml(title)}</title>\n<style>${css}</style>\n${plotlyLibraryScript()}\n</head>\n<body>\n` +
    `<h1>${escapeHtml(title)}</h1>\n${parts.join('\n')}\n</body>\n</html>\n`
  );
}

/** One figure as a standalone page (the common case for results/…/*.html). */
export function figurePageHtml(title: string, figs: PlotlyFigure[], extraParts: string[] = []): string {
  return standaloneHtml(title, [...figs.map((f) => plotlyFigureHtml(f)), ...extraParts]);
}
