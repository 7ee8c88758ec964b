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
import type { MethodInit, StepOutputs } from './base';
import { infoNCEFromLogits, proxyAccuracy } from './losses/info-nce';
import { disposeDraws, drawMochi, mochiLogits } from './losses/mochi';
import { Moco, similarityStats } from './moco';

/** Logit given to masked (same-class) queue entries: exp(-1e9 / T) is exactly 0. */
export const MASKED_LOGIT = -1e9;

export class Mochi extends Moco {
  readonly name = 'mochi' as const;
  protected readonly mp: MochiParams;

  constructor(config: MethodConfig & MochiParams, init: MethodInit) {
    super(config, init);
    this.mp = config;
    const bad = (f: string) => new Error(`mochi.${f}: invalid value ${JSON.stringify((config as unknown as Record<string, unknown>)[f])}`);
    if (!(Number.isInteger(config.N) && config.N >= 1 && config.N <= config.K)) throw bad('N');
    if (!(Number.isInteger(config.s) && config.s >= 0)) throw bad('s');
    if (!(Number.isInteger(config.sPrime) && config.sPrime >= 0)) throw bad('sPrime');
    if (!(config.warmupEpochs >= 0)) throw bad('warmupEpochs');
  }

  /** Whether this epoch mixes (after the warm-up, and s + s' > 0). */
  get mixing(): boolean {
    return this.epoch >= this.mp.warmupEpochs && this.mp.s + this.mp.sPrime > 0;
  }

  protected maskNegatives(lNeg: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor2D {
    if (!this.mp.classOracle) return lNeg;
    const same = labels.toInt().reshape([-1, 1]).equal(this.queue.labels.reshape([1, -1])); // [B, K]
    return tf.where(same, tf.fill(lNeg.shape, MASKED_LOGIT), lNeg) as tf.Tensor2D;
  }

  protected contrast(q: tf.Tensor2D, k: tf.Tensor2D, labels: tf.Tensor1D): StepOutputs {
    if (!this.mixing) return super.contrast(q, k, labels);
    const B = q.shape[0];
    const { T, N, s, sPrime } = this.mp;
    const lPos = q.mul(k).sum(1, true) as tf.Tensor2D; // [B, 1] (for the statistics)
    const lNegRaw = tf.matMul(q, this.queue.keys as tf.Tensor2D, false, true) as tf.Tensor2D; // [B, K]
    const draws = drawMochi(B, N, s, sPrime, this.rng.nextSeed());
    const { logits, queueLogits, lSyn } = mochiLogits(q, k, this.queue.keys as tf.Tensor2D, N, T, draws, (l) => this.maskNegatives(l, labels));
    disposeDraws(draws);
    const hardSim = tf.topk(this.maskNegatives(lNegRaw, labels), N).values; // metric only
    return {
      loss: infoNCEFromLogits(logits),
      metrics: {
        proxyAcc: proxyAccuracy(queueLogits),
        proxyAccSynth: proxyAccuracy(logits),
        ...similarityStats(lPos, lNegRaw),
        hardNegSim: hardSim.mean() as tf.Scalar,
        synthNegSim: lSyn.mean() as tf.Scalar,
      },
    };
  }
}
