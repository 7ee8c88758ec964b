/**
 * RandomResizedCrop with torchvision's sampling (10 tries of a random area fraction and log-uniform
 * aspect ratio, then the centre-crop fallback), applied to the whole batch at once with
 * `tf.image.cropAndResize` and one box per sample. A horizontal flip can be folded into the box
 * (x1 > x2 samples the crop mirrored), which is how the pipeline applies `flip` after a crop.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/rng';

/** A crop in pixels: rows top..top+height-1, columns left..left+width-1. */
export interface CropParams {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Python's round (half to even), as torchvision uses it. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** torchvision `RandomResizedCrop.get_params` for one image of `height` x `width`. */
export function sampleCropParams(height: number, width: number, scale: [number, number], ratio: [number, number], rng: Rng): CropParams {
  const area = height * width;
  const logR: [number, number] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let t = 0; t < 10; t++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logR[0], logR[1]));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: rng.int(height - h + 1), left: rng.int(width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/**
 * `cropAndResize` boxes [B, 4] for crops of an image padded by one edge pixel on every side
 * (so bilinear taps at the border clamp to the edge like PIL's resize). Output pixel o of a crop
 * of length L starting at s samples the source at s + (o + 0.5) * L / out - 0.5 (half-pixel centres).
 */
export function cropBoxes(crops: CropParams[], height: number, width: number, outH: number, outW: number, flips?: boolean[]): Float32Array {
  const boxes = new Float32Array(crops.length * 4);
  crops.forEach((c, i) => {
    // +1 for the padding; the padded image has height + 2 rows, normalised by (height + 1).
    const y1 = (c.top + (0.5 * c.height) / outH - 0.5 + 1) / (height + 1);
    const y2 = (c.top + c.height - (0.5 * c.height) / outH - 0.5 + 1) / (height + 1);
    let x1 = (c.left + (0.5 * c.width) / outW - 0.5 + 1) / (width + 1);
    let x2 = (c.left + c.width - (0.5 * c.width) / outW - 0.5 + 1) / (width + 1);
    if (flips?.[i]) [x1, x2] = [x2, x1];
    boxes.set([y1, x1, y2, x2], i * 4);
  });
  return boxes;
}

/** Crop each image of x [B, H, W, C] (float) with its own params and resize to [outH, outW]. */
export function cropResize(x: tf.Tensor4D, crops: CropParams[], outH: number, outW: number, flips?: boolean[]): tf.Tensor4D {
  const [B, H, W] = x.shape;
  if (crops.length !== B) throw new Error(`cropResize: ${crops.length} crops for a batch of ${B}`);
  return tf.tidy(() => {
    const padded = tf.mirrorPad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], 'symmetric'); // [B, H+2, W+2, C]
    const boxes = tf.tensor2d(cropBoxes(crops, H, W, outH, outW, flips), [B, 4]);
    const boxInd = tf.range(0, B, 1, 'int32') as tf.Tensor1D;
    return tf.image.cropAndResize(padded, boxes, boxInd, [outH, outW], 'bilinear');
  });
}

export interface RandomResizedCropOptions {
  /** Output size (square); default: the input size. */
  size?: number;
  scale: [number, number];
  /** Default [3/4, 4/3] as torchvision. */
  ratio?: [number, number];
  /** Per-sample horizontal flips folded into the crop. */
  flips?: boolean[];
}

/** RandomResizedCrop of a batch: per-sample params from `rng`. Returns the views and the params. */
export function randomResizedCrop(x: tf.Tensor4D, opts: RandomResizedCropOptions, rng: Rng): { out: tf.Tensor4D; crops: CropParams[] } {
  const [B, H, W] = x.shape;
  const ratio = opts.ratio ?? [3 / 4, 4 / 3];
  const crops: CropParams[] = [];
  for (let i = 0; i < B; i++) crops.push(sampleCropParams(H, W, opts.scale, ratio, rng));
  const size = opts.size ?? H;
  return { out: cropResize(x, crops, size, opts.size ?? W, opts.flips), crops };
}
