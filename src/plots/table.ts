/**
 * Tables: HTML for notebooks and report pages, CSV (papaparse quotes fields with commas, quotes
 * and newlines correctly, unlike danfojs's toCSV), and adapters for danfojs DataFrames.
 */
import { unparse } from 'papaparse';
import { escapeHtml } from './html';
import { loadDanfo } from './danfo';

/** What the table helpers need of a danfojs DataFrame (kept structural: no danfojs import here). */
export interface DataFrameLike {
  columns: string[];
  values: unknown[][] | unknown[];
}

export interface TableOptions {
  /** Columns in this order (default: union of the rows' keys in first-seen order). */
  columns?: string[];
  caption?: string;
  /** Significant digits of non-integer numbers (default 4). */
  digits?: number;
}

export type Row = Record<string, unknown>;

function isDataFrameLike(x: unknown): x is DataFrameLike {
  return x !== null && typeof x === 'object' && Array.isArray((x as DataFrameLike).columns) && 'values' in (x as object);
}

/** Rows of a danfojs DataFrame (or anything with `columns` and row-major `values`). */
export function dataFrameRows(df: DataFrameLike): Row[] {
  if (!isDataFrameLike(df)) throw new Error('dataFrameRows: expected a DataFrame with `columns` and `values`');
  const values = df.values as unknown[];
  return values.map((row, i) => {
    const cells = Array.isArray(row) ? row : [row];
    if (cells.length !== df.columns.length) {
      throw new Error(`dataFrameRows: row ${i} has ${cells.length} cells but the frame has ${df.columns.length} columns`);
    }
    const out: Row = {};
    df.columns.forEach((c, j) => {
      out[c] = cells[j];
    });
    return out;
  });
}

/** Rows from either rows or a DataFrame. */
export function toRows(table: Row[] | DataFrameLike): Row[] {
  if (Array.isArray(table)) return table;
  return dataFrameRows(table);
}

/** The columns of rows: explicit, else the union of keys in first-seen order. */
export function columnsOf(rows: Row[], columns?: string[]): string[] {
  if (columns) return columns;
  const seen = new Set<string>();
  for (const r of rows) {
    if (r === null || typeof r !== 'object') throw new Error('table rows must be objects');
    for (const k of Object.keys(r)) seen.add(k);
  }
  return [...seen];
}

/** A cell as display text: numbers to `digits` significant digits, null/undefined/NaN as ''. */
export function formatCell(v: unknown, digits = 4): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return '';
    if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
    return String(Number(v.toPrecision(digits)));
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** An HTML <table> of rows (or a DataFrame). Text cells are HTML-escaped. */
export function tableHtml(table: Row[] | DataFrameLike, opts: TableOptions = {}): string {
  const rows = toRows(table);
  const cols = columnsOf(rows, opts.columns);
  const digits = opts.digits ?? 4;
  const head = `<tr>${cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>`;
  const body = rows
    .map((r) => {
      const cells = cols.map((c) => {
        const v = r[c];
        const cls = typeof v === 'number' ? '' : ' class="cwb-text" style="text-align:left"';
        return `<td${cls}>${escapeHtml(formatCell(v, digits))}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  const caption = opts.caption !== undefined ? `<caption>${escapeHtml(opts.caption)}</caption>` : '';
  return `<table class="cwb-table" border="1" style="border-collapse:collapse">${caption}\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** A danfojs DataFrame as an HTML table. */
export function dataFrameHtml(df: DataFrameLike, opts: TableOptions = {}): string {
  return tableHtml(dataFrameRows(df), opts);
}

/** A plain-text table (fixed-width columns) for text/plain fallbacks and logs. */
export function tableText(table: Row[] | DataFrameLike, opts: TableOptions = {}): string {
  const rows = toRows(table);
  const cols = columnsOf(rows, opts.columns);
  const cells = rows.map((r) => cols.map((c) => formatCell(r[c], opts.digits ?? 4)));
  const widths = cols.map((c, j) => Math.max(c.length, ...cells.map((row) => row[j].length)));
  const line = (xs: string[]) =>
    xs
      .map((x, j) => x.padEnd(widths[j]))
      .join('  ')
      .trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** CSV text of rows (or a DataFrame), header first, RFC 4180 quoting via papaparse. Full precision. */
export function toCsv(table: Row[] | DataFrameLike, opts: { columns?: string[] } = {}): string {
  const rows = toRows(table);
  const cols = columnsOf(rows, opts.columns);
  const data = rows.map((r) =>
    cols.map((c) => {
      const v = r[c];
      if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) return '';
      if (typeof v === 'object') return JSON.stringify(v);
      return v;
    }),
  );
  return `${unparse({ fields: cols, data }, { newline: '\n' })}\n`;
}

/**
 * Rows as a danfojs DataFrame. danfojs-node is loaded on first use through `loadDanfo`, which
 * keeps its TF.js copy from replacing our kernels. Every row gets every column (null where missing).
 */
export function dataFrameOf(rows: Row[]): import('danfojs-node').DataFrame {
  const dfd = loadDanfo();
  if (rows.length === 0) return new dfd.DataFrame([]);
  const cols = columnsOf(rows);
  const full = rows.map((r) =>
    Object.fromEntries(
      cols.map((c) => {
        const v = r[c];
        return [c, v === undefined ? null : typeof v === 'object' && v !== null ? JSON.stringify(v) : v];
      }),
    ),
  );
  return new dfd.DataFrame(full);
}
