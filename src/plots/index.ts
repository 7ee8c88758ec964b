/** Plots and tables: plotly figures, offline HTML, CSV, and tslab notebook display helpers. */
export * from './figure';
export * from './html';
export * from './svg';
export * from './table';
export * from './notebook';
export * from './write';
export * from './paper-numbers';
export * from './danfo';
export * from './explore';
