/**
 * SupCon (Khosla et al. 2020), as SupContrast main_supcon.py: one forward of [x1; x2],
 * features = stack([z1, z2], 1) [B, 2, D], L = supConLoss(features, labels, {T, baseT}).
 * Metrics: proxyAcc = share of anchors whose most similar other sample (of 2B - 1) has the same label.
 */
import * as tf from '@tensorflow/tfjs';
import { l2Normalize } from '../ops/normalize';
import type { ParamSchema } from './params-schema';
import { bool, posInt, positive, str } from '../util/validate';
import type { Batch, MethodConfig, SupconParams } from '../types';
import { MethodBase, projectionHead, type MethodInit, type PendingStep } from './base';
import { supConLoss } from './losses/supcon-loss';

/** T 0.1 (SupContrast README recipe), baseT 0.07 (losses.py default), dim 128, MLP head. */
export const SUPCON_DEFAULTS: { name: 'supcon' } & SupconParams = { name: 'supcon', T: 0.1, baseT: 0.07, dim: 128, mlp: true };

export const SUPCON_SCHEMA: ParamSchema = { fields: { name: str, T: positive, baseT: positive, dim: posInt, mlp: bool } };

export class Supcon extends MethodBase {
  readonly name = 'supcon' as const;
  readonly viewsPerImage = 2;
  declare readonly config: MethodConfig & SupconParams;

  constructor(config: MethodConfig & SupconParams, init: MethodInit) {
    super(config, init, projectionHead(config));
  }

  protected step(batch: Batch): PendingStep {
    const B = this.checkBatch(batch);
    const [x1, x2] = batch.views;
    return this.optimise(() => {
      const z = l2Normalize(this.net.project(this.net.forward(tf.concat([x1, x2]) as tf.Tensor4D, { training: true })));
      const [z1, z2] = tf.split(z, [B, B]);
      const loss = supConLoss(tf.stack([z1, z2], 1) as tf.Tensor3D, batch.labels, { temperature: this.config.T, baseTemperature: this.config.baseT });
      // proxyAcc: nearest other sample has the same label.
      const sim = tf.matMul(z, z, false, true).sub(tf.eye(2 * B).mul(1e9));
      const labels2 = tf.concat([batch.labels, batch.labels]).toInt();
      const nearest = tf.gather(labels2, sim.argMax(1));
      return { loss, metrics: { proxyAcc: nearest.equal(labels2).toFloat().mean() as tf.Scalar } };
    });
  }
}
