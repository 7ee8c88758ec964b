/**
 * MoCo v1/v2 (He et al. 2020; Chen et al. 2020), as moco/builder.py and the CIFAR demo:
 *   q = l2n(f_q(x_q))                                 [B, D]  (split BN over bnSplits sub-batches)
 *   theta_k <- m theta_k + (1 - m) theta_q              (before the key forward)
 *   k = l2n(f_k(shuffle(x_k)))[unshuffle]              [B, D]  (no gradient; split BN)
 *   logits = [q.k, q.queue^T] / T                      [B, 1 + K],  L = CE(logits, 0)
 *   enqueue k (after the loss)
 * Symmetric (CIFAR demo): L = L(q1, k2) + L(q2, k1) (summed), and [k1; k2] are enqueued.
 * Subclasses extend `negativeLogits` (MoCHi) and may mask queue entries (class oracle).
 */
import * as tf from '@tensorflow/tfjs';
import { createMomentumEncoder, momentumUpdate } from '../models/momentum';
import type { Network } from '../models/network';
import { KeyQueue, l2Normalize } from '../models/queue';
import type { Batch, MethodConfig, MocoParams } from '../types';
import { MethodBase, shuffledForward, type MethodInit, type PendingStep, type StepOutputs } from './base';
import { addKeyPathVariables, restoreQueuePtr } from './key-path';
import { infoNCEFromLogits, proxyAccuracy } from './losses/info-nce';

export function checkMocoParams(p: MocoParams, where: string): void {
  const bad = (f: string) => new Error(`${where}.${f}: invalid value ${JSON.stringify((p as unknown as Record<string, unknown>)[f])}`);
  if (!(Number.isInteger(p.K) && p.K >= 1)) throw bad('K');
  if (!(p.m >= 0 && p.m <= 1)) throw bad('m');
  if (!(p.T > 0)) throw bad('T');
  if (!(Number.isInteger(p.dim) && p.dim >= 1)) throw bad('dim');
  if (!(Number.isInteger(p.bnSplits) && p.bnSplits >= 1)) throw bad('bnSplits');
}

export class Moco extends MethodBase {
  readonly name: 'moco' | 'mochi' = 'moco';
  readonly viewsPerImage = 2;
  readonly keyNet: Network;
  readonly queue: KeyQueue;
  protected readonly p: MocoParams;

  constructor(config: MethodConfig & MocoParams, init: MethodInit) {
    super(config, init, config.mlp ? { kind: 'mlp', dim: config.dim } : { kind: 'linear', dim: config.dim });
    checkMocoParams(config, config.name);
    this.p = config;
    this.keyNet = createMomentumEncoder(this.net);
    this.queue = new KeyQueue(config.K, config.dim, this.rng.nextSeed());
  }

  protected checkSplits(B: number): void {
    if (B % this.p.bnSplits !== 0) {
      throw new Error(`${this.name}: batch size ${B} is not a multiple of bnSplits ${this.p.bnSplits} (set method.bnSplits or the batch size)`);
    }
  }

  /** q = l2n(f_q(x)) with split BN, training mode. x [B, H, W, C] -> [B, D]. */
  protected queryForward(x: tf.Tensor4D): tf.Tensor2D {
    return l2Normalize(this.net.project(this.net.forward(x, { training: true, bnSplits: this.p.bnSplits })));
  }

  /** k = l2n(f_k(x)) computed on a shuffled batch and unshuffled (shuffle BN on one device). No gradient. */
  protected keyForward(x: tf.Tensor4D): tf.Tensor2D {
    const perm = this.rng.permutation(x.shape[0]);
    return shuffledForward(x, perm, (xs) =>
      l2Normalize(this.keyNet.project(this.keyNet.forward(xs, { training: true, bnSplits: this.p.bnSplits }))),
    );
  }

  /**
   * Logits and metrics of one direction. q [B, D] (carries gradient), k [B, D] constant, labels [B].
   * Base MoCo: [q.k, q.queue^T] / T. Returns the loss and the metric scalars.
   */
  protected contrast(q: tf.Tensor2D, k: tf.Tensor2D, labels: tf.Tensor1D): StepOutputs {
    const lPos = q.mul(k).sum(1, true) as tf.Tensor2D; // [B, 1]
    const lNeg = tf.matMul(q, this.queue.keys as tf.Tensor2D, false, true) as tf.Tensor2D; // [B, K]
    const logits = tf.concat([lPos, this.maskNegatives(lNeg, labels)], 1).div(this.p.T) as tf.Tensor2D; // [B, 1+K]
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
    momentumUpdate(this.keyNet, this.net, this.p.m);
    const k2 = this.keyForward(x2);
    const k1 = this.p.symmetric ? this.keyForward(x1) : null;
    const result = this.optimise(() => {
      const r12 = this.contrast(this.queryForward(x1), k2, batch.labels);
      if (!k1) return r12;
      const r21 = this.contrast(this.queryForward(x2), k1, batch.labels);
      return { loss: r12.loss.add(r21.loss), metrics: averageMetrics(r12.metrics, r21.metrics) };
    });
    if (k1) {
      const labels2 = tf.concat([batch.labels, batch.labels]) as tf.Tensor1D;
      const keys = tf.concat([k1, k2]) as tf.Tensor2D;
      this.queue.enqueue(keys, labels2);
      tf.dispose([labels2, keys, k1]);
    } else {
      this.queue.enqueue(k2, batch.labels);
    }
    k2.dispose();
    return result;
  }

  protected stateVariables(): Map<string, tf.Variable> {
    const m = super.stateVariables();
    addKeyPathVariables(m, this.keyNet, this.queue);
    return m;
  }

  protected extraHostState(): Record<string, unknown> {
    return { queuePtr: this.queue.ptr };
  }

  protected loadExtraHostState(host: Record<string, unknown>): void {
    restoreQueuePtr(this.name, this.queue, host);
  }

  dispose(): void {
    super.dispose();
    this.keyNet.dispose();
    this.queue.dispose();
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
