/**
 * The IDX format of MNIST and Fashion-MNIST (gzipped or not): a big-endian header
 * `0x00 0x00 <type> <ndim>` then ndim uint32 dimensions, then the data. Images are
 * `[N, H, W]` ubyte (magic 0x00000803), labels `[N]` ubyte (0x00000801).
 */
import * as fs from 'fs';
import * as zlib from 'zlib';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parse an IDX buffer (gunzipping it when it starts with the gzip magic). */
export function parseIdx(raw: Uint8Array, file: string): IdxArray {
  let buf = raw;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = zlib.gunzipSync(buf);
    } catch (e) {
      throw new Error(`${file}: gzip data is corrupt or truncated (${(e as Error).message})`);
    }
  }
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) {
    throw new Error(`${file}: not an IDX file (the first two bytes must be 0; got ${buf[0]}, ${buf[1]})`);
  }
  if (buf[2] !== 0x08) throw new Error(`${file}: IDX data type 0x${buf[2].toString(16)} is not unsigned byte (0x08)`);
  const ndim = buf[3];
  const header = 4 + 4 * ndim;
  if (buf.length < header) throw new Error(`${file}: truncated IDX header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== header + count) {
    throw new Error(
      `${file}: IDX header says [${dims.join(', ')}] (${count} bytes of data) but the file holds ${buf.length - header}; truncated or corrupt`,
    );
  }
  return { dims, data: buf.subarray(header) };
}

/** Read an images file and a labels file into NHWC (C = 1) pixels and labels, checking they agree. */
export function loadIdxPair(
  imagesFile: string,
  labelsFile: string,
  numClasses: number,
): { images: Uint8Array; labels: Int32Array; n: number; h: number; w: number } {
  const im = parseIdx(fs.readFileSync(imagesFile), imagesFile);
  const lb = parseIdx(fs.readFileSync(labelsFile), labelsFile);
  if (im.dims.length !== 3) throw new Error(`${imagesFile}: expected 3 dimensions [N, H, W], got [${im.dims.join(', ')}]`);
  if (lb.dims.length !== 1) throw new Error(`${labelsFile}: expected 1 dimension [N], got [${lb.dims.join(', ')}]`);
  const [n, h, w] = im.dims;
  if (lb.dims[0] !== n) {
    throw new Error(`${imagesFile} holds ${n} images but ${labelsFile} holds ${lb.dims[0]} labels`);
  }
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = lb.data[i];
    if (v >= numClasses) throw new Error(`${labelsFile}: label ${i} is ${v}, outside 0..${numClasses - 1}`);
    labels[i] = v;
  }
  return { images: new Uint8Array(im.data), labels, n, h, w };
}
