/**
 * Reference defaults of each method (papers.md):
 * - moco: the MoCo CIFAR-10 demo (colab/moco_cifar10_demo.ipynb): K 4096, m 0.99, T 0.1, dim 128,
 *   linear fc (no MLP), asymmetric, bn-splits 8.  MoCo v2 on ImageNet would be K 65536, m 0.999,
 *   T 0.2, mlp true (main_moco.py, README).
 * - mochi: MoCo v2 base with the MaugrimEP ImageNet-100 reproduction config (conf/pretrain_params.py):
 *   K 16384, m 0.999, T 0.2, mlp, N 1024, s 1024, s' 128, warm-up 10 epochs; bnSplits 8 stands in
 *   for shuffle BN on one device (CIFAR demo); class oracle off. (The paper's own values: NOT FOUND.)
 * - mixco: MixCo exp_mix_res18_tinyimg.sh / args.py: base MoCo v2, K 65536, m 0.999, T 0.2, dim 128,
 *   mlp, mix temperature 0.05, beta (mix-param) 1; bnSplits 8 as above.
 * - simclr: T 0.5 (SupContrast README for SimCLR; MixCo's SimCLR scripts), dim 128, MLP head.
 * - supcon: T 0.1 (SupContrast README recipe), baseT 0.07 (losses.py default), dim 128, MLP head.
 * - ce: no label smoothing (SupContrast main_ce.py).
 */
import type { MethodConfig, MethodName } from '../types';

const DEFAULTS: { [N in MethodName]: Extract<MethodConfig, { name: N }> } = {
  moco: { name: 'moco', K: 4096, m: 0.99, T: 0.1, dim: 128, mlp: false, symmetric: false, bnSplits: 8 },
  mochi: {
    name: 'mochi',
    K: 16384,
    m: 0.999,
    T: 0.2,
    dim: 128,
    mlp: true,
    symmetric: false,
    bnSplits: 8,
    N: 1024,
    s: 1024,
    sPrime: 128,
    warmupEpochs: 10,
    classOracle: false,
  },
  mixco: { name: 'mixco', base: 'moco', beta: 1, mixT: 0.05, K: 65536, m: 0.999, T: 0.2, dim: 128, mlp: true, bnSplits: 8 },
  simclr: { name: 'simclr', T: 0.5, dim: 128, mlp: true },
  supcon: { name: 'supcon', T: 0.1, baseT: 0.07, dim: 128, mlp: true },
  ce: { name: 'ce', labelSmoothing: 0 },
};

/** The reference defaults of `name`, with `overrides` applied (unknown fields are an error). */
export function defaultMethodConfig<N extends MethodName>(
  name: N,
  overrides: Partial<Omit<Extract<MethodConfig, { name: N }>, 'name'>> = {},
): Extract<MethodConfig, { name: N }> {
  const base = DEFAULTS[name];
  if (!base) throw new Error(`method.name: unknown method '${name}' (${Object.keys(DEFAULTS).join(', ')})`);
  for (const key of Object.keys(overrides)) {
    if (!(key in base)) throw new Error(`defaultMethodConfig('${name}'): unknown field '${key}' (fields: ${Object.keys(base).join(', ')})`);
  }
  return { ...base, ...overrides, name } as Extract<MethodConfig, { name: N }>;
}
