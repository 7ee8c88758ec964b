/**
 * The four ablations of the workbench, each at three budgets:
 *   smoke  seconds: synthetic images, a tiny ConvNet, 2 epochs (tests, CI)
 *   quick  a whole ablation in about 30 minutes on a 2-core CPU with the wasm backend: a
 *          class-balanced CIFAR-10 subset (2000 train / 500 test), a ConvNet at width 0.25,
 *          5 epochs, kNN and a fast linear probe at the end
 *   paper  the papers' settings scaled to CIFAR-10: ResNet-18 (CIFAR stem), 200 epochs, the MoCo
 *          CIFAR demo's recipe (batch 512, lr 0.06, wd 5e-4, cosine, K 4096, m 0.99, T 0.1,
 *          kNN monitor every epoch), 3 seeds.
 *
 *   moco-queue  queue size K at fixed m, and momentum m in {0, 0.9, 0.99, 0.999} at fixed K (MoCo §4.1)
 *   mochi       MoCo v2 baseline vs MoCHi (N, s, s') settings, plus the class oracle (MoCHi §2.4)
 *   mixco       beta grid on MoCo v2 and SimCLR, small vs larger encoder (beta = 0 is the base method)
 *   supcon      SupCon temperature grid 0.05 .. 1.0 vs cross-entropy and SimCLR
 */
import { defaultMethodConfig } from '../methods';
import type { AugmentPresetName, DatasetConfig, EncoderConfig, MethodConfig, MethodName } from '../types';
import { defaultEvalConfig, type EvalConfig, type RunConfig } from './config';
import type { PointSpec } from './sweep';

import { ABLATIONS, BUDGETS, type AblationName, type Budget } from './names';

export { ABLATIONS, BUDGETS, type AblationName, type Budget };

export interface Ablation {
  name: AblationName;
  budget: Budget;
  description: string;
  base: RunConfig;
  points: PointSpec[];
}

interface BudgetSettings {
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
  /** MoCo queue sizes and the fixed K of the momentum sweep. */
  Ks: number[];
  K: number;
  ms: number[];
  m: number;
  /** MoCHi (N, s, s') settings, the oracle's setting and the warm-up epochs. */
  mochi: [number, number, number][];
  oracle: [number, number, number];
  mochiWarmup: number;
  betas: number[];
  temperatures: number[];
  /** Bases trained with the larger encoder in the MixCo sweep (default both). */
  mixcoLargerBases?: ('moco' | 'simclr')[];
}

const SETTINGS: Record<Budget, BudgetSettings> = {
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
    Ks: [32, 64, 128],
    K: 64,
    ms: [0, 0.9, 0.99, 0.999],
    m: 0.99,
    mochi: [[16, 16, 0], [16, 16, 8]],
    oracle: [16, 16, 8],
    mochiWarmup: 0,
    betas: [0, 1],
    temperatures: [0.1, 0.5],
  },
  quick: {
    // Sized from a measurement on the 2-core box (wasm, 1 thread): MoCo with this ConvNet trains at
    // about 19 img/s with the CPU shared by other jobs (about 45 img/s alone), so 6 runs of
    // 5 epochs x 1920 images plus evaluation fit in about 30 minutes.
    dataset: { name: 'cifar10', trainSubset: 2000, testSubset: 500, seed: 0 },
    encoder: { arch: 'convnet', width: 0.25 },
    largerEncoder: { arch: 'convnet', width: 0.5 },
    epochs: 5,
    batchSize: 128,
    lr: 0.06,
    weightDecay: 5e-4,
    bnSplits: 8,
    seeds: [0],
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
    Ks: [128, 512, 2048],
    K: 512,
    ms: [0, 0.9, 0.99, 0.999],
    m: 0.99,
    mochi: [[128, 128, 0], [128, 128, 32], [64, 128, 64]],
    oracle: [128, 128, 32],
    mochiWarmup: 1,
    betas: [0, 1],
    temperatures: [0.05, 0.1, 0.5, 1.0],
    mixcoLargerBases: ['moco'],
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
    // The smallest K holds one batch of 512 keys (the reference asserts K % batch == 0).
    Ks: [512, 1024, 4096, 16384],
    K: 4096,
    ms: [0, 0.9, 0.99, 0.999],
    m: 0.99,
    mochi: [[1024, 1024, 128], [512, 1024, 512], [256, 512, 0], [256, 512, 256], [128, 1024, 512]],
    oracle: [1024, 1024, 128],
    mochiWarmup: 10,
    betas: [0, 0.5, 1, 2],
    temperatures: [0.05, 0.07, 0.1, 0.2, 0.5, 1.0],
  },
};

/** The settings behind a budget (copies). */
export function budgetSettings(budget: Budget): BudgetSettings {
  const s = SETTINGS[budget];
  if (!s) throw new Error(`budget must be one of ${BUDGETS.join(', ')}, got ${JSON.stringify(budget)}`);
  return JSON.parse(JSON.stringify(s)) as BudgetSettings;
}

function baseConfig(
  name: AblationName,
  budget: Budget,
  s: BudgetSettings,
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

const m = (name: MethodName, o: Record<string, unknown>) => defaultMethodConfig(name, o as never) as MethodConfig;

/** Repeat every point for each seed (seed becomes a param). */
function withSeeds(points: PointSpec[], seeds: number[]): PointSpec[] {
  if (seeds.length === 1) return points.map((p) => ({ overrides: { ...p.overrides, seed: seeds[0] }, params: p.params }));
  return points.flatMap((p) => seeds.map((seed) => ({ overrides: { ...p.overrides, seed }, params: { ...p.params, seed } })));
}

function mocoQueue(budget: Budget, s: BudgetSettings): Ablation {
  // MoCo CIFAR demo: R18 fc -> 128 (no MLP), K 4096, m 0.99, T 0.1, split BN 8, asymmetric loss.
  const moco = (K: number, mm: number) => m('moco', { K, m: mm, T: 0.1, dim: 128, mlp: false, symmetric: false, bnSplits: s.bnSplits });
  const base = baseConfig('moco-queue', budget, s, moco(s.K, s.m), 'moco-cifar-demo');
  const points: PointSpec[] = [];
  const seen = new Set<string>();
  const add = (K: number, mm: number, sweep: string) => {
    const key = `${K}/${mm}`;
    if (seen.has(key)) return;
    seen.add(key);
    points.push({ overrides: { method: moco(K, mm), name: `moco-K${K}-m${mm}` }, params: { sweep, K, m: mm } });
  };
  for (const K of s.Ks) add(K, s.m, 'K');
  for (const mm of s.ms) add(s.K, mm, 'm');
  return {
    name: 'moco-queue',
    budget,
    description: `MoCo queue size K in {${s.Ks}} at m = ${s.m}, and momentum m in {${s.ms}} at K = ${s.K} (MoCo §4.1, Fig. 3 and Table "momentum")`,
    base,
    points: withSeeds(points, s.seeds),
  };
}

function mochi(budget: Budget, s: BudgetSettings): Ablation {
  // MoCo v2 on CIFAR: MLP head, T 0.2, aug+ (CIFAR version of the v2 augmentation).
  const v2 = { K: s.K, m: s.m, T: 0.2, dim: 128, mlp: true, symmetric: false, bnSplits: s.bnSplits };
  const base = baseConfig('mochi', budget, s, m('moco', v2), 'moco-v2-cifar');
  const mix = (N: number, sMix: number, sPrime: number, classOracle: boolean) =>
    m('mochi', { ...v2, N, s: sMix, sPrime, warmupEpochs: s.mochiWarmup, classOracle });
  const points: PointSpec[] = [{ overrides: { method: m('moco', v2), name: 'mocov2' }, params: { variant: 'MoCo v2', N: 0, s: 0, sPrime: 0, oracle: false } }];
  for (const [N, sm, sp] of s.mochi) {
    points.push({ overrides: { method: mix(N, sm, sp, false), name: `mochi-N${N}-s${sm}-sp${sp}` }, params: { variant: 'MoCHi', N, s: sm, sPrime: sp, oracle: false } });
  }
  const [oN, oS, oSp] = s.oracle;
  points.push({ overrides: { method: mix(oN, 0, 0, true), name: `mocov2-oracle` }, params: { variant: 'MoCo v2 + oracle', N: oN, s: 0, sPrime: 0, oracle: true } });
  points.push({ overrides: { method: mix(oN, oS, oSp, true), name: `mochi-N${oN}-s${oS}-sp${oSp}-oracle` }, params: { variant: 'MoCHi + oracle', N: oN, s: oS, sPrime: oSp, oracle: true } });
  return {
    name: 'mochi',
    budget,
    description: `MoCo v2 (K = ${s.K}) vs MoCHi (N, s, s') in {${s.mochi.map((t) => `(${t})`).join(', ')}}, warm-up ${s.mochiWarmup} epochs, and the class oracle (MoCHi §2.3-2.4)`,
    base,
    points: withSeeds(points, s.seeds),
  };
}

function mixco(budget: Budget, s: BudgetSettings): Ablation {
  const mocoV2 = { K: s.K, m: s.m, T: 0.2, dim: 128, mlp: true, bnSplits: s.bnSplits };
  const base = baseConfig('mixco', budget, s, m('moco', { ...mocoV2, symmetric: false }), 'moco-v2-cifar');
  const points: PointSpec[] = [];
  const encoders: [string, EncoderConfig][] = [
    ['small', s.encoder],
    ['larger', s.largerEncoder],
  ];
  for (const [size, encoder] of encoders) {
    const encName = `${encoder.arch}${encoder.width !== undefined ? `x${encoder.width}` : ''}`;
    const bases = size === 'larger' && s.mixcoLargerBases ? s.mixcoLargerBases : (['moco', 'simclr'] as const);
    for (const baseName of bases) {
      for (const beta of s.betas) {
        let method: MethodConfig;
        if (beta === 0) {
          method = baseName === 'moco' ? m('moco', { ...mocoV2, symmetric: false }) : m('simclr', { T: 0.5, dim: 128, mlp: true });
        } else if (baseName === 'moco') {
          // MixCo MoCo-v2 variant: mix temperature 0.05 (TinyImageNet default).
          method = m('mixco', { ...mocoV2, base: 'moco', beta, mixT: 0.05 });
        } else {
          // MixCo SimCLR variant: tau 0.5, mix temperature 0.5.
          method = m('mixco', { ...mocoV2, base: 'simclr', beta, T: 0.5, mixT: 0.5 });
        }
        points.push({
          overrides: {
            method,
            encoder,
            augmentation: baseName === 'moco' ? 'moco-v2-cifar' : 'simclr-cifar',
            name: `${baseName}-beta${beta}-${encName}`,
          },
          params: { base: baseName, beta, encoder: size, arch: encName },
        });
      }
    }
  }
  return {
    name: 'mixco',
    budget,
    description: `MixCo beta in {${s.betas}} (0 = the base method) on MoCo v2 and SimCLR, small vs larger encoder (MixCo: gains are larger when capacity is limited)`,
    base,
    points: withSeeds(points, s.seeds),
  };
}

function supcon(budget: Budget, s: BudgetSettings): Ablation {
  const sup = (T: number) => m('supcon', { T, dim: 128, mlp: true });
  // Every method is read on backbone features (CE has no contrastive projection).
  const base = baseConfig('supcon', budget, s, sup(0.1), 'supcon-cifar', {
    knnFeatures: 'backbone',
    ...(budget === 'paper' ? { linear: { protocol: 'supcon' as const } } : {}),
  });
  if (budget === 'paper') {
    // SupContrast README recipe scaled to batch 512: lr 0.5, cosine, 10 warm-up epochs from 0.01, wd 1e-4.
    base.optimizer = { name: 'sgd', lr: 0.5, momentum: 0.9, weightDecay: 1e-4 };
    base.schedule = { name: 'cosine', warmupEpochs: 10, warmupFrom: 0.02, minLrFraction: 1e-3 };
  }
  const points: PointSpec[] = s.temperatures.map((T) => ({ overrides: { method: sup(T), name: `supcon-T${T}` }, params: { loss: 'SupCon', T } }));
  points.push({ overrides: { method: m('ce', {}), name: 'ce' }, params: { loss: 'CE', T: 0 } });
  points.push({ overrides: { method: m('simclr', { T: 0.5, dim: 128, mlp: true }), name: 'simclr-T0.5' }, params: { loss: 'SimCLR', T: 0.5 } });
  return {
    name: 'supcon',
    budget,
    description: `SupCon temperature T in {${s.temperatures}} vs cross-entropy and SimCLR (T = 0.5) (SupCon §4.4, Fig. 4d)`,
    base,
    points: withSeeds(points, s.seeds),
  };
}

/** An ablation's base config and sweep points at a budget. */
export function ablation(name: AblationName | string, budget: Budget | string = 'quick'): Ablation {
  if (!(ABLATIONS as readonly string[]).includes(name)) throw new Error(`ablation must be one of ${ABLATIONS.join(', ')}, got ${JSON.stringify(name)}`);
  const s = budgetSettings(budget as Budget);
  switch (name as AblationName) {
    case 'moco-queue':
      return mocoQueue(budget as Budget, s);
    case 'mochi':
      return mochi(budget as Budget, s);
    case 'mixco':
      return mixco(budget as Budget, s);
    case 'supcon':
      return supcon(budget as Budget, s);
  }
}
