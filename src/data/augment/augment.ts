/**
 * `augment`: run an augmentation pipeline over a batch on the active backend. Every random
 * parameter is drawn on the host from `rng` first (step after step, sample after sample: the
 * "plan"), then the steps are applied to the batch with tensor ops, so the same rng state gives the
 * same views on every backend and for every chunking. Large images (224 px) are processed in chunks
 * of samples to bound the memory of the intermediate tensors. A `flip` anywhere after a
 * `randomResizedCrop` is folded into the crop boxes (a flip commutes with the colour, blur and
 * normalisation steps).
 */
import * as tf from '@tensorflow/tfjs';
import type { AugmentPresetName, DatasetInfo } from '../../types';
import type { Rng } from '../../util/rng';
import { gaussianBlur, sampleBlurSigmas } from './blur';
import { applyJitter, sampleJitter, toGrayscale, type JitterDraw, type JitterSpec } from './color';
import { cropResize, sampleCropParams, type CropParams } from './crop';
import { flipHorizontal, sampleFlips } from './flip';
import { normalize, toFloat01 } from './normalize';
import { resolvePipeline, type AugmentPipeline } from './presets';

/** One step with its per-sample parameters drawn. */
type PlannedStep =
  | { op: 'crop'; out: [number, number]; crops: CropParams[]; flips?: boolean[] }
  | { op: 'resize'; out: [number, number] }
  | { op: 'flip'; mask: boolean[] }
  | { op: 'jitter'; draws: JitterDraw[]; spec: JitterSpec }
  | { op: 'grayscale'; mask: boolean[] }
  | { op: 'blur'; sigmas: number[]; kernelSize: number }
  | { op: 'normalize' };

/** Largest number of float32 values per intermediate tensor when chunking (8 MB). */
const CHUNK_VALUES = 1 << 21;

/** Draw every random parameter of the pipeline for a batch of B images of H x W. */
function plan(p: AugmentPipeline, B: number, H: number, W: number, rng: Rng): { steps: PlannedStep[]; maxPixels: number } {
  const steps: PlannedStep[] = [];
  let size: [number, number] = [H, W];
  let maxPixels = H * W;
  let flipFolded = false;
  p.steps.forEach((s, i) => {
    switch (s.op) {
      case 'randomResizedCrop': {
        const flipStep = p.steps.slice(i + 1).find((t) => t.op === 'flip') as { op: 'flip'; p: number } | undefined;
        const flips = flipStep && !flipFolded ? sampleFlips(B, flipStep.p, rng) : undefined;
        if (flips) flipFolded = true;
        const ratio = s.ratio ?? [3 / 4, 4 / 3];
        const crops = Array.from({ length: B }, () => sampleCropParams(size[0], size[1], s.scale, ratio, rng));
        size = s.size ? [s.size, s.size] : size;
        steps.push({ op: 'crop', out: size, crops, flips });
        break;
      }
      case 'resize':
        size = [s.size, s.size];
        steps.push({ op: 'resize', out: size });
        break;
      case 'flip':
        if (!flipFolded) steps.push({ op: 'flip', mask: sampleFlips(B, s.p, rng) });
        break;
      case 'colorJitter':
        steps.push({ op: 'jitter', draws: sampleJitter(B, s, rng), spec: s });
        break;
      case 'grayscale':
        steps.push({ op: 'grayscale', mask: Array.from({ length: B }, () => rng.next() < s.p) });
        break;
      case 'gaussianBlur':
        // The kernel size follows the spec (not the batch's largest draw), so a sample's result
        // does not depend on the other samples of its batch.
        steps.push({ op: 'blur', sigmas: sampleBlurSigmas(B, s, rng), kernelSize: s.kernelSize ?? 2 * Math.ceil(3 * s.sigma[1]) + 1 });
        break;
      case 'normalize':
        steps.push({ op: 'normalize' });
        break;
      default:
        throw new Error(`augment: unknown step ${JSON.stringify(s)}`);
    }
    maxPixels = Math.max(maxPixels, size[0] * size[1]);
  });
  return { steps, maxPixels };
}

/** Apply the planned steps to samples [from, to) of the batch (x holds exactly those samples). */
function apply(x0: tf.Tensor4D, steps: PlannedStep[], from: number, to: number, info: Pick<DatasetInfo, 'mean' | 'std'>): tf.Tensor4D {
  let x = x0;
  for (const s of steps) {
    const prev = x;
    switch (s.op) {
      case 'crop':
        x = cropResize(x, s.crops.slice(from, to), s.out[0], s.out[1], s.flips?.slice(from, to));
        break;
      case 'resize':
        x = tf.image.resizeBilinear(x, s.out, false, true);
        break;
      case 'flip':
        x = flipHorizontal(x, s.mask.slice(from, to));
        break;
      case 'jitter':
        x = applyJitter(x, s.draws.slice(from, to), s.spec);
        break;
      case 'grayscale':
        x = toGrayscale(x, s.mask.slice(from, to));
        break;
      case 'blur':
        x = gaussianBlur(x, s.sigmas.slice(from, to), s.kernelSize);
        break;
      case 'normalize':
        x = normalize(x, info.mean, info.std);
        break;
    }
    if (prev !== x0) prev.dispose();
  }
  return x === x0 ? x0.clone() : x;
}

/**
 * Augment images [B, H, W, C] (int32 holding 0..255, or float32 in 0..1) with a preset or a
 * pipeline. Returns a new float32 tensor the caller owns; `images` is not disposed.
 * `opts.chunkValues` bounds the values per intermediate tensor (default 2^21); the result does not
 * depend on it.
 */
export function augment(
  images: tf.Tensor4D,
  pipeline: AugmentPresetName | AugmentPipeline,
  rng: Rng,
  info: Pick<DatasetInfo, 'channels' | 'mean' | 'std'>,
  opts: { chunkValues?: number } = {},
): tf.Tensor4D {
  const p = resolvePipeline(pipeline);
  if (images.rank !== 4) throw new Error(`augment: images must be [B, H, W, C], got shape [${images.shape}]`);
  const [B, H, W, C] = images.shape;
  if (C !== info.channels) throw new Error(`augment: images have ${C} channels but the dataset info says ${info.channels}`);
  const { steps, maxPixels } = plan(p, B, H, W, rng);
  const chunk = Math.max(1, Math.floor((opts.chunkValues ?? CHUNK_VALUES) / (maxPixels * C)));
  return tf.tidy(() => {
    const x = toFloat01(images);
    if (chunk >= B) return tf.tidy(() => apply(x, steps, 0, B, info));
    const parts: tf.Tensor4D[] = [];
    for (let from = 0; from < B; from += chunk) {
      const to = Math.min(B, from + chunk);
      parts.push(tf.tidy(() => apply(x.slice([from], [to - from]), steps, from, to, info)));
    }
    return tf.concat(parts);
  });
}
