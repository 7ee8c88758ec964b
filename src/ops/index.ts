export * from './batch-norm-train';
export * from './normalize';
