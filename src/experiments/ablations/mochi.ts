/** mochi: MoCo v2 baseline vs MoCHi (N, s, s') settings, plus the class oracle (docs/references.md#mochi-oracle). */
import type { Budget } from '../names';
import type { PointSpec } from '../sweep';
import { type Ablation, baseConfig, m, type SharedSettings, withSeeds } from './budgets';

export interface MochiGrid {
  /** MoCHi (N, s, s') settings, the oracle's setting and the warm-up epochs. */
  mochi: [number, number, number][];
  oracle: [number, number, number];
  mochiWarmup: number;
}

export const MOCHI_GRID: Record<Budget, MochiGrid> = {
  smoke: {
    mochi: [
      [16, 16, 0],
      [16, 16, 8],
    ],
    oracle: [16, 16, 8],
    mochiWarmup: 0,
  },
  // N = 64 hardest of the K = 256 queue (a quarter, where the paper takes 1,024 of 16,384).
  quick: {
    mochi: [[64, 64, 32]],
    oracle: [64, 64, 32],
    mochiWarmup: 1,
  },
  paper: {
    mochi: [
      [1024, 1024, 128],
      [512, 1024, 512],
      [256, 512, 0],
      [256, 512, 256],
      [128, 1024, 512],
    ],
    oracle: [1024, 1024, 128],
    mochiWarmup: 10,
  },
};

export function mochi(budget: Budget, s: SharedSettings & MochiGrid): Ablation {
  // MoCo v2 on CIFAR: MLP head, T 0.2, aug+ (CIFAR version of the v2 augmentation).
  const v2 = { K: s.K, m: s.m, T: 0.2, dim: 128, mlp: true, symmetric: false, bnSplits: s.bnSplits };
  const base = baseConfig('mochi', budget, s, m('moco', v2), 'moco-v2-cifar');
  const mix = (N: number, sMix: number, sPrime: number, classOracle: boolean) =>
    m('mochi', { ...v2, N, s: sMix, sPrime, warmupEpochs: s.mochiWarmup, classOracle });
  const points: PointSpec[] = [
    { overrides: { method: m('moco', v2), name: 'mocov2' }, params: { variant: 'MoCo v2', N: 0, s: 0, sPrime: 0, oracle: false } },
  ];
  for (const [N, sm, sp] of s.mochi) {
    points.push({
      overrides: { method: mix(N, sm, sp, false), name: `mochi-N${N}-s${sm}-sp${sp}` },
      params: { variant: 'MoCHi', N, s: sm, sPrime: sp, oracle: false },
    });
  }
  const [oN, oS, oSp] = s.oracle;
  points.push({
    overrides: { method: mix(oN, 0, 0, true), name: 'mocov2-oracle' },
    params: { variant: 'MoCo v2 + oracle', N: oN, s: 0, sPrime: 0, oracle: true },
  });
  points.push({
    overrides: { method: mix(oN, oS, oSp, true), name: `mochi-N${oN}-s${oS}-sp${oSp}-oracle` },
    params: { variant: 'MoCHi + oracle', N: oN, s: oS, sPrime: oSp, oracle: true },
  });
  return {
    name: 'mochi',
    budget,
    description: `MoCo v2 (K = ${s.K}) vs MoCHi (N, s, s') in {${s.mochi.map((t) => `(${t})`).join(', ')}}, warm-up ${s.mochiWarmup} epochs, and the class oracle (MoCHi §2.3-2.4)`,
    base,
    points: withSeeds(points, s.seeds),
  };
}
