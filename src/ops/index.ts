export * from './batch-norm-train';
