/** Runs, checkpoints, sweeps and the four ablations. */
export * from './config';
export * from './checkpoint';
export * from './lock';
export * from './metrics-log';
export * from './paths';
export * from './progress';
export * from './records';
export * from './run-state';
export * from './evaluation';
export * from './runner';
export * from './sweep';
export * from './ablations';
export * from './explore';
export * from './sweep-eta';
export * from './estimate';
