/**
 * `augment`: run an augmentation pipeline over a batch on the active backend. Every random
 * parameter is drawn on the host from `rng` (one sample after another, step after step), then the
 * step is applied to the whole batch with tensor ops, so the same rng state gives the same views
 * on every backend. A `flip` anywhere after a `randomResizedCrop` is folded into the crop boxes
 * (a flip commutes with the colour, blur and normalisation steps).
 */
import * as tf from '@tensorflow/tfjs';
import type { AugmentPresetName, DatasetInfo } from '../../types';
import type { Rng } from '../../util/rng';
import { randomGaussianBlur } from './blur';
import { colorJitter, randomGrayscale } from './color';
import { randomResizedCrop } from './crop';
import { randomHorizontalFlip, sampleFlips } from './flip';
import { normalize, toFloat01 } from './normalize';
import { resolvePipeline, type AugmentPipeline } from './presets';

/**
 * Augment images [B, H, W, C] (int32 holding 0..255, or float32 in 0..1) with a preset or a
 * pipeline. Returns a new float32 tensor the caller owns; `images` is not disposed.
 */
export function augment(
  images: tf.Tensor4D,
  pipeline: AugmentPresetName | AugmentPipeline,
  rng: Rng,
  info: Pick<DatasetInfo, 'channels' | 'mean' | 'std'>,
): tf.Tensor4D {
  const p = resolvePipeline(pipeline);
  if (images.rank !== 4) throw new Error(`augment: images must be [B, H, W, C], got shape [${images.shape}]`);
  const [B, , , C] = images.shape;
  if (C !== info.channels) throw new Error(`augment: images have ${C} channels but the dataset info says ${info.channels}`);
  return tf.tidy(() => {
    let x = toFloat01(images);
    let flipFolded = false;
    for (let i = 0; i < p.steps.length; i++) {
      const s = p.steps[i];
      const prev = x;
      switch (s.op) {
        case 'randomResizedCrop': {
          const flipStep = p.steps.slice(i + 1).find((t) => t.op === 'flip') as { op: 'flip'; p: number } | undefined;
          const flips = flipStep && !flipFolded ? sampleFlips(B, flipStep.p, rng) : undefined;
          if (flips) flipFolded = true;
          x = randomResizedCrop(x, { size: s.size, scale: s.scale, ratio: s.ratio, flips }, rng).out;
          break;
        }
        case 'resize':
          x = tf.image.resizeBilinear(x, [s.size, s.size], false, true);
          break;
        case 'flip':
          if (flipFolded) continue;
          x = randomHorizontalFlip(x, s.p, rng);
          break;
        case 'colorJitter':
          x = colorJitter(x, s, rng);
          break;
        case 'grayscale':
          x = randomGrayscale(x, s.p, rng);
          break;
        case 'gaussianBlur':
          x = randomGaussianBlur(x, s, rng);
          break;
        case 'normalize':
          x = normalize(x, info.mean, info.std);
          break;
        default:
          throw new Error(`augment: unknown step ${JSON.stringify(s)}`);
      }
      prev.dispose();
    }
    return x;
  });
}
