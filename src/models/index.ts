export * from './layers';
export * from './network';
export * from './convnet';
export * from './resnet';
export * from './heads';
export * from './encoder';
export * from './momentum';
export { KeyQueue } from './queue';
