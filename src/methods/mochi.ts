/**
 * MoCHi (Kalantidis et al. 2020): MoCo v2 plus, per query, s synthetic negatives mixing two of its
 * N hardest queue negatives and s' mixing the query itself with one of them (see
 * losses/mochi.ts). Logits [q.k, q.queue, q.h, q.h'] / T  [B, 1 + K + s + s']; the synthetic
 * points are built from detached inputs and never enqueued. Plain MoCo during the first
 * warmupEpochs epochs. Class oracle: queue entries of the query's own class are removed
 * (logit -1e9) before the top-N selection and in the loss.
 * Metrics: proxyAcc (queue negatives only, comparable to MoCo), proxyAccSynth (with the synthetic
 * negatives), hardNegSim (mean similarity of the top-N), synthNegSim (mean q.h).
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodConfig, MochiParams } from '../types';
import { bool, nonNegInt, posInt } from '../util/validate';
import type { StepOutputs } from './base';
import { infoNCEFromLogits, mocoLogits, proxyAccuracy } from './losses/info-nce';
import { disposeDraws, drawMochi, mochiLogits } from './losses/mochi';
import { MOCO_FIELDS, Moco, similarityStats } from './moco';
import type { ParamSchema } from './params-schema';

/**
 * MoCo v2 base with the MaugrimEP ImageNet-100 reproduction config (conf/pretrain_params.py):
 * K 16384, m 0.999, T 0.2, mlp, N 1024, s 1024, s' 128, warm-up 10 epochs; bnSplits 8 stands in
 * for shuffle BN on one device (CIFAR demo); class oracle off. (The paper's own values: NOT FOUND.)
 */
export const MOCHI_DEFAULTS: { name: 'mochi' } & MochiParams = {
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
};

export const MOCHI_SCHEMA: ParamSchema = {
  fields: { ...MOCO_FIELDS, N: posInt, s: nonNegInt, sPrime: nonNegInt, warmupEpochs: nonNegInt, classOracle: bool },
  rules: (o, path) =>
    typeof o.N === 'number' && typeof o.K === 'number' && o.N > o.K ? [`${path}.N must be at most ${path}.K (${o.K}), got ${o.N}`] : [],
};

/** Logit given to masked (same-class) queue entries: exp(-1e9 / T) is exactly 0. */
export const MASKED_LOGIT = -1e9;

export class Mochi extends Moco {
  readonly name = 'mochi' as const;
  declare readonly config: MethodConfig & MochiParams;

  /** Whether this epoch mixes (after the warm-up, and s + s' > 0). */
  get mixing(): boolean {
    return this.epoch >= this.config.warmupEpochs && this.config.s + this.config.sPrime > 0;
  }

  protected maskNegatives(lNeg: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor2D {
    if (!this.config.classOracle) return lNeg;
    const same = labels
      .toInt()
      .reshape([-1, 1])
      .equal(this.queue.labels.reshape([1, -1])); // [B, K]
    return tf.where(same, tf.fill(lNeg.shape, MASKED_LOGIT), lNeg) as tf.Tensor2D;
  }

  protected contrast(q: tf.Tensor2D, k: tf.Tensor2D, labels: tf.Tensor1D): StepOutputs {
    if (!this.mixing) return super.contrast(q, k, labels);
    const { T, N, s, sPrime } = this.config;
    const queue = this.keyPath.queue.keys as tf.Tensor2D;
    const moco = mocoLogits(q, k, queue, T, (l) => this.maskNegatives(l, labels));
    const draws = drawMochi(q.shape[0], N, s, sPrime, this.rng.nextSeed());
    const { logits, lSyn, hardSim } = mochiLogits(q, moco, queue, N, T, draws);
    disposeDraws(draws);
    return {
      loss: infoNCEFromLogits(logits),
      metrics: {
        proxyAcc: proxyAccuracy(moco.logits),
        proxyAccSynth: proxyAccuracy(logits),
        ...similarityStats(moco.lPos, moco.lNeg),
        hardNegSim: hardSim.mean() as tf.Scalar,
        synthNegSim: lSyn.mean() as tf.Scalar,
      },
    };
  }
}
