/**
 * MixCo (Kim et al. 2020) on MoCo v2 or SimCLR, as Lee-Gihun/MixCo (see losses/mixco.ts):
 * L = L_contrast + beta * L_mixco, lambda ~ U(0, 1) per pair, soft targets, temperature mixT.
 * MoCo base: one forward of [x_q; x_mix] (1.5B images, split BN), mix logits against the B keys and
 *   the K queue negatives; keys and queue as MoCo (asymmetric), through the same KeyPath.
 * SimCLR base: NT-Xent on one forward of [x1; x2]; for each direction the halves of x1 (x2) are
 *   mixed and matched against z2 (z1), batch only; L_mixco is the mean of the two directions.
 *   The mixed images of both directions go through one separate forward (B images). K, m and
 *   bnSplits are not used with this base.
 * lambda is drawn on the host from the method's Rng (checkpointed), one per pair.
 */
import * as tf from '@tensorflow/tfjs';
import { l2Normalize } from '../ops/normalize';
import type { Batch, MethodConfig, MixcoParams } from '../types';
import { bool, nonNeg, oneOf, posInt, positive, str, unit01 } from '../util/validate';
import { MethodBase, projectionHead, type MethodInit, type PendingStep, type StepOutputs } from './base';
import { KeyPath } from './key-path';
import { infoNCEFromLogits, mocoLogits, proxyAccuracy } from './losses/info-nce';
import { mixcoLoss, mixHalves } from './losses/mixco';
import { ntXent, ntXentAccuracy, ntXentLogits } from './losses/nt-xent';
import { similarityStats } from './moco';
import type { ParamSchema } from './params-schema';

/**
 * MixCo exp_mix_res18_tinyimg.sh / args.py: base MoCo v2, K 65536, m 0.999, T 0.2, dim 128, mlp,
 * mix temperature 0.05, beta (mix-param) 1; bnSplits 8 stands in for shuffle BN on one device.
 */
export const MIXCO_DEFAULTS: { name: 'mixco' } & MixcoParams = {
  name: 'mixco',
  base: 'moco',
  beta: 1,
  mixT: 0.05,
  K: 65536,
  m: 0.999,
  T: 0.2,
  dim: 128,
  mlp: true,
  bnSplits: 8,
};

/**
 * The learning rate of MixCo's MoCo base at batch 128 (exp_mix_res18_tinyimg.sh; its MoCo baseline
 * "with the same computation" trains at the same 0.015, batch 192). At MoCo v2's CIFAR lr 0.06 for
 * batch 128, MixCo on MoCo collapses in both the workbench and the PyTorch twin: the contrast's
 * top-1 falls to a few percent and the query-negative similarity nears the query-key one
 * (docs/parity.md, "MixCo at the MoCo recipe"). Scale linearly with the batch (`mixcoLr`).
 */
export const MIXCO_LR = 0.015;

/** MIXCO_LR scaled linearly to a batch size. */
export const mixcoLr = (batchSize: number) => (MIXCO_LR * batchSize) / 128;

export const MIXCO_SCHEMA: ParamSchema = {
  fields: {
    name: str,
    base: oneOf(['moco', 'simclr']),
    beta: nonNeg,
    mixT: positive,
    K: posInt,
    m: unit01,
    T: positive,
    dim: posInt,
    mlp: bool,
    bnSplits: posInt,
  },
};

export class Mixco extends MethodBase {
  readonly name = 'mixco' as const;
  readonly viewsPerImage = 2;
  declare readonly config: MethodConfig & MixcoParams;
  /** The MoCo base's key encoder and queue (null on the SimCLR base). */
  readonly keyPath: KeyPath | null = null;

  constructor(config: MethodConfig & MixcoParams, init: MethodInit) {
    super(config, init, projectionHead(config));
    if (config.base === 'moco') {
      this.keyPath = new KeyPath(this.net, { K: config.K, dim: config.dim, m: config.m, bnSplits: config.bnSplits, queueSeed: this.rng.nextSeed() });
    }
  }

  /** The momentum (key) encoder of the MoCo base. */
  get keyNet() {
    return this.keyPath?.net ?? null;
  }

  get queue() {
    return this.keyPath?.queue ?? null;
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
    return this.keyPath ? this.mocoStep(batch, B, this.keyPath) : this.simclrStep(batch, B);
  }

  private mocoStep(batch: Batch, B: number, keyPath: KeyPath): PendingStep {
    const S = this.config.bnSplits;
    if ((B + B / 2) % S !== 0 || B % S !== 0) {
      throw new Error(`mixco: batch ${B} and the query forward of ${B + B / 2} images (with the mixes) must be multiples of bnSplits ${S}`);
    }
    const [xq, xk] = batch.views;
    const lambda = this.drawLambda(B / 2);
    const xMix = mixHalves(xq, lambda);
    const xAll = tf.concat([xq, xMix]) as tf.Tensor4D;
    keyPath.update(this.net);
    const k = keyPath.keys(xk, this.rng);
    const queue = keyPath.queue.keys as tf.Tensor2D;
    const result = this.optimise((): StepOutputs => {
      const qAll = l2Normalize(this.net.project(this.net.forward(xAll, { training: true, bnSplits: S })));
      const [q, qMix] = tf.split(qAll, [B, B / 2]) as [tf.Tensor2D, tf.Tensor2D];
      const { logits, lPos, lNeg } = mocoLogits(q, k, queue, this.config.T);
      const lContrast = infoNCEFromLogits(logits);
      const lMix = mixcoLoss(qMix, k, queue, lambda, this.config.mixT);
      return {
        loss: lContrast.add(lMix.mul(this.config.beta)) as tf.Scalar,
        metrics: { proxyAcc: proxyAccuracy(logits), lossContrast: lContrast, lossMix: lMix, ...similarityStats(lPos, lNeg) },
      };
    });
    keyPath.enqueue(k, batch.labels);
    tf.dispose([k, lambda, xMix, xAll]);
    return result;
  }

  private simclrStep(batch: Batch, B: number): PendingStep {
    const { T, mixT, beta } = this.config;
    const [x1, x2] = batch.views;
    const lambda1 = this.drawLambda(B / 2);
    const lambda2 = this.drawLambda(B / 2);
    const xMix = tf.tidy(() => tf.concat([mixHalves(x1, lambda1), mixHalves(x2, lambda2)]) as tf.Tensor4D);
    const xViews = tf.concat([x1, x2]) as tf.Tensor4D;
    const embed = (x: tf.Tensor4D) => l2Normalize(this.net.project(this.net.forward(x, { training: true })));
    const result = this.optimise((): StepOutputs => {
      const [z1, z2] = tf.split(embed(xViews), [B, B]) as [tf.Tensor2D, tf.Tensor2D];
      const [zMix1, zMix2] = tf.split(embed(xMix), [B / 2, B / 2]) as [tf.Tensor2D, tf.Tensor2D];
      const lContrast = ntXent(z1, z2, T);
      const lMix = mixcoLoss(zMix1, z2, null, lambda1, mixT)
        .add(mixcoLoss(zMix2, z1, null, lambda2, mixT))
        .div(2) as tf.Scalar;
      return {
        loss: lContrast.add(lMix.mul(beta)) as tf.Scalar,
        metrics: { proxyAcc: ntXentAccuracy(ntXentLogits(z1, z2, T)), lossContrast: lContrast, lossMix: lMix },
      };
    });
    tf.dispose([lambda1, lambda2, xMix, xViews]);
    return result;
  }

  protected stateVariables(): Map<string, tf.Variable> {
    const m = super.stateVariables();
    this.keyPath?.addStateVariables(m);
    return m;
  }

  protected extraHostState(): Record<string, unknown> {
    return this.keyPath ? this.keyPath.hostState() : {};
  }

  protected loadExtraHostState(host: Record<string, unknown>): void {
    this.keyPath?.loadHostState(this.name, host);
  }

  dispose(): void {
    super.dispose();
    this.keyPath?.dispose();
  }
}
