/** The data layer: datasets, augmentations, the batch loader and a look at the views. */
export * from './datasets';
export * from './augment';
export { Loader, disposeBatch, mixSeed } from './loader';
export type { LoaderOptions } from './loader';
export { viewGrid, imageGrid, displayImage, pngBundle } from './view';
export type { ViewGridOptions, ImageGridOptions } from './view';
export { resolveDataRoot, cacheDirFor } from './paths';
export { downloadFile, downloadFromMirrors, md5File } from './download';
export type { DownloadOptions } from './download';
export { parseTar, readTar, extractTar } from './tar';
export { parseCifarBinary, loadCifarBinary, CIFAR10_CLASSES, CIFAR100_CLASSES } from './cifar-binary';
export { parseIdx, loadIdxPair } from './idx';
export { loadFolderSplit, folderClassNames } from './image-folder';
export { readImageCache, writeImageCache } from './image-cache';
export { generateSynthetic, SYNTHETIC_DEFAULTS } from './synthetic';
export { classBalancedSubset } from './subset';
export { DATASET_SOURCES } from './manifest';
export type { DatasetSource, RemoteFile } from './manifest';
