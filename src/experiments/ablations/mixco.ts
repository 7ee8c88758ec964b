/**
 * mixco: beta grid on MoCo v2 and SimCLR, small vs larger encoder (beta = 0 is the base method).
 * The MoCo-base points, beta = 0 among them, train at MixCo's learning rate (`mixcoLr`: 0.015 at
 * batch 128, its reference's for MixCo and for its MoCo baseline); the SimCLR-base points at the
 * budget's.
 */
import { mixcoLr } from '../../methods/mixco';
import type { EncoderConfig, MethodConfig } from '../../types';
import type { Budget } from '../names';
import type { PointSpec } from '../sweep';
import { type Ablation, baseConfig, m, type SharedSettings, withSeeds } from './budgets';

export interface MixcoGrid {
  betas: number[];
  /** Bases trained with the larger encoder in the MixCo sweep (default both). */
  mixcoLargerBases?: ('moco' | 'simclr')[];
}

export const MIXCO_GRID: Record<Budget, MixcoGrid> = {
  smoke: { betas: [0, 1] },
  quick: { betas: [0, 1], mixcoLargerBases: ['moco'] },
  paper: { betas: [0, 0.5, 1, 2] },
};

export function mixco(budget: Budget, s: SharedSettings & MixcoGrid): Ablation {
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
            'optimizer.lr': baseName === 'moco' ? mixcoLr(s.batchSize) : s.lr,
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
