/**
 * MixCo (Kim et al. 2020) on MoCo v2 or SimCLR, as Lee-Gihun/MixCo (see losses/mixco.ts):
 * L = L_contrast + beta * L_mixco, lambda ~ U(0, 1) per pair, soft targets, temperature mixT.
 * MoCo base: one forward of [x_q; x_mix] (1.5B images, split BN), mix logits against the B keys and
 *   the K queue negatives; keys and queue as MoCo (asymmetric).
 * SimCLR base: NT-Xent on one forward of [x1; x2]; for each direction the halves of x1 (x2) are
 *   mixed and matched against z2 (z1), batch only; L_mixco is the mean of the two directions.
 *   The mixed images of both directions go through one separate forward (B images). K, m and
 *   bnSplits are not used with this base.
 * lambda is drawn on the host from the method's Rng (checkpointed), one per pair.
 */
import * as tf from '@tensorflow/tfjs';
import { createMomentumEncoder, momentumUpdate } from '../models/momentum';
import type { Network } from '../models/network';
import { KeyQueue, l2Normalize } from '../models/queue';
import type { Batch, MethodConfig, MixcoParams } from '../types';
import { MethodBase, shuffledForward, type MethodInit, type PendingStep, type StepOutputs } from './base';
import { addKeyPathVariables, restoreQueuePtr } from './key-path';
import { infoNCEFromLogits, proxyAccuracy } from './losses/info-nce';
import { mixcoLoss, mixHalves } from './losses/mixco';
import { ntXent, ntXentAccuracy, ntXentLogits } from './losses/nt-xent';
import { checkMocoParams, similarityStats } from './moco';

export class Mixco extends MethodBase {
  readonly name = 'mixco' as const;
  readonly viewsPerImage = 2;
  readonly keyNet: Network | null = null;
  readonly queue: KeyQueue | null = null;
  protected readonly xp: MixcoParams;

  constructor(config: MethodConfig & MixcoParams, init: MethodInit) {
    super(config, init, config.mlp ? { kind: 'mlp', dim: config.dim } : { kind: 'linear', dim: config.dim });
    if (config.base !== 'moco' && config.base !== 'simclr') throw new Error(`mixco.base: '${config.base}' is not 'moco' or 'simclr'`);
    if (!(config.beta >= 0)) throw new Error(`mixco.beta: invalid value ${config.beta}`);
    if (!(config.mixT > 0)) throw new Error(`mixco.mixT: invalid value ${config.mixT}`);
    if (!(config.T > 0)) throw new Error(`mixco.T: invalid value ${config.T}`);
    this.xp = config;
    if (config.base === 'moco') {
      checkMocoParams({ ...config, symmetric: false }, 'mixco');
      this.keyNet = createMomentumEncoder(this.net);
      this.queue = new KeyQueue(config.K, config.dim, this.rng.nextSeed());
    }
  }

  /** lambda ~ U(0, 1), one per pair, from the method's RNG. [h] */
  protected drawLambda(h: number): tf.Tensor1D {
    const l = new Float32Array(h);
    for (let i = 0; i < h; i++) l[i] = this.rng.next();
    return tf.tensor1d(l);
  }

  protected step(batch: Batch): PendingStep {
    const B = this.checkBatch(batch);
    if (B % 2 !== 0) throw new Error(`mixco: the batch size must be even (half-split mixing), got ${B}`);
    return this.xp.base === 'moco' ? this.mocoStep(batch, B) : this.simclrStep(batch, B);
  }

  private mocoStep(batch: Batch, B: number): PendingStep {
    const keyNet = this.keyNet!;
    const queue = this.queue!;
    const S = this.xp.bnSplits;
    if ((B + B / 2) % S !== 0 || B % S !== 0) {
      throw new Error(`mixco: batch ${B} and the query forward of ${B + B / 2} images (with the mixes) must be multiples of bnSplits ${S}`);
    }
    const [xq, xk] = batch.views;
    const lambda = this.drawLambda(B / 2);
    const xMix = mixHalves(xq, lambda);
    const xAll = tf.concat([xq, xMix]) as tf.Tensor4D;
    momentumUpdate(keyNet, this.net, this.xp.m);
    const k = shuffledForward(xk, this.rng.permutation(B), (xs) =>
      l2Normalize(keyNet.project(keyNet.forward(xs, { training: true, bnSplits: S }))),
    );
    const result = this.optimise((): StepOutputs => {
      const qAll = l2Normalize(this.net.project(this.net.forward(xAll, { training: true, bnSplits: S })));
      const [q, qMix] = tf.split(qAll, [B, B / 2]) as [tf.Tensor2D, tf.Tensor2D];
      const lPos = q.mul(k).sum(1, true) as tf.Tensor2D;
      const lNeg = tf.matMul(q, queue.keys as tf.Tensor2D, false, true) as tf.Tensor2D;
      const logits = tf.concat([lPos, lNeg], 1).div(this.xp.T) as tf.Tensor2D;
      const lContrast = infoNCEFromLogits(logits);
      const lMix = mixcoLoss(qMix, k, queue.keys as tf.Tensor2D, lambda, this.xp.mixT);
      return {
        loss: lContrast.add(lMix.mul(this.xp.beta)) as tf.Scalar,
        metrics: { proxyAcc: proxyAccuracy(logits), lossContrast: lContrast, lossMix: lMix, ...similarityStats(lPos, lNeg) },
      };
    });
    queue.enqueue(k, batch.labels);
    tf.dispose([k, lambda, xMix, xAll]);
    return result;
  }

  private simclrStep(batch: Batch, B: number): PendingStep {
    const [x1, x2] = batch.views;
    const lambda1 = this.drawLambda(B / 2);
    const lambda2 = this.drawLambda(B / 2);
    const xMix = tf.tidy(() => tf.concat([mixHalves(x1, lambda1), mixHalves(x2, lambda2)]) as tf.Tensor4D);
    const xViews = tf.concat([x1, x2]) as tf.Tensor4D;
    const embed = (x: tf.Tensor4D) => l2Normalize(this.net.project(this.net.forward(x, { training: true })));
    const result = this.optimise((): StepOutputs => {
      const [z1, z2] = tf.split(embed(xViews), [B, B]) as [tf.Tensor2D, tf.Tensor2D];
      const [zMix1, zMix2] = tf.split(embed(xMix), [B / 2, B / 2]) as [tf.Tensor2D, tf.Tensor2D];
      const lContrast = ntXent(z1, z2, this.xp.T);
      const lMix = mixcoLoss(zMix1, z2, null, lambda1, this.xp.mixT).add(mixcoLoss(zMix2, z1, null, lambda2, this.xp.mixT)).div(2) as tf.Scalar;
      return {
        loss: lContrast.add(lMix.mul(this.xp.beta)) as tf.Scalar,
        metrics: { proxyAcc: ntXentAccuracy(ntXentLogits(z1, z2, this.xp.T)), lossContrast: lContrast, lossMix: lMix },
      };
    });
    tf.dispose([lambda1, lambda2, xMix, xViews]);
    return result;
  }

  protected stateVariables(): Map<string, tf.Variable> {
    const m = super.stateVariables();
    if (this.keyNet && this.queue) addKeyPathVariables(m, this.keyNet, this.queue);
    return m;
  }

  protected extraHostState(): Record<string, unknown> {
    return this.queue ? { queuePtr: this.queue.ptr } : {};
  }

  protected loadExtraHostState(host: Record<string, unknown>): void {
    if (this.queue) restoreQueuePtr(this.name, this.queue, host);
  }

  dispose(): void {
    super.dispose();
    this.keyNet?.dispose();
    this.queue?.dispose();
  }
}
