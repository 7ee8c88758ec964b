/** Evaluation of learned representations: kNN monitor, linear probes, alignment/uniformity, confusion, PCA. */
export * from './knn';
export * from './linear-probe';
export * from './align-uniform';
export * from './confusion';
export * from './projection';
export * from './features';
export * from './probe';
export * from './retrieval';
