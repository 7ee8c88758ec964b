/** Results: run records and listing, aggregation over seeds, labels, figures, the report. */
export * from './records';
export * from './aggregate';
export * from './labels';
export * from './paper';
export * from './figures';
export * from './progress';
export * from './report';
