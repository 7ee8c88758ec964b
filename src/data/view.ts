/**
 * A look at the augmentations: a PNG grid with one row per image, its original in the first
 * column and `nViews` augmented views after it (upscaled with nearest neighbour so 32 px images
 * are visible), plus a helper that shows a PNG in a tslab notebook or returns it as a MIME bundle.
 */
import * as tf from '@tensorflow/tfjs';
import type { AugmentPresetName, ImageSet } from '../types';
import { Rng } from '../util/rng';
import { augment } from './augment/augment';
import { denormalize } from './augment/normalize';
import { resolvePipeline, type AugmentPipeline } from './augment/presets';

export interface ViewGridOptions {
  /** Side of each cell in pixels (default: the larger image size, at least 96). */
  cell?: number;
  /** Gap between cells in pixels (default 2, white). */
  gap?: number;
}

/** PNG of originals + augmented views (rows = images). */
export async function viewGrid(
  set: ImageSet,
  index: number | number[],
  preset: AugmentPresetName | AugmentPipeline,
  nViews: number,
  seed: number,
  opts: ViewGridOptions = {},
): Promise<Uint8Array> {
  const indices = Array.isArray(index) ? index : [index];
  for (const i of indices) if (!(Number.isInteger(i) && i >= 0 && i < set.n)) throw new Error(`viewGrid: index ${i} outside 0..${set.n - 1}`);
  const [h, w] = set.info.imageSize;
  const c = set.info.channels;
  const px = h * w * c;
  const rows = indices.length;
  const normalized = resolvePipeline(preset).steps.some((s) => s.op === 'normalize');
  const rng = new Rng(seed >>> 0);
  const pixels = new Int32Array(rows * px);
  indices.forEach((i, r) => pixels.set(set.images.subarray(i * px, (i + 1) * px), r * px));
  const x = tf.tensor4d(pixels, [rows, h, w, c], 'int32');
  const cells: tf.Tensor4D[] = [];
  let cell = opts.cell ?? 0;
  try {
    const views: tf.Tensor4D[] = [];
    for (let v = 0; v < nViews; v++) {
      const a = augment(x, preset, rng, set.info);
      views.push(normalized ? tf.tidy(() => denormalize(a, set.info.mean, set.info.std)) : a);
      if (normalized) a.dispose();
    }
    if (!cell) cell = Math.max(96, h, w, ...views.map((v) => Math.max(v.shape[1], v.shape[2])));
    const all = [tf.tidy(() => x.toFloat().div(255) as tf.Tensor4D), ...views];
    for (const t of all) {
      cells.push(tf.tidy(() => tf.image.resizeNearestNeighbor(t, [cell, cell]).mul(255).round().clipByValue(0, 255) as tf.Tensor4D));
      t.dispose();
    }
  } finally {
    x.dispose();
  }
  const gap = opts.gap ?? 2;
  const cols = cells.length;
  const W = cols * cell + (cols + 1) * gap;
  const H = rows * cell + (rows + 1) * gap;
  const grid = new Uint8Array(W * H * c).fill(255);
  try {
    for (let col = 0; col < cols; col++) {
      const data = await cells[col].data();
      for (let r = 0; r < rows; r++)
        for (let y = 0; y < cell; y++) {
          const dst = ((gap + r * (cell + gap) + y) * W + gap + col * (cell + gap)) * c;
          const src = ((r * cell + y) * cell) * c;
          for (let k = 0; k < cell * c; k++) grid[dst + k] = data[src + k];
        }
    }
  } finally {
    tf.dispose(cells);
  }
  const sharp = require('sharp') as typeof import('sharp');
  const png = await sharp(Buffer.from(grid.buffer), { raw: { width: W, height: H, channels: c as 1 | 3 } }).png().toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}

/** A PNG as a MIME bundle entry. */
export function pngBundle(png: Uint8Array): { mime: 'image/png'; data: Uint8Array } {
  return { mime: 'image/png', data: png };
}

/**
 * Show a PNG: inside a tslab kernel it is displayed (and `displayed` is true); elsewhere it is
 * returned as `{mime, data}` for the caller to save or embed.
 */
export function displayImage(png: Uint8Array): { mime: 'image/png'; data: Uint8Array; displayed: boolean } {
  try {
    const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData?: unknown };
    if (jupyter.lastWriteDisplayData) {
      const tslab = require('tslab') as { display: { png(b: Uint8Array): void } };
      tslab.display.png(png);
      return { ...pngBundle(png), displayed: true };
    }
  } catch {
    /* not in a tslab kernel (or tslab not installed) */
  }
  return { ...pngBundle(png), displayed: false };
}

export interface ImageGridOptions {
  /** Side of each cell in pixels (default: the image size, at least 64). */
  cell?: number;
  /** Border width in pixels (default 3); the border carries `borders[r][c]`. */
  border?: number;
  /** RGB border colour per cell (e.g. green for a neighbour of the query's class); default white. */
  borders?: ([number, number, number] | undefined)[][];
}

/**
 * PNG of a grid of images of `set`: `rows[r][c]` is the index of the image in row r, column c
 * (rows may be ragged; missing cells stay white). Nearest-neighbour upscaling, one coloured border
 * per cell; the grid is assembled with tensor ops and encoded by sharp.
 */
export async function imageGrid(set: ImageSet, rows: number[][], opts: ImageGridOptions = {}): Promise<Uint8Array> {
  if (!Array.isArray(rows) || rows.length === 0 || rows.some((r) => !Array.isArray(r))) throw new Error('imageGrid: rows must be a non-empty array of index arrays');
  const cols = Math.max(...rows.map((r) => r.length));
  if (cols === 0) throw new Error('imageGrid: every row is empty');
  rows.forEach((r, i) => r.forEach((j) => {
    if (!(Number.isInteger(j) && j >= 0 && j < set.n)) throw new Error(`imageGrid: rows[${i}] holds index ${j}, outside 0..${set.n - 1}`);
  }));
  const [h, w] = set.info.imageSize;
  const c = set.info.channels;
  const px = h * w * c;
  const cell = opts.cell ?? Math.max(64, h, w);
  const b = opts.border ?? 3;
  const side = cell + 2 * b;
  const R = rows.length;
  // Host gather of the selected images (a white image for a missing cell), then tensor ops.
  const pixels = new Uint8Array(R * cols * px).fill(255);
  const colours = new Float32Array(R * cols * 3).fill(255);
  rows.forEach((r, i) => r.forEach((j, k) => {
    pixels.set(set.images.subarray(j * px, (j + 1) * px), (i * cols + k) * px);
    const col = opts.borders?.[i]?.[k];
    if (col) colours.set(col, (i * cols + k) * 3);
  }));
  const grid = tf.tidy(() => {
    let x = tf.tensor4d(pixels, [R * cols, h, w, c], 'int32').toFloat() as tf.Tensor4D;
    if (c === 1) x = tf.tile(x, [1, 1, 1, 3]) as tf.Tensor4D;
    const up = tf.image.resizeNearestNeighbor(x, [cell, cell]); // [n, cell, cell, 3]
    const padded = tf.pad(up, [[0, 0], [b, b], [b, b], [0, 0]]);
    const mask = tf.pad(tf.ones([R * cols, cell, cell, 1]), [[0, 0], [b, b], [b, b], [0, 0]]);
    const frame = tf.tensor2d(colours, [R * cols, 3]).reshape([R * cols, 1, 1, 3]);
    const cells = tf.add(tf.mul(padded, mask), tf.mul(frame, tf.sub(1, mask))); // [n, side, side, 3]
    return cells.reshape([R, cols, side, side, 3]).transpose([0, 2, 1, 3, 4]).reshape([R * side, cols * side, 3]).round().clipByValue(0, 255).toInt();
  });
  const data = Uint8Array.from((await grid.data()) as Int32Array);
  grid.dispose();
  const sharp = require('sharp') as typeof import('sharp');
  const png = await sharp(Buffer.from(data.buffer), { raw: { width: cols * side, height: R * side, channels: 3 } }).png().toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}
