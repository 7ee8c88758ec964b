export * from './augment';
export * from './presets';
export * from './crop';
export * from './flip';
export * from './color';
export * from './blur';
export * from './normalize';
