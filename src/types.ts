/**
 * The contracts between the layers of the workbench: data -> models -> methods -> experiments.
 * Every config here is plain JSON (no classes, no functions) so that a run can be saved, compared
 * and resumed. Defaults live beside each implementation and cite the reference they come from.
 */
import type * as tf from '@tensorflow/tfjs';

// ----------------------------------------------------------------------------------------------
// Data
// ----------------------------------------------------------------------------------------------

export const DATASET_NAMES = ['cifar10', 'cifar100', 'folder', 'fashion-mnist', 'mnist', 'synthetic'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];
export type Split = 'train' | 'test';

/** What a dataset is: enough to build a model and normalise its images. */
export interface DatasetInfo {
  name: string;
  /** [height, width] of every image after loading. */
  imageSize: [number, number];
  /** 1 (greyscale) or 3 (RGB). */
  channels: number;
  numClasses: number;
  classNames: string[];
  /** Number of images in each split (of the full dataset, before any subset). */
  splits: Record<Split, number>;
  /** Per-channel mean and std used by the `normalize` step (length = channels). */
  mean: number[];
  std: number[];
}

/** One split held in memory as uint8 pixels, N x H x W x C, row-major (NHWC). */
export interface ImageSet {
  info: DatasetInfo;
  split: Split;
  n: number;
  images: Uint8Array;
  labels: Int32Array;
}

export interface DatasetConfig {
  name: DatasetName;
  /** Where data lives; defaults to $DATA_DIR, then ./data. */
  dataRoot?: string;
  /** For `folder`: the folder holding train/<class>/* and test/<class>/*, relative to dataRoot or absolute. */
  path?: string;
  /** Use only the first n images of each split after a seeded, class-balanced shuffle. */
  trainSubset?: number;
  testSubset?: number;
  /** Resize images to this size (square) while loading. */
  resize?: number;
  /** For `folder` / CIFAR class folders: load every image with this many channels (1 or 3); default the majority of the images. */
  channels?: number;
  /** For `synthetic`: images per class per split and image size. */
  synthetic?: { perClass?: number; testPerClass?: number; size?: number; classes?: number; channels?: number; colour?: 'class' | 'random' };
  /** Seed of the subset choice / synthetic generator. */
  seed?: number;
}

export const AUGMENT_PRESET_NAMES = [
  'moco-v1',
  'moco-v2',
  'moco-v2-cifar',
  'moco-cifar-demo',
  'simclr-cifar',
  'supcon-cifar',
  'linear-eval',
  'test',
] as const;
export type AugmentPresetName = (typeof AUGMENT_PRESET_NAMES)[number];

/**
 * One mini-batch as the loader hands it over. The caller of the loader owns every tensor in it
 * and disposes it (see `disposeBatch`) once the step is done.
 */
export interface Batch {
  /** `views[v]` is view v of every image, [B, H, W, C] float32, normalised. */
  views: tf.Tensor4D[];
  /** Class labels [B] int32 (for SupCon, CE, the class oracle and kNN). */
  labels: tf.Tensor1D;
  /** Dataset indices [B] int32. */
  indices: tf.Tensor1D;
  size: number;
}

// ----------------------------------------------------------------------------------------------
// Models
// ----------------------------------------------------------------------------------------------

export const ARCHS = ['convnet', 'resnet18', 'resnet34', 'resnet50'] as const;
export type Arch = (typeof ARCHS)[number];

export interface EncoderConfig {
  arch: Arch;
  /** 'cifar': 3x3 stride-1 conv, no max-pool; 'imagenet': 7x7 stride-2 conv + max-pool. */
  stem?: 'cifar' | 'imagenet';
  /** Width multiplier on every layer's channels (1 = the paper's width). */
  width?: number;
}

// ----------------------------------------------------------------------------------------------
// Methods
// ----------------------------------------------------------------------------------------------

export const METHOD_NAMES = ['moco', 'mochi', 'mixco', 'simclr', 'supcon', 'ce'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

/** MoCo v1/v2 (He et al. 2020; Chen et al. 2020). */
export interface MocoParams {
  /** Queue size K (number of negatives). */
  K: number;
  /** Momentum m of the key encoder. */
  m: number;
  /** Softmax temperature tau (T in the reference code). */
  T: number;
  /** Output dimension of the projection. */
  dim: number;
  /** MoCo v2's 2-layer MLP head instead of v1's linear fc. */
  mlp: boolean;
  /** Symmetric loss of the CIFAR demo (loss_12 + loss_21, 2B keys enqueued). */
  symmetric: boolean;
  /** Split-BN sub-batches standing in for shuffle-BN on one device (the CIFAR demo's 8). */
  bnSplits: number;
}

/** MoCHi (Kalantidis et al. 2020): MoCo v2 plus hard negatives mixed per query. */
export interface MochiParams extends MocoParams {
  /** N hardest queue negatives per query. */
  N: number;
  /** s synthetic negatives mixing two hard negatives. */
  s: number;
  /** s' synthetic negatives mixing the query with one hard negative. */
  sPrime: number;
  /** Epochs of plain MoCo before mixing starts. */
  warmupEpochs: number;
  /** Drop queue negatives of the query's own class (the class oracle). */
  classOracle: boolean;
}

/** MixCo (Kim et al. 2020): mix-up semi-positives on top of MoCo v2 or SimCLR. */
export interface MixcoParams {
  base: 'moco' | 'simclr';
  /** Weight beta of the mix loss: L = L_contrast + beta * L_mixco. */
  beta: number;
  /** Temperature of the mix logits. */
  mixT: number;
  /** Base-method parameters (MoCo ones are used when base = 'moco'). */
  K: number;
  m: number;
  T: number;
  dim: number;
  mlp: boolean;
  bnSplits: number;
}

/** SimCLR's NT-Xent over 2N views (Chen et al. 2020). */
export interface SimclrParams {
  T: number;
  dim: number;
  mlp: boolean;
}

/** SupCon (Khosla et al. 2020), L_out with the reference code's scaling. */
export interface SupconParams {
  T: number;
  baseT: number;
  dim: number;
  mlp: boolean;
}

/** Supervised cross-entropy baseline. */
export interface CeParams {
  labelSmoothing?: number;
}

export type MethodConfig =
  | ({ name: 'moco' } & MocoParams)
  | ({ name: 'mochi' } & MochiParams)
  | ({ name: 'mixco' } & MixcoParams)
  | ({ name: 'simclr' } & SimclrParams)
  | ({ name: 'supcon' } & SupconParams)
  | ({ name: 'ce' } & CeParams);

export interface OptimizerConfig {
  name: 'sgd' | 'lars';
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov?: boolean;
  /** LARS trust coefficient (eta). */
  trustCoefficient?: number;
}

export interface ScheduleConfig {
  name: 'cosine' | 'step' | 'constant';
  /** Linear warm-up epochs (from warmupFrom * lr). */
  warmupEpochs?: number;
  warmupFrom?: number;
  /** For 'step': epochs at which lr is multiplied by gamma. */
  milestones?: number[];
  gamma?: number;
  /** For 'cosine': final lr as a fraction of the base lr. */
  minLrFraction?: number;
  /** Apply per step (smooth) instead of per epoch (the MoCo code applies cosine per epoch). */
  perStep?: boolean;
}

export interface StepResult {
  loss: number;
  /** e.g. proxyAcc (share of queries whose positive has the top logit), posSim, negSim. */
  metrics: Record<string, number>;
}

/** Host-side (JSON) plus tensor state of a method, for checkpoints. */
export interface MethodState {
  tensors: Record<string, tf.Tensor>;
  host: Record<string, unknown>;
}

/**
 * What every method implements, so the runner and notebooks treat them alike.
 * trainStep does one optimiser step on one batch, disposes nothing of the batch, and reads the
 * loss and metrics back with `await data()` (the only read that works on every backend, webgpu in
 * Node included).
 */
export interface Method {
  readonly name: MethodName;
  readonly config: MethodConfig;
  /** Number of views each training batch must carry. */
  readonly viewsPerImage: number;
  trainStep(batch: Batch): Promise<StepResult>;
  /** Called by the runner at the start of every epoch (0-based): warm-ups, momentum schedules. */
  setEpoch(epoch: number): void;
  setLearningRate(lr: number): void;
  /**
   * Eval-mode features of the query encoder: 'backbone' (pooled features, for linear probes)
   * or 'projection' (L2-normalised head output, as the MoCo CIFAR demo's kNN monitor uses).
   * The caller owns the result.
   */
  features(x: tf.Tensor4D, which: 'backbone' | 'projection'): tf.Tensor2D;
  getState(): MethodState;
  setState(state: MethodState): void;
  dispose(): void;
}
