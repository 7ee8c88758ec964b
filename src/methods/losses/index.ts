export * from './stop-gradient';
export * from './info-nce';
export * from './nt-xent';
export * from './supcon-loss';
export * from './soft-ce';
export * from './mixco';
export * from './mochi';
