/**
 * MoCo v1/v2 (He et al. 2020; Chen et al. 2020), as moco/builder.py and the CIFAR demo:
 *   q = l2n(f_q(x_q))                                 [B, D]  (split BN over bnSplits sub-batches)
 *   theta_k <- m theta_k + (1 - m) theta_q              (before the key forward)
 *   k = l2n(f_k(shuffle(x_k)))[unshuffle]              [B, D]  (no gradient; split BN)
 *   logits = [q.k, q.queue^T] / T                      [B, 1 + K],  L = CE(logits, 0)
 *   enqueue k (after the loss)
 * Symmetric (CIFAR demo): L = L(q1, k2) + L(q2, k1) (summed), and [k1; k2] are enqueued.
 * Subclasses extend `contrast` (MoCHi) and may mask queue entries (class oracle).
 */
import * as tf from '@tensorflow/tfjs';
import { l2Normalize } from '../ops/normalize';
import type { Batch, MethodConfig, MocoParams } from '../types';
import { bool, posInt, positive, str, unit01, type Spec } from '../util/validate';
import { MethodBase, projectionHead, type MethodInit, type PendingStep, type StepOutputs } from './base';
import { KeyPath } from './key-path';
import { infoNCEFromLogits, mocoLogits, proxyAccuracy } from './losses/info-nce';
import type { ParamSchema } from './params-schema';

/**
 * The MoCo CIFAR-10 demo's defaults (colab/moco_cifar10_demo.ipynb): K 4096, m 0.99, T 0.1,
 * dim 128, linear fc (no MLP), asymmetric, bn-splits 8. MoCo v2 on ImageNet would be K 65536,
 * m 0.999, T 0.2, mlp true (main_moco.py, README).
 */
export const MOCO_DEFAULTS: { name: 'moco' } & MocoParams = {
  name: 'moco',
  K: 4096,
  m: 0.99,
  T: 0.1,
  dim: 128,
  mlp: false,
  symmetric: false,
  bnSplits: 8,
};

export const MOCO_FIELDS: Spec = { name: str, K: posInt, m: unit01, T: positive, dim: posInt, mlp: bool, symmetric: bool, bnSplits: posInt };
export const MOCO_SCHEMA: ParamSchema = { fields: MOCO_FIELDS };

export class Moco extends MethodBase {
  readonly name: 'moco' | 'mochi' = 'moco';
  readonly viewsPerImage = 2;
  declare readonly config: MethodConfig & MocoParams;
  readonly keyPath: KeyPath;

  constructor(config: MethodConfig & MocoParams, init: MethodInit) {
    super(config, init, projectionHead(config));
    this.keyPath = new KeyPath(this.net, { K: config.K, dim: config.dim, m: config.m, bnSplits: config.bnSplits, queueSeed: this.rng.nextSeed() });
  }

  /** The momentum (key) encoder. */
  get keyNet() {
    return this.keyPath.net;
  }

  get queue() {
    return this.keyPath.queue;
  }

  protected checkSplits(B: number): void {
    if (B % this.config.bnSplits !== 0) {
      throw new Error(`${this.name}: batch size ${B} is not a multiple of bnSplits ${this.config.bnSplits} (set method.bnSplits or the batch size)`);
    }
  }

  /** q = l2n(f_q(x)) with split BN, training mode. x [B, H, W, C] -> [B, D]. */
  protected queryForward(x: tf.Tensor4D): tf.Tensor2D {
    return l2Normalize(this.net.project(this.net.forward(x, { training: true, bnSplits: this.config.bnSplits })));
  }

  /**
   * Loss and metrics of one direction. q [B, D] (carries gradient), k [B, D] constant, labels [B].
   * Base MoCo: CE([q.k, q.queue^T] / T, 0).
   */
  protected contrast(q: tf.Tensor2D, k: tf.Tensor2D, labels: tf.Tensor1D): StepOutputs {
    const { logits, lPos, lNeg } = mocoLogits(q, k, this.queue.keys as tf.Tensor2D, this.config.T, (l) => this.maskNegatives(l, labels));
    return {
      loss: infoNCEFromLogits(logits),
      metrics: { proxyAcc: proxyAccuracy(logits), ...similarityStats(lPos, lNeg) },
    };
  }

  /** Hook for the class oracle (MoCHi): base MoCo keeps every queue entry. */
  protected maskNegatives(lNeg: tf.Tensor2D, _labels: tf.Tensor1D): tf.Tensor2D {
    return lNeg;
  }

  protected step(batch: Batch): PendingStep {
    const B = this.checkBatch(batch);
    this.checkSplits(B);
    const [x1, x2] = batch.views;
    this.keyPath.update(this.net);
    const k2 = this.keyPath.keys(x2, this.rng);
    const k1 = this.config.symmetric ? this.keyPath.keys(x1, this.rng) : null;
    const result = this.optimise(() => {
      const r12 = this.contrast(this.queryForward(x1), k2, batch.labels);
      if (!k1) return r12;
      const r21 = this.contrast(this.queryForward(x2), k1, batch.labels);
      return { loss: r12.loss.add(r21.loss), metrics: averageMetrics(r12.metrics, r21.metrics) };
    });
    if (k1) {
      const labels2 = tf.concat([batch.labels, batch.labels]) as tf.Tensor1D;
      const keys = tf.concat([k1, k2]) as tf.Tensor2D;
      this.keyPath.enqueue(keys, labels2);
      tf.dispose([labels2, keys, k1]);
    } else {
      this.keyPath.enqueue(k2, batch.labels);
    }
    k2.dispose();
    return result;
  }

  protected stateVariables(): Map<string, tf.Variable> {
    const m = super.stateVariables();
    this.keyPath.addStateVariables(m);
    return m;
  }

  protected extraHostState(): Record<string, unknown> {
    return this.keyPath.hostState();
  }

  protected loadExtraHostState(host: Record<string, unknown>): void {
    this.keyPath.loadHostState(this.name, host);
  }

  dispose(): void {
    super.dispose();
    this.keyPath.dispose();
  }
}

/** posSim = mean q.k+, negSim = mean q.n, maxNegSim = mean over queries of max_j q.n_j (unmasked). */
export function similarityStats(lPos: tf.Tensor2D, lNeg: tf.Tensor2D): Record<string, tf.Scalar> {
  return {
    posSim: lPos.mean() as tf.Scalar,
    negSim: lNeg.mean() as tf.Scalar,
    maxNegSim: lNeg.max(1).mean() as tf.Scalar,
  };
}

export function averageMetrics(a: Record<string, tf.Scalar>, b: Record<string, tf.Scalar>): Record<string, tf.Scalar> {
  const out: Record<string, tf.Scalar> = {};
  for (const n of Object.keys(a)) out[n] = b[n] ? (a[n].add(b[n]).div(2) as tf.Scalar) : a[n];
  return out;
}
