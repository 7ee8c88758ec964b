/** supcon: SupCon temperature grid 0.05 .. 1.0 vs cross-entropy and SimCLR. */
import type { Budget } from '../names';
import type { PointSpec } from '../sweep';
import { type Ablation, baseConfig, m, type SharedSettings, withSeeds } from './budgets';

export interface SupconGrid {
  temperatures: number[];
}

export const SUPCON_GRID: Record<Budget, SupconGrid> = {
  smoke: { temperatures: [0.1, 0.5] },
  quick: { temperatures: [0.05, 0.1, 0.5] },
  paper: { temperatures: [0.05, 0.07, 0.1, 0.2, 0.5, 1.0] },
};

export function supcon(budget: Budget, s: SharedSettings & SupconGrid): Ablation {
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
