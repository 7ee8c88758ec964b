/**
 * The settings every ablation shares at a budget (dataset, encoders, optimisation, evaluation and
 * the MoCo queue size and momentum the MoCo-based methods start from), and the pieces every
 * ablation builds its base config and points with.
 */
import { defaultMethodConfig } from '../../methods';
import type { AugmentPresetName, DatasetConfig, EncoderConfig, MethodConfig, MethodName } from '../../types';
import { defaultEvalConfig, type EvalConfig, type RunConfig } from '../config';
import type { AblationName, Budget } from '../names';
import type { PointSpec } from '../sweep';

export interface Ablation {
  name: AblationName;
  budget: Budget;
  description: string;
  base: RunConfig;
  points: PointSpec[];
}

export interface SharedSettings {
  dataset: DatasetConfig;
  encoder: EncoderConfig;
  /** A larger encoder (MixCo's capacity comparison). */
  largerEncoder: EncoderConfig;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  bnSplits: number;
  seeds: number[];
  eval: EvalConfig;
  /** The MoCo queue size (the fixed K of the momentum sweep) and momentum of MoCo, MoCHi and MixCo. */
  K: number;
  m: number;
}

export const SHARED: Record<Budget, SharedSettings> = {
  smoke: {
    dataset: { name: 'synthetic', synthetic: { perClass: 24, testPerClass: 8, size: 16, classes: 4, channels: 3 }, seed: 0 },
    encoder: { arch: 'convnet', width: 0.125 },
    largerEncoder: { arch: 'convnet', width: 0.25 },
    epochs: 2,
    batchSize: 16,
    lr: 0.06,
    weightDecay: 5e-4,
    bnSplits: 2,
    seeds: [0],
    eval: defaultEvalConfig({
      knnEvery: 1,
      knnK: 20,
      knnT: 0.1,
      linear: { protocol: 'fast', epochs: 5 },
      alignUniform: true,
      alignUniformLimit: 32,
      embeddings: 32,
      confusion: true,
      batchSize: 64,
    }),
    K: 64,
    m: 0.99,
  },
  quick: {
    // Sized with `cwb reproduce --budget quick --estimate` for the tensorflow backend on a 2-core
    // CPU: the four ablations, 2 seeds per point, in about 45 minutes (README, "Budgets").
    // 5,000 training images hold the largest queue of the K sweep (1,024) about five times over.
    dataset: { name: 'cifar10', trainSubset: 5000, testSubset: 1000, seed: 0 },
    encoder: { arch: 'convnet', width: 0.25 },
    largerEncoder: { arch: 'convnet', width: 0.5 },
    epochs: 3,
    batchSize: 128,
    lr: 0.06,
    weightDecay: 5e-4,
    bnSplits: 8,
    seeds: [0, 1],
    eval: defaultEvalConfig({
      knnEvery: 0,
      knnK: 200,
      knnT: 0.1,
      linear: { protocol: 'fast', epochs: 30 },
      alignUniform: true,
      alignUniformLimit: 500,
      embeddings: 500,
      confusion: true,
      batchSize: 250,
    }),
    K: 256,
    m: 0.99,
  },
  paper: {
    dataset: { name: 'cifar10', seed: 0 },
    encoder: { arch: 'resnet18', stem: 'cifar' },
    largerEncoder: { arch: 'resnet50', stem: 'cifar' },
    epochs: 200,
    batchSize: 512,
    lr: 0.06,
    weightDecay: 5e-4,
    bnSplits: 8,
    seeds: [0, 1, 2],
    eval: defaultEvalConfig({
      knnEvery: 1,
      knnK: 200,
      knnT: 0.1,
      linear: { protocol: 'moco' },
      alignUniform: true,
      alignUniformLimit: 4096,
      embeddings: 2000,
      confusion: true,
      batchSize: 512,
    }),
    K: 4096,
    m: 0.99,
  },
};

/** The run config every point of an ablation overrides. */
export function baseConfig(
  name: AblationName,
  budget: Budget,
  s: SharedSettings,
  method: MethodConfig,
  augmentation: AugmentPresetName,
  evalOverrides: Partial<EvalConfig> = {},
): RunConfig {
  return {
    experiment: `${name}-${budget}`,
    name,
    dataset: s.dataset,
    augmentation,
    encoder: s.encoder,
    method,
    optimizer: { name: 'sgd', lr: s.lr, momentum: 0.9, weightDecay: s.weightDecay },
    schedule: { name: 'cosine' },
    epochs: s.epochs,
    batchSize: s.batchSize,
    seed: s.seeds[0],
    eval: { ...s.eval, ...evalOverrides },
  };
}

/** A method config: the method's defaults with the given fields. */
export const m = (name: MethodName, o: Record<string, unknown>) => defaultMethodConfig(name, o as never) as MethodConfig;

/** Repeat every point for each seed (seed becomes a param). */
export function withSeeds(points: PointSpec[], seeds: number[]): PointSpec[] {
  if (seeds.length === 1) return points.map((p) => ({ overrides: { ...p.overrides, seed: seeds[0] }, params: p.params }));
  return points.flatMap((p) => seeds.map((seed) => ({ overrides: { ...p.overrides, seed }, params: { ...p.params, seed } })));
}
