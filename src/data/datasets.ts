/**
 * The data entry point: `datasetInfo(cfg)` describes a dataset, `loadDataset(cfg, split)` loads
 * one split into memory as uint8 NHWC pixels. Datasets are found under the data root
 * (`cfg.dataRoot`, $DATA_DIR, ./data) in any of the layouts listed in `candidatePaths`, and
 * downloaded from the official sources (manifest.ts) when absent and downloads are allowed.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { DatasetConfig, DatasetInfo, ImageSet, Split } from '../types';
import { CIFAR10_CLASSES, CIFAR100_CLASSES, cifarClassNames, loadCifarBinary, type CifarVariant } from './cifar-binary';
import { downloadFromMirrors } from './download';
import { loadIdxPair } from './idx';
import { countFolderSplit, folderChannels, folderClassNames, listFolderSplit, loadFolderSplit } from './image-folder';
import { DATASET_SOURCES } from './manifest';
import { resolveDataRoot } from './paths';
import { probeImageSync } from './probe';
import { classBalancedSubset, gatherImages } from './subset';
import { SYNTHETIC_DEFAULTS, generateSynthetic, syntheticClassNames } from './synthetic';
import { extractTar } from './tar';

/** Per-channel normalisation statistics, with where they come from. */
export const DATASET_STATS: Record<string, { mean: number[]; std: number[] }> = {
  // MoCo CIFAR demo and SupContrast util.py.
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] },
  // SupContrast main_supcon.py.
  cifar100: { mean: [0.5071, 0.4867, 0.4408], std: [0.2675, 0.2565, 0.2761] },
  'fashion-mnist': { mean: [0.286], std: [0.353] },
  mnist: { mean: [0.1307], std: [0.3081] },
  // torchvision ImageNet statistics, the usual default for ImageFolder data; grey = their luma.
  folder: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  'folder-grey': { mean: [0.449], std: [0.226] },
  synthetic: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
};

const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export interface LoadOptions {
  /** Download a missing dataset from its official source (default: yes unless $CWB_NO_DOWNLOAD=1). */
  download?: boolean;
  /** No progress output on stderr. */
  quiet?: boolean;
}

/** Where each dataset is looked for, in order (absolute paths). */
export function candidatePaths(cfg: DatasetConfig): string[] {
  const root = resolveDataRoot(cfg.dataRoot);
  switch (cfg.name) {
    case 'cifar10':
      return [
        path.join(root, 'cifar-10-batches-bin'),
        path.join(root, 'cifar10', 'cifar-10-batches-bin'),
        path.join(root, 'cifar10'),
        path.join(root, 'cifar-10'),
        path.join(root, 'CIFAR10'),
      ];
    case 'cifar100':
      return [
        path.join(root, 'cifar-100-binary'),
        path.join(root, 'cifar100', 'cifar-100-binary'),
        path.join(root, 'cifar100'),
        path.join(root, 'cifar-100'),
        path.join(root, 'CIFAR100'),
      ];
    case 'fashion-mnist':
      return [
        path.join(root, 'fashion-mnist'),
        path.join(root, 'fashion-mnist', 'raw'),
        path.join(root, 'FashionMNIST', 'raw'),
        '/usr/share/datasets/fashion-mnist',
      ];
    case 'mnist':
      return [path.join(root, 'mnist'), path.join(root, 'mnist', 'raw'), path.join(root, 'MNIST', 'raw'), '/usr/share/datasets/mnist'];
    case 'folder': {
      if (!cfg.path) throw new Error(`dataset 'folder' needs a 'path' (the folder holding train/<class>/ and test/<class>/)`);
      return [path.resolve(root, cfg.path)];
    }
    case 'synthetic':
      return [];
    default:
      throw new Error(`unknown dataset name '${(cfg as { name: string }).name}'; use one of cifar10, cifar100, folder, fashion-mnist, mnist, synthetic`);
  }
}

type Located =
  | { kind: 'cifar-binary'; dir: string; variant: CifarVariant }
  | { kind: 'folder'; dir: string }
  | { kind: 'idx'; dir: string; files: Record<'trainImages' | 'trainLabels' | 'testImages' | 'testLabels', string> };

function isClassFolderRoot(dir: string): boolean {
  const train = path.join(dir, 'train');
  return fs.existsSync(train) && fs.statSync(train).isDirectory() && folderClassNames(dir).length > 0;
}

function idxFiles(dir: string): Located | undefined {
  const find = (base: string) => [base, `${base}.gz`].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  const files = {
    trainImages: find('train-images-idx3-ubyte'),
    trainLabels: find('train-labels-idx1-ubyte'),
    testImages: find('t10k-images-idx3-ubyte'),
    testLabels: find('t10k-labels-idx1-ubyte'),
  };
  if (Object.values(files).every(Boolean)) return { kind: 'idx', dir, files: files as Record<keyof typeof files, string> };
  return undefined;
}

/** Find a dataset on disk, or undefined. */
export function locateDataset(cfg: DatasetConfig): Located | undefined {
  for (const dir of candidatePaths(cfg)) {
    if (!fs.existsSync(dir)) continue;
    if (cfg.name === 'cifar10' || cfg.name === 'cifar100') {
      const marker = cfg.name === 'cifar10' ? 'data_batch_1.bin' : 'train.bin';
      if (fs.existsSync(path.join(dir, marker))) return { kind: 'cifar-binary', dir, variant: cfg.name };
      if (isClassFolderRoot(dir)) return { kind: 'folder', dir };
    } else if (cfg.name === 'folder') {
      if (isClassFolderRoot(dir) || fs.existsSync(path.join(dir, 'test'))) return { kind: 'folder', dir };
    } else {
      const found = idxFiles(dir);
      if (found) return found;
    }
  }
  return undefined;
}

function howToGet(cfg: DatasetConfig, root: string): string {
  if (cfg.name === 'folder') return `put images at ${candidatePaths(cfg)[0]}/{train,test}/<class>/<image>`;
  if (cfg.name === 'synthetic') return '';
  const src = DATASET_SOURCES[cfg.name];
  const files = src.files.map((f) => `${f.urls[0]} (md5 ${f.md5})`).join(', ');
  if (src.extractsTo) {
    const f = src.files[0];
    return `download ${files} and extract it into ${root} (\`mkdir -p ${root} && curl -LO ${f.urls[0]} && tar xzf ${f.file} -C ${root}\`), or call downloadDataset('${cfg.name}') with DATA_DIR=${root}`;
  }
  const extra = cfg.name === 'fashion-mnist' ? '; on Debian/Ubuntu `apt-get install dataset-fashion-mnist` provides them' : '';
  return `download ${files} into ${path.join(root, src.folder)}, or call downloadDataset('${cfg.name}')${extra}`;
}

function missingError(cfg: DatasetConfig, why?: string): Error {
  const root = resolveDataRoot(cfg.dataRoot);
  return new Error(
    `dataset '${cfg.name}' not found; searched ${candidatePaths(cfg).join(', ')} (data root ${root}, set by ` +
      `${cfg.dataRoot ? 'dataRoot' : process.env.DATA_DIR ? 'DATA_DIR' : 'the default ./data'}).` +
      (why ? ` Download failed: ${why}.` : '') +
      ` To get it: ${howToGet(cfg, root)}.`,
  );
}

/**
 * Download a dataset into the data root from its official source (resumable, md5-checked,
 * extracted atomically). Returns the folder holding it.
 */
export async function downloadDataset(
  name: 'cifar10' | 'cifar100' | 'fashion-mnist' | 'mnist',
  opts: { dataRoot?: string; quiet?: boolean } = {},
): Promise<string> {
  const root = resolveDataRoot(opts.dataRoot);
  const src = DATASET_SOURCES[name];
  const folder = path.join(root, src.folder);
  for (const f of src.files) {
    const dest = path.join(folder, f.file);
    await downloadFromMirrors(f.urls, dest, { md5: f.md5, quiet: opts.quiet });
    if (src.extractsTo) {
      if (!opts.quiet) process.stderr.write(`[cwb] extracting ${dest} into ${root}\n`);
      extractTar(dest, root, src.extractsTo);
    }
  }
  return src.extractsTo ? path.join(root, src.extractsTo) : folder;
}

async function locateOrDownload(cfg: DatasetConfig, opts: LoadOptions): Promise<Located> {
  const found = locateDataset(cfg);
  if (found) return found;
  const allowed = opts.download ?? process.env.CWB_NO_DOWNLOAD !== '1';
  if (!allowed || cfg.name === 'folder' || cfg.name === 'synthetic') throw missingError(cfg);
  try {
    await downloadDataset(cfg.name, { dataRoot: cfg.dataRoot, quiet: opts.quiet });
  } catch (e) {
    throw missingError(cfg, (e as Error).message);
  }
  const after = locateDataset(cfg);
  if (!after) throw missingError(cfg, 'the download finished but the files are not where expected');
  return after;
}

function statsFor(cfg: DatasetConfig, channels: number): { mean: number[]; std: number[] } {
  const s = DATASET_STATS[cfg.name === 'folder' && channels === 1 ? 'folder-grey' : cfg.name];
  return { mean: s.mean.slice(0, channels), std: s.std.slice(0, channels) };
}

function syntheticOptions(cfg: DatasetConfig, split: Split) {
  const s = { ...SYNTHETIC_DEFAULTS, ...(cfg.synthetic ?? {}) };
  return { perClass: split === 'train' ? s.perClass : s.testPerClass, size: s.size, classes: s.classes, channels: s.channels, colour: s.colour, seed: cfg.seed ?? 0 };
}

/**
 * Describe a dataset without loading its pixels (a directory listing and one image header for
 * class folders). Sizes are after `resize`; split counts are of the full dataset.
 */
export function datasetInfo(cfg: DatasetConfig): DatasetInfo {
  const resized = (h: number, w: number): [number, number] => (cfg.resize ? [cfg.resize, cfg.resize] : [h, w]);
  switch (cfg.name) {
    case 'synthetic': {
      const tr = syntheticOptions(cfg, 'train');
      const te = syntheticOptions(cfg, 'test');
      return {
        name: 'synthetic',
        imageSize: resized(tr.size, tr.size),
        channels: tr.channels,
        numClasses: tr.classes,
        classNames: syntheticClassNames(tr.classes, tr.colour),
        splits: { train: tr.perClass * tr.classes, test: te.perClass * te.classes },
        ...statsFor(cfg, tr.channels),
      };
    }
    case 'cifar10':
    case 'cifar100': {
      const loc = locateDataset(cfg);
      if (loc?.kind === 'folder') return folderInfo(cfg, loc.dir);
      const classNames = loc?.kind === 'cifar-binary' ? cifarClassNames(loc.dir, cfg.name) : cfg.name === 'cifar10' ? CIFAR10_CLASSES : CIFAR100_CLASSES;
      return {
        name: cfg.name,
        imageSize: resized(32, 32),
        channels: 3,
        numClasses: classNames.length,
        classNames,
        splits: { train: 50000, test: 10000 },
        ...statsFor(cfg, 3),
      };
    }
    case 'fashion-mnist':
    case 'mnist':
      return {
        name: cfg.name,
        imageSize: resized(28, 28),
        channels: 1,
        numClasses: 10,
        classNames: cfg.name === 'mnist' ? MNIST_CLASSES : FASHION_CLASSES,
        splits: { train: 60000, test: 10000 },
        ...statsFor(cfg, 1),
      };
    case 'folder': {
      const loc = locateDataset(cfg);
      if (!loc) throw missingError(cfg);
      return folderInfo(cfg, loc.dir);
    }
    default:
      throw new Error(`unknown dataset name '${(cfg as { name: string }).name}'`);
  }
}

function folderInfo(cfg: DatasetConfig, dir: string): DatasetInfo {
  const classNames = folderClassNames(dir);
  const first = listFolderSplit(dir, fs.existsSync(path.join(dir, 'train')) ? 'train' : 'test', classNames).files[0];
  const firstFile = path.join(dir, fs.existsSync(path.join(dir, 'train')) ? 'train' : 'test', first);
  const probe = probeImageSync(firstFile);
  if (!probe && !cfg.resize) {
    throw new Error(`${firstFile}: cannot read the image size from its header (not PNG/JPEG); set the dataset's 'resize' option`);
  }
  // Decided for the whole dataset (config, else the majority of both splits), as loading does.
  const channels = folderChannels(dir, { channels: cfg.channels, dataRoot: resolveDataRoot(cfg.dataRoot), quiet: true }).channels;
  return {
    name: cfg.name === 'folder' ? path.basename(dir) : cfg.name,
    imageSize: cfg.resize ? [cfg.resize, cfg.resize] : [probe!.height, probe!.width],
    channels,
    numClasses: classNames.length,
    classNames,
    splits: { train: countFolderSplit(dir, 'train'), test: countFolderSplit(dir, 'test') },
    ...statsFor(cfg.name === 'cifar10' || cfg.name === 'cifar100' ? cfg : { ...cfg, name: 'folder' }, channels),
  };
}

/** Bilinear resize (half-pixel centres) of NHWC uint8 images on the active backend, in chunks. */
export async function resizeImages(images: Uint8Array, n: number, h: number, w: number, c: number, size: number): Promise<Uint8Array> {
  const out = new Uint8Array(n * size * size * c);
  const chunk = 256;
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    const src = Float32Array.from(images.subarray(s * h * w * c, (s + m) * h * w * c));
    const r = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(src, [m, h, w, c]), [size, size], false, true).round().clipByValue(0, 255));
    try {
      out.set(await r.data(), s * size * size * c);
    } finally {
      r.dispose();
    }
  }
  return out;
}

/**
 * Load one split into memory. Honours `resize` (square), `trainSubset` / `testSubset` (seeded by
 * `seed`, class-balanced) and, for `synthetic`, its generator options.
 */
export async function loadDataset(cfg: DatasetConfig, split: Split, opts: LoadOptions = {}): Promise<ImageSet> {
  if (split !== 'train' && split !== 'test') throw new Error(`split must be 'train' or 'test', got '${split}'`);
  if (cfg.resize !== undefined && !(Number.isInteger(cfg.resize) && cfg.resize > 0)) {
    throw new Error(`dataset.resize must be a positive integer, got ${cfg.resize}`);
  }
  const root = resolveDataRoot(cfg.dataRoot);
  let images: Uint8Array;
  let labels: Int32Array;
  let n: number;
  let h: number;
  let w: number;
  let c: number;
  let classNames: string[];
  let name: string = cfg.name;
  let resizedAlready = false;
  if (cfg.name === 'synthetic') {
    const o = syntheticOptions(cfg, split);
    ({ images, labels, n } = generateSynthetic(o, split));
    h = w = o.size;
    c = o.channels;
    classNames = syntheticClassNames(o.classes, o.colour);
  } else {
    const loc = await locateOrDownload(cfg, opts);
    if (loc.kind === 'cifar-binary') {
      ({ images, labels, n } = loadCifarBinary(loc.dir, loc.variant, split));
      h = w = 32;
      c = 3;
      classNames = cifarClassNames(loc.dir, loc.variant);
    } else if (loc.kind === 'idx') {
      const f = loc.files;
      const r = split === 'train' ? loadIdxPair(f.trainImages, f.trainLabels, 10) : loadIdxPair(f.testImages, f.testLabels, 10);
      ({ images, labels, n, h, w } = r);
      c = 1;
      classNames = cfg.name === 'mnist' ? MNIST_CLASSES : FASHION_CLASSES;
    } else {
      const d = await loadFolderSplit(loc.dir, split, { resize: cfg.resize, dataRoot: root, quiet: opts.quiet, channels: cfg.channels });
      ({ images, labels, n, h, w, c, classNames } = d);
      resizedAlready = true;
      if (cfg.name === 'folder') name = path.basename(loc.dir);
    }
  }
  if (cfg.resize && !resizedAlready && (cfg.resize !== h || cfg.resize !== w)) {
    images = await resizeImages(images, n, h, w, c, cfg.resize);
    h = w = cfg.resize;
  }
  const subsetN = split === 'train' ? cfg.trainSubset : cfg.testSubset;
  if (subsetN !== undefined && subsetN < n) {
    const idx = classBalancedSubset(labels, classNames.length, subsetN, (cfg.seed ?? 0) + (split === 'train' ? 0 : 7919));
    ({ images, labels } = gatherImages(images, labels, idx, h * w * c));
    n = idx.length;
  }
  let full: Record<Split, number>;
  try {
    full = datasetInfo(cfg).splits;
  } catch {
    full = { train: split === 'train' ? n : 0, test: split === 'test' ? n : 0 };
  }
  const info: DatasetInfo = {
    name,
    imageSize: [h, w],
    channels: c,
    numClasses: classNames.length,
    classNames,
    splits: full,
    ...statsFor(cfg, c),
  };
  return { info, split, n, images, labels };
}
