/**
 * Augmentation pipelines as plain JSON (a list of steps run in order) and the presets of the
 * reference code (docs/references.md#augmentations). `size` omitted means "the input size", which lets the
 * CIFAR presets run unchanged on 28 x 28 Fashion-MNIST or on synthetic images.
 */
import type { AugmentPresetName } from '../../types';

export type AugmentStep =
  | { op: 'randomResizedCrop'; size?: number; scale: [number, number]; ratio?: [number, number] }
  | { op: 'resize'; size: number }
  | { op: 'flip'; p: number }
  | { op: 'colorJitter'; brightness: number; contrast: number; saturation: number; hue: number; p: number }
  | { op: 'grayscale'; p: number }
  | { op: 'gaussianBlur'; sigma: [number, number]; p: number; kernelSize?: number }
  | { op: 'normalize' };

export interface AugmentPipeline {
  name?: string;
  steps: AugmentStep[];
}

const jitter = (b: number, c: number, s: number, h: number, p: number): AugmentStep => ({
  op: 'colorJitter',
  brightness: b,
  contrast: c,
  saturation: s,
  hue: h,
  p,
});

/**
 * The CIFAR contrastive recipe shared by the MoCo demo, SimCLR and SupContrast: RRC at the input
 * size with the given scale range, flip, jitter (.4,.4,.4,.1) p .8, grey .2, no blur. Only the
 * crop scale differs between them.
 */
const cifarContrastive = (name: AugmentPresetName, scale: [number, number]): AugmentPipeline => ({
  name,
  steps: [
    { op: 'randomResizedCrop', scale },
    { op: 'flip', p: 0.5 },
    jitter(0.4, 0.4, 0.4, 0.1, 0.8),
    { op: 'grayscale', p: 0.2 },
    { op: 'normalize' },
  ],
});

export const AUGMENT_PRESETS: Record<AugmentPresetName, AugmentPipeline> = {
  // MoCo v1 (InstDisc), main_moco.py: RRC(224, 0.2-1), grey 0.2, jitter 0.4 x4 always, flip.
  'moco-v1': {
    name: 'moco-v1',
    steps: [
      { op: 'randomResizedCrop', size: 224, scale: [0.2, 1] },
      { op: 'grayscale', p: 0.2 },
      jitter(0.4, 0.4, 0.4, 0.4, 1),
      { op: 'flip', p: 0.5 },
      { op: 'normalize' },
    ],
  },
  // MoCo v2 --aug-plus: RRC(224, 0.2-1), jitter (.4,.4,.4,.1) p .8, grey .2, blur [.1, 2] p .5, flip.
  'moco-v2': {
    name: 'moco-v2',
    steps: [
      { op: 'randomResizedCrop', size: 224, scale: [0.2, 1] },
      jitter(0.4, 0.4, 0.4, 0.1, 0.8),
      { op: 'grayscale', p: 0.2 },
      { op: 'gaussianBlur', sigma: [0.1, 2], p: 0.5 },
      { op: 'flip', p: 0.5 },
      { op: 'normalize' },
    ],
  },
  // MoCo v2's aug-plus at the input size (32 px on CIFAR), blur included (as solo-learn's CIFAR
  // mocov2plus); the MoCHi/MixCo CIFAR-scale runs use this.
  'moco-v2-cifar': {
    name: 'moco-v2-cifar',
    steps: [
      { op: 'randomResizedCrop', scale: [0.2, 1] },
      jitter(0.4, 0.4, 0.4, 0.1, 0.8),
      { op: 'grayscale', p: 0.2 },
      { op: 'gaussianBlur', sigma: [0.1, 2], p: 0.5 },
      { op: 'flip', p: 0.5 },
      { op: 'normalize' },
    ],
  },
  // The MoCo CIFAR-10 demo: RRC(32) with the default scale (0.08, 1), flip, jitter p .8, grey .2, no blur.
  'moco-cifar-demo': cifarContrastive('moco-cifar-demo', [0.08, 1]),
  // SimCLR on CIFAR (SimCLR paper App. B.9): colour strength 0.5 -> (0.4, 0.4, 0.4, 0.1) p .8,
  // grey .2, RRC default scale, flip, no blur.
  'simclr-cifar': cifarContrastive('simclr-cifar', [0.08, 1]),
  // SupContrast main_supcon.py: RRC(32, 0.2-1), flip, jitter p .8, grey .2, no blur.
  'supcon-cifar': cifarContrastive('supcon-cifar', [0.2, 1]),
  // Linear evaluation training transform (SupContrast main_linear / main_ce): RRC(0.2-1) + flip.
  'linear-eval': {
    name: 'linear-eval',
    steps: [{ op: 'randomResizedCrop', scale: [0.2, 1] }, { op: 'flip', p: 0.5 }, { op: 'normalize' }],
  },
  // Evaluation: ToTensor + Normalize only.
  test: { name: 'test', steps: [{ op: 'normalize' }] },
};

/** A preset by name, or the pipeline itself; unknown names give an error listing the presets. */
export function resolvePipeline(p: AugmentPresetName | AugmentPipeline): AugmentPipeline {
  if (typeof p !== 'string') {
    if (!p || !Array.isArray(p.steps)) throw new Error(`augmentation pipeline must be a preset name or {steps: [...]}, got ${JSON.stringify(p)}`);
    return p;
  }
  const found = AUGMENT_PRESETS[p];
  if (!found) throw new Error(`unknown augmentation preset '${p}'; choose one of ${Object.keys(AUGMENT_PRESETS).join(', ')}`);
  return found;
}

/** The output [height, width] of a pipeline for an input of `inputSize`. */
export function pipelineOutputSize(p: AugmentPresetName | AugmentPipeline, inputSize: [number, number]): [number, number] {
  let size = inputSize;
  for (const s of resolvePipeline(p).steps) {
    if (s.op === 'resize') size = [s.size, s.size];
    if (s.op === 'randomResizedCrop' && s.size) size = [s.size, s.size];
  }
  return size;
}
