/**
 * SimCLR (Chen et al. 2020): one training-mode forward of [x1; x2] (BN sees both views, as
 * SupContrast main_supcon.py), z = l2n(g(f(x))), L = NT-Xent(z1, z2, T) over the 2N views.
 * Metrics: proxyAcc (anchors whose positive has the top logit among the other 2N-1), posSim, negSim.
 */
import * as tf from '@tensorflow/tfjs';
import { l2Normalize } from '../ops/normalize';
import type { ParamSchema } from './params-schema';
import { bool, posInt, positive, str } from '../util/validate';
import type { Batch, MethodConfig, SimclrParams } from '../types';
import { MethodBase, projectionHead, type MethodInit, type PendingStep, type StepOutputs } from './base';
import { ntXent, ntXentAccuracy, ntXentLogits } from './losses/nt-xent';

/** T 0.5 (SupContrast README for SimCLR; MixCo's SimCLR scripts), dim 128, MLP head. */
export const SIMCLR_DEFAULTS: { name: 'simclr' } & SimclrParams = { name: 'simclr', T: 0.5, dim: 128, mlp: true };

export const SIMCLR_SCHEMA: ParamSchema = { fields: { name: str, T: positive, dim: posInt, mlp: bool } };

export class Simclr extends MethodBase {
  readonly name = 'simclr' as const;
  readonly viewsPerImage = 2;
  declare readonly config: MethodConfig & SimclrParams;

  constructor(config: MethodConfig & SimclrParams, init: MethodInit) {
    super(config, init, projectionHead(config));
  }

  /** z = l2n(g(f(x))) in training mode. x [M, H, W, C] -> [M, D]. */
  protected embed(x: tf.Tensor4D): tf.Tensor2D {
    return l2Normalize(this.net.project(this.net.forward(x, { training: true })));
  }

  /** NT-Xent and its metrics for z1, z2 [B, D]. */
  protected contrastViews(z1: tf.Tensor2D, z2: tf.Tensor2D): StepOutputs {
    const B = z1.shape[0];
    const logits = ntXentLogits(z1, z2, this.config.T);
    const sim = tf.matMul(z1, z2, false, true); // [B, B]
    const eye = tf.eye(B);
    return {
      loss: ntXent(z1, z2, this.config.T),
      metrics: {
        proxyAcc: ntXentAccuracy(logits),
        posSim: sim.mul(eye).sum().div(B) as tf.Scalar,
        negSim:
          B > 1
            ? (sim
                .mul(tf.scalar(1).sub(eye))
                .sum()
                .div(B * (B - 1)) as tf.Scalar)
            : tf.scalar(0),
      },
    };
  }

  protected step(batch: Batch): PendingStep {
    const B = this.checkBatch(batch);
    const [x1, x2] = batch.views;
    return this.optimise(() => {
      const z = this.embed(tf.concat([x1, x2]) as tf.Tensor4D);
      const [z1, z2] = tf.split(z, [B, B]) as [tf.Tensor2D, tf.Tensor2D];
      return this.contrastViews(z1, z2);
    });
  }
}
