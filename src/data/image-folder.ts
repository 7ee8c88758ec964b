/**
 * Class folders of images (the torchvision ImageFolder layout): `<root>/<split>/<class>/<image>`,
 * classes from the sorted folder names of the train split, decoded with sharp. The decoded pixels
 * are cached once per split (see image-cache.ts) under a key built from the file list, sizes,
 * mtimes and the resize option, so the cache is rebuilt whenever the source changes.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { Split } from '../types';
import { readImageCache, writeImageCache } from './image-cache';
import { cacheDirFor } from './paths';

const IMAGE_EXT = /\.(jpe?g|png|webp|gif|tiff?|bmp)$/i;
const CACHE_FORMAT = 1;

export interface FolderListing {
  classNames: string[];
  /** Image paths relative to the split folder, in class then name order. */
  files: string[];
  labels: Int32Array;
}

/** Sorted class folder names of `<root>/train` (or of the split folder when train is absent). */
export function folderClassNames(root: string): string[] {
  const trainDir = fs.existsSync(path.join(root, 'train')) ? path.join(root, 'train') : path.join(root, 'test');
  return fs
    .readdirSync(trainDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
}

/** List the images of one split; errors name the folder at fault. */
export function listFolderSplit(root: string, split: Split, classNames: string[]): FolderListing {
  const dir = path.join(root, split);
  if (!fs.existsSync(dir)) throw new Error(`${dir} does not exist: a class-folder dataset needs ${split}/<class>/<image> under ${root}`);
  const present = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
  const unknown = present.filter((c) => !classNames.includes(c));
  if (unknown.length) {
    throw new Error(`${dir} has class folder(s) ${unknown.join(', ')} that are not in the train split's classes (${classNames.join(', ')})`);
  }
  const files: string[] = [];
  const labels: number[] = [];
  for (const cls of present) {
    const names = fs
      .readdirSync(path.join(dir, cls))
      .filter((f) => IMAGE_EXT.test(f))
      .sort();
    for (const f of names) {
      files.push(`${cls}/${f}`);
      labels.push(classNames.indexOf(cls));
    }
  }
  if (files.length === 0) throw new Error(`${dir} holds no images (looked for ${IMAGE_EXT.source} files in its class folders)`);
  return { classNames, files, labels: Int32Array.from(labels) };
}

/** Number of images of each class folder of a split (cheap: directory listings only). */
export function countFolderSplit(root: string, split: Split): number {
  const dir = path.join(root, split);
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    if (d.isDirectory() && !d.name.startsWith('.')) n += fs.readdirSync(path.join(dir, d.name)).filter((f) => IMAGE_EXT.test(f)).length;
  }
  return n;
}

export interface DecodeOptions {
  /** Square output size; images are resized to cover it and centre-cropped (Resize + CenterCrop). */
  resize?: number;
  /** Where the data root is (for the cache fallback location). */
  dataRoot: string;
  /** Images decoded concurrently. */
  concurrency?: number;
  /** Print progress of a cache build to stderr. */
  quiet?: boolean;
}

export interface DecodedSplit {
  images: Uint8Array;
  labels: Int32Array;
  n: number;
  h: number;
  w: number;
  c: number;
  classNames: string[];
  cacheFile: string;
  /** True when read from the cache, false when decoded now. */
  fromCache: boolean;
}

function cacheKey(dir: string, listing: FolderListing, resize: number | undefined): string {
  const h = crypto.createHash('sha1');
  h.update(JSON.stringify({ format: CACHE_FORMAT, resize: resize ?? null, classes: listing.classNames }));
  for (const f of listing.files) {
    const st = fs.statSync(path.join(dir, f));
    h.update(`${f}\t${st.size}\t${Math.round(st.mtimeMs)}\n`);
  }
  return h.digest('hex');
}

type Sharp = typeof import('sharp');
function loadSharp(): Sharp {
  try {
    return require('sharp') as Sharp;
  } catch (e) {
    throw new Error(`decoding image folders needs the 'sharp' package (npm install sharp): ${(e as Error).message}`);
  }
}

/** Decode (or read from cache) one split of a class-folder dataset. */
export async function loadFolderSplit(root: string, split: Split, opts: DecodeOptions): Promise<DecodedSplit> {
  const classNames = folderClassNames(root);
  const listing = listFolderSplit(root, split, classNames);
  const dir = path.join(root, split);
  const key = cacheKey(dir, listing, opts.resize);
  const cacheFile = path.join(cacheDirFor(root, opts.dataRoot), `${split}-${opts.resize ? `r${opts.resize}` : 'native'}.cwbimg`);
  const cached = readImageCache(cacheFile, key);
  if (cached) {
    const { n, h, w, c } = cached.header;
    return { images: cached.images, labels: cached.labels, n, h, w, c, classNames, cacheFile, fromCache: true };
  }
  const sharp = loadSharp();
  const n = listing.files.length;
  const first = path.join(dir, listing.files[0]);
  let meta: import('sharp').Metadata;
  try {
    meta = await sharp(first).metadata();
  } catch (e) {
    throw new Error(`${first}: cannot read image (${(e as Error).message})`);
  }
  const c = (meta.channels ?? 3) <= 2 ? 1 : 3;
  const h = opts.resize ?? meta.height ?? 0;
  const w = opts.resize ?? meta.width ?? 0;
  const px = h * w * c;
  const images = new Uint8Array(n * px);
  const quiet = opts.quiet ?? false;
  const t0 = Date.now();
  let next = 0;
  let done = 0;
  let lastLog = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < n && !failed) {
      const i = next++;
      const file = path.join(dir, listing.files[i]);
      let out: { data: Buffer; info: import('sharp').OutputInfo };
      try {
        let img = sharp(file, { failOn: 'truncated' });
        if (opts.resize) img = img.resize(opts.resize, opts.resize, { fit: 'cover', position: 'centre' });
        img = c === 1 ? img.greyscale() : img.toColourspace('srgb');
        out = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
      } catch (e) {
        failed = true;
        throw new Error(`${file}: cannot decode image (${(e as Error).message.split('\n')[0]})`);
      }
      const { info, data } = out;
      if (info.width !== w || info.height !== h || info.channels !== c) {
        failed = true;
        throw new Error(
          `${file}: image is ${info.width}x${info.height}x${info.channels}, expected ${w}x${h}x${c} like ${first}; ` +
            `set the dataset's 'resize' option to load images of different sizes`,
        );
      }
      images.set(data, i * px);
      done++;
      if (!quiet && Date.now() - lastLog > 2000) {
        lastLog = Date.now();
        process.stderr.write(`\r[cwb] decoding ${dir}: ${done}/${n} images`);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  if (!quiet && lastLog > 0) process.stderr.write(`\r[cwb] decoded ${n} images of ${dir} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  writeImageCache(cacheFile, { key, n, h, w, c, classNames }, images, listing.labels);
  return { images, labels: listing.labels, n, h, w, c, classNames, cacheFile, fromCache: false };
}
