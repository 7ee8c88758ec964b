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
