/** moco-queue: queue size K at fixed m, and momentum m in {0, 0.9, 0.99, 0.999} at fixed K (MoCo §4.1). */
import type { Budget } from '../names';
import type { PointSpec } from '../sweep';
import { type Ablation, baseConfig, m, type SharedSettings, withSeeds } from './budgets';

export interface MocoQueueGrid {
  /** MoCo queue sizes (at the shared m) and the momenta of the momentum sweep (at the shared K). */
  Ks: number[];
  ms: number[];
}

export const MOCO_QUEUE_GRID: Record<Budget, MocoQueueGrid> = {
  smoke: { Ks: [32, 64, 128], ms: [0, 0.9, 0.99, 0.999] },
  // m = 0 against the shared 0.99 only: over the few hundred steps of quick, a key encoder at 0.999
  // hardly leaves its initial weights.
  quick: { Ks: [128, 256, 1024], ms: [0, 0.99] },
  // The smallest K holds one batch of 512 keys (the reference asserts K % batch == 0).
  paper: { Ks: [512, 1024, 4096, 16384], ms: [0, 0.9, 0.99, 0.999] },
};

export function mocoQueue(budget: Budget, s: SharedSettings & MocoQueueGrid): Ablation {
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
