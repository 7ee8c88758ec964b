/**
 * Writing results to disk: tables as CSV, figures as standalone offline HTML pages.
 */
import { writeFileAtomic } from '../util/fsx';
import type { PlotlyFigure } from './figure';
import { figurePageHtml } from './html';
import { toCsv, tableHtml, type DataFrameLike, type Row } from './table';

/** Writes rows (or a DataFrame) as CSV; returns the path. */
export function writeCsv(file: string, table: Row[] | DataFrameLike, opts: { columns?: string[] } = {}): string {
  writeFileAtomic(file, toCsv(table, opts));
  return file;
}

/** Writes figures (and optional tables) as one standalone HTML page with plotly.js inlined; returns the path. */
export function writeFigureHtml(
  file: string,
  title: string,
  figs: PlotlyFigure | PlotlyFigure[],
  opts: { tables?: { caption?: string; rows: Row[] | DataFrameLike }[] } = {},
): string {
  const list = Array.isArray(figs) ? figs : [figs];
  const tables = (opts.tables ?? []).map((t) => tableHtml(t.rows, { caption: t.caption }));
  writeFileAtomic(file, figurePageHtml(title, list, tables));
  return file;
}
