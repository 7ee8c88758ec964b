/**
 * A compact binary cache of decoded images: magic `CWBIMGS1`, a uint32 (little-endian) header
 * length, a JSON header (key, n, h, w, c, class names), then n*h*w*c uint8 pixels (NHWC) and n
 * int32 labels. It is written to a temporary file and renamed, so a reader never sees half a cache.
 */
import * as fs from 'fs';
import * as path from 'path';

const MAGIC = 'CWBIMGS1';

export interface CacheHeader {
  /** Hash of everything the content depends on (file list, sizes, mtimes, options). */
  key: string;
  n: number;
  h: number;
  w: number;
  c: number;
  classNames: string[];
}

export interface CachedImages {
  header: CacheHeader;
  images: Uint8Array;
  labels: Int32Array;
}

export function writeImageCache(file: string, header: CacheHeader, images: Uint8Array, labels: Int32Array): void {
  const { n, h, w, c } = header;
  if (images.length !== n * h * w * c || labels.length !== n) {
    throw new Error(`writeImageCache(${file}): ${images.length} pixels / ${labels.length} labels do not match n=${n} ${h}x${w}x${c}`);
  }
  let json = JSON.stringify(header);
  while ((12 + Buffer.byteLength(json)) % 4 !== 0) json += ' ';
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'ascii');
  head.writeUInt32LE(Buffer.byteLength(json), 8);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, head);
    fs.writeSync(fd, Buffer.from(json));
    fs.writeSync(fd, images);
    fs.writeSync(fd, new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Read a cache written by `writeImageCache`. Returns undefined (so the caller rebuilds) when the
 * file is missing, its key differs from `key`, or it is malformed or truncated.
 */
export function readImageCache(file: string, key: string): CachedImages | undefined {
  if (!fs.existsSync(file)) return undefined;
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  if (buf.length < 12 || buf.toString('ascii', 0, 8) !== MAGIC) return undefined;
  const len = buf.readUInt32LE(8);
  let header: CacheHeader;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + len)) as CacheHeader;
  } catch {
    return undefined;
  }
  if (header.key !== key) return undefined;
  const { n, h, w, c } = header;
  const start = 12 + len;
  const pix = n * h * w * c;
  if (buf.length !== start + pix + 4 * n) return undefined;
  const images = new Uint8Array(buf.buffer, buf.byteOffset + start, pix);
  const labels = new Int32Array(n);
  Buffer.from(labels.buffer).set(buf.subarray(start + pix, start + pix + 4 * n));
  for (let i = 0; i < n; i++) if (labels[i] < 0 || labels[i] >= header.classNames.length) return undefined;
  return { header, images, labels };
}
