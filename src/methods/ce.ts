/**
 * Supervised cross-entropy baseline (SupContrast main_ce.py): a linear classifier `fc` on the
 * pooled backbone features, L = CE(fc(f(x)), y) with optional label smoothing, on views[0].
 * Metrics: proxyAcc = training-batch top-1 accuracy (the true class has the top logit).
 * features(x, 'projection') gives the L2-normalised backbone features (there is no projection head).
 */
import * as tf from '@tensorflow/tfjs';
import { l2Normalize } from '../ops/normalize';
import type { ParamSchema } from './params-schema';
import { optional, str, unit01 } from '../util/validate';
import type { Batch, CeParams, MethodConfig } from '../types';
import { MethodBase, type MethodInit, type PendingStep } from './base';
import { crossEntropy } from './losses/soft-ce';

/** No label smoothing (SupContrast main_ce.py). */
export const CE_DEFAULTS: { name: 'ce' } & CeParams = { name: 'ce', labelSmoothing: 0 };

export const CE_SCHEMA: ParamSchema = { fields: { name: str, labelSmoothing: optional(unit01) } };

export class CrossEntropyBaseline extends MethodBase {
  readonly name = 'ce' as const;
  readonly viewsPerImage = 1;
  declare readonly config: MethodConfig & CeParams;

  constructor(config: MethodConfig & CeParams, init: MethodInit) {
    super(config, init, { kind: 'linear', dim: init.data.numClasses });
    if (!(Number.isInteger(init.data.numClasses) && init.data.numClasses >= 2)) {
      throw new Error(`ce: data.numClasses must be an integer >= 2, got ${init.data.numClasses}`);
    }
  }

  protected step(batch: Batch): PendingStep {
    this.checkBatch(batch);
    return this.optimise(() => {
      const logits = this.net.project(this.net.forward(batch.views[0], { training: true }));
      const acc = logits.argMax(1).toInt().equal(batch.labels.toInt()).toFloat().mean() as tf.Scalar;
      return { loss: crossEntropy(logits, batch.labels, this.config.labelSmoothing ?? 0), metrics: { proxyAcc: acc } };
    });
  }

  features(x: tf.Tensor4D, which: 'backbone' | 'projection'): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.net.forward(x, { training: false });
      return which === 'backbone' ? h : l2Normalize(h);
    });
  }
}
