export * from './optimizer';
export * from './sgd';
export * from './lars';
export * from './schedule';
export * from './factory';
