/** Results: run records and listing, aggregation over seeds, labels, figures, the report, the results table and sweeps with their table. */
export * from './records';
export * from './aggregate';
export * from './labels';
export * from './paper';
export * from './figures';
export * from './progress';
export * from './report';
export * from './table';
export * from './sweep';
export * from './parity';
export * from './claims';
