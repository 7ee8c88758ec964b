/**
 * The four ablations of the workbench, each at three budgets:
 *   smoke  seconds: synthetic images, a tiny ConvNet, 2 epochs (tests, CI)
 *   quick  the four ablations in about 45 minutes on a 2-core CPU with the tensorflow backend, 2
 *          seeds per point: a class-balanced CIFAR-10 subset (5000 train / 1000 test), a ConvNet
 *          at width 0.25 (0.5 as MixCo's larger encoder), 3 epochs, kNN and a fast linear probe
 *          at the end; the grids are cut to the points that test each paper's main claims
 *   paper  the papers' settings scaled to CIFAR-10: ResNet-18 (CIFAR stem), 200 epochs, the MoCo
 *          CIFAR demo's recipe (batch 512, lr 0.06, wd 5e-4, cosine, K 4096, m 0.99, T 0.1,
 *          kNN monitor every epoch), 3 seeds.
 *
 *   moco-queue  queue size K at fixed m, and momentum m in {0, 0.9, 0.99, 0.999} at fixed K (MoCo §4.1)
 *   mochi       MoCo v2 baseline vs MoCHi (N, s, s') settings, plus the class oracle (docs/references.md#mochi-oracle)
 *   mixco       beta grid on MoCo v2 and SimCLR, small vs larger encoder (beta = 0 is the base method)
 *   supcon      SupCon temperature grid 0.05 .. 1.0 vs cross-entropy and SimCLR
 *
 * budgets.ts holds the settings they share at each budget; each ablation's file holds its grid.
 */
import { ABLATIONS, type AblationName, BUDGETS, type Budget } from '../names';
import { type Ablation, SHARED, type SharedSettings } from './budgets';
import { MIXCO_GRID, type MixcoGrid, mixco } from './mixco';
import { MOCHI_GRID, type MochiGrid, mochi } from './mochi';
import { MOCO_QUEUE_GRID, type MocoQueueGrid, mocoQueue } from './moco-queue';
import { SUPCON_GRID, type SupconGrid, supcon } from './supcon';

export { ABLATIONS, BUDGETS, type AblationName, type Budget };
export type { Ablation };

type BudgetSettings = SharedSettings & MocoQueueGrid & MochiGrid & MixcoGrid & SupconGrid;

/** The settings behind a budget (copies). */
export function budgetSettings(budget: Budget): BudgetSettings {
  if (!(BUDGETS as readonly string[]).includes(budget)) throw new Error(`budget must be one of ${BUDGETS.join(', ')}, got ${JSON.stringify(budget)}`);
  const s = SHARED[budget];
  const q = MOCO_QUEUE_GRID[budget];
  const h = MOCHI_GRID[budget];
  const x = MIXCO_GRID[budget];
  const t = SUPCON_GRID[budget];
  const settings: BudgetSettings = {
    dataset: s.dataset,
    encoder: s.encoder,
    largerEncoder: s.largerEncoder,
    epochs: s.epochs,
    batchSize: s.batchSize,
    lr: s.lr,
    weightDecay: s.weightDecay,
    bnSplits: s.bnSplits,
    seeds: s.seeds,
    eval: s.eval,
    Ks: q.Ks,
    K: s.K,
    ms: q.ms,
    m: s.m,
    mochi: h.mochi,
    oracle: h.oracle,
    mochiWarmup: h.mochiWarmup,
    betas: x.betas,
    temperatures: t.temperatures,
    ...(x.mixcoLargerBases ? { mixcoLargerBases: x.mixcoLargerBases } : {}),
  };
  return JSON.parse(JSON.stringify(settings)) as BudgetSettings;
}

/** An ablation's base config and sweep points at a budget. */
export function ablation(name: AblationName | string, budget: Budget | string = 'quick'): Ablation {
  if (!(ABLATIONS as readonly string[]).includes(name))
    throw new Error(`ablation must be one of ${ABLATIONS.join(', ')}, got ${JSON.stringify(name)}`);
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
