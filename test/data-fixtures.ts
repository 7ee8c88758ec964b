/** Small data files written by the data tests into temporary folders. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cwb-${tag}-`));
}

/** Pixel (y, x, c) of image i in the fixtures: a fixed function so tests can check values. */
export function pixel(i: number, y: number, x: number, c: number): number {
  return (i * 31 + y * 7 + x * 3 + c * 85) % 256;
}

/** CIFAR binary records: label byte(s) then the R, G, B planes. */
export function cifarRecords(labels: number[][], start = 0): Buffer {
  const recs = labels.map((lab, k) => {
    const i = start + k;
    const b = Buffer.alloc(lab.length + 3072);
    lab.forEach((v, j) => {
      b[j] = v;
    });
    for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) b[lab.length + c * 1024 + y * 32 + x] = pixel(i, y, x, c);
    return b;
  });
  return Buffer.concat(recs);
}

/** An IDX file of unsigned bytes with the given dims. */
export function idx(dims: number[], data: Uint8Array, gzip: boolean): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => {
    head.writeUInt32BE(d, 4 + 4 * i);
  });
  const raw = Buffer.concat([head, Buffer.from(data)]);
  return gzip ? zlib.gzipSync(raw) : raw;
}

/** A 1 x 1 ... image set of greyscale idx pixels for n images h x w. */
export function greyPixels(n: number, h: number, w: number): Uint8Array {
  const d = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[(i * h + y) * w + x] = pixel(i, y, x, 0);
  return d;
}
