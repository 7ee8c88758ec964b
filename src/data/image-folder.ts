/**
 * Class folders of images (the torchvision ImageFolder layout): `<root>/<split>/<class>/<image>`,
 * classes from the sorted folder names of the train split, decoded with sharp. The decoded pixels
 * are cached once per split (see image-cache.ts) under a key built from the file list, sizes,
 * mtimes, the channel count and the resize option, so the cache is rebuilt whenever the source
 * changes.
 *
 * Channels are decided once per dataset, for both splits: the dataset config's `channels`, else
 * the majority of the image headers of train and test (grey or grey+alpha count as 1, RGB, RGBA
 * and palette as 3; ties go to 3). Every image is converted to that count (grey to RGB or RGB to
 * luma, alpha dropped), and when some had to be converted one line says so.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { Split } from '../types';
import { readImageCache, writeImageCache } from './image-cache';
import { cacheDirFor } from './paths';
import { probeImageSync } from './probe';

const IMAGE_EXT = /\.(jpe?g|png|webp|gif|tiff?|bmp)$/i;
const CACHE_FORMAT = 2;

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
  /** Channels of the dataset (1 or 3); decided from the images of both splits when absent. */
  channels?: number;
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

function cacheKey(dir: string, listing: FolderListing, resize: number | undefined, channels: number): string {
  const h = crypto.createHash('sha1');
  h.update(JSON.stringify({ format: CACHE_FORMAT, resize: resize ?? null, channels, classes: listing.classNames }));
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

export interface ChannelDecision {
  channels: 1 | 3;
  /** 'config': the dataset's `channels`; 'majority': counted from the image headers. */
  source: 'config' | 'majority';
  /** Images of each kind in train + test (majority only); `unknown`: headers other than PNG/JPEG (decoded as colour). */
  counts?: { grey: number; colour: number; alpha: number; unknown: number };
  /** Images converted to `channels` (majority only; alpha removal included). */
  converted?: number;
}

const DECISION_FORMAT = 1;
const announced = new Set<string>();

/**
 * The channel count of a class-folder dataset, the same for both splits (see the file comment).
 * The count from the headers is kept in the cache folder under a key of the file lists.
 */
export function folderChannels(root: string, opts: { channels?: number; dataRoot: string; quiet?: boolean }): ChannelDecision {
  const d = decideChannels(root, opts);
  d.save();
  return d.decision;
}

/** The decision and how to keep it (done by loading only once the split decoded, so a failed build leaves nothing). */
function decideChannels(root: string, opts: { channels?: number; dataRoot: string; quiet?: boolean }): { decision: ChannelDecision; save: () => void } {
  if (opts.channels !== undefined) {
    if (opts.channels !== 1 && opts.channels !== 3) throw new Error(`dataset.channels must be 1 or 3, got ${JSON.stringify(opts.channels)}`);
    return { decision: { channels: opts.channels, source: 'config' }, save: () => undefined };
  }
  const classNames = folderClassNames(root);
  const splits = (['train', 'test'] as const).filter((s) => fs.existsSync(path.join(root, s)));
  const files = splits.flatMap((s) => listFolderSplit(root, s, classNames).files.map((f) => path.join(s, f)));
  const h = crypto.createHash('sha1');
  h.update(`${DECISION_FORMAT}\n`);
  for (const f of files) {
    const st = fs.statSync(path.join(root, f));
    h.update(`${f}\t${st.size}\t${Math.round(st.mtimeMs)}\n`);
  }
  const key = h.digest('hex').slice(0, 16);
  let dec: ChannelDecision | undefined;
  let file: string | undefined;
  let save = () => undefined as void;
  try {
    file = path.join(cacheDirFor(root, opts.dataRoot), `channels-${key}.json`);
    if (fs.existsSync(file)) dec = JSON.parse(fs.readFileSync(file, 'utf8')) as ChannelDecision;
  } catch {
    dec = undefined; // no cache folder or an unreadable decision: count again
  }
  if (!dec || (dec.channels !== 1 && dec.channels !== 3)) {
    const counts = { grey: 0, colour: 0, alpha: 0, unknown: 0 };
    for (const f of files) {
      let p;
      try {
        p = probeImageSync(path.join(root, f));
      } catch {
        p = undefined;
      }
      if (!p) counts.unknown++;
      else if (p.channels === 1) counts.grey++;
      else counts.colour++;
      if (p?.alpha) counts.alpha++;
    }
    const channels: 1 | 3 = counts.grey > counts.colour + counts.unknown ? 1 : 3;
    const minority = channels === 1 ? counts.colour + counts.unknown : counts.grey;
    const made: ChannelDecision = { channels, source: 'majority', counts, converted: minority + counts.alpha };
    dec = made;
    const target = file;
    save = () => {
      if (!target) return;
      try {
        fs.writeFileSync(`${target}.tmp-${process.pid}`, JSON.stringify(made) + '\n');
        fs.renameSync(`${target}.tmp-${process.pid}`, target);
      } catch {
        /* read-only cache: decided again next time, with the same result */
      }
    };
  }
  const c = dec.counts;
  if (c && dec.converted && !opts.quiet && !announced.has(`${root}:${key}`)) {
    announced.add(`${root}:${key}`);
    const parts = [`${c.colour + c.unknown} colour`, `${c.grey} grey`, ...(c.alpha ? [`${c.alpha} with alpha`] : [])];
    const how = [
      ...(dec.channels === 3 && c.grey ? ['grey to RGB'] : []),
      ...(dec.channels === 1 && c.colour + c.unknown ? ['colour to grey'] : []),
      ...(c.alpha ? ['alpha dropped'] : []),
    ];
    process.stderr.write(
      `[cwb] ${root}: images are loaded with ${dec.channels} channel${dec.channels === 1 ? '' : 's'} ` +
        `(the majority of ${files.length}: ${parts.join(', ')}); ${dec.converted} converted (${how.join(', ')}); set dataset.channels to choose\n`,
    );
  }
  return { decision: dec, save };
}

/** Decode (or read from cache) one split of a class-folder dataset. */
export async function loadFolderSplit(root: string, split: Split, opts: DecodeOptions): Promise<DecodedSplit> {
  const classNames = folderClassNames(root);
  const listing = listFolderSplit(root, split, classNames);
  const dir = path.join(root, split);
  const decided = decideChannels(root, { channels: opts.channels, dataRoot: opts.dataRoot, quiet: opts.quiet });
  const c = decided.decision.channels;
  const key = cacheKey(dir, listing, opts.resize, c);
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
        // Same conversion for every image of the dataset: grey to RGB (or colour to luma), alpha dropped.
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
  decided.save();
  return { images, labels: listing.labels, n, h, w, c, classNames, cacheFile, fromCache: false };
}
