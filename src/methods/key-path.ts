/**
 * The key path of MoCo-style methods (MoCo, MoCHi, MixCo on MoCo), as moco/builder.py: a momentum
 * copy of the query encoder and the queue of its keys.
 *   update(query)      theta_k <- m theta_k + (1 - m) theta_q      (before the key forward)
 *   keys(x, rng)       k = l2n(f_k(shuffle(x)))[unshuffle]       [B, D]  (no gradient; split BN)
 *   enqueue(k, y)      after the loss
 * In a checkpoint it appears under the reference state_dict's names (`encoder_k.*`, `queue`).
 */
import * as tf from '@tensorflow/tfjs';
import { createMomentumEncoder, momentumUpdate } from '../models/momentum';
import type { Network } from '../models/network';
import { KeyQueue } from '../models/queue';
import { l2Normalize } from '../ops/normalize';
import type { Rng } from '../util/rng';

export class KeyPath {
  /** The momentum (key) encoder. */
  readonly net: Network;
  readonly queue: KeyQueue;

  /** A key encoder copied from `query` and a queue of K random unit keys of size dim (from queueSeed). */
  constructor(
    query: Network,
    readonly opts: { K: number; dim: number; m: number; bnSplits: number; queueSeed: number },
  ) {
    this.net = createMomentumEncoder(query);
    this.queue = new KeyQueue(opts.K, opts.dim, opts.queueSeed);
  }

  /** theta_k <- m theta_k + (1 - m) theta_q. */
  update(query: Network): void {
    momentumUpdate(this.net, query, this.opts.m);
  }

  /** Keys of x [B, H, W, C]: forward of a batch shuffled by `rng` and unshuffled (shuffle BN on one device). */
  keys(x: tf.Tensor4D, rng: Rng): tf.Tensor2D {
    const perm = rng.permutation(x.shape[0]);
    return shuffledForward(x, perm, (xs) => l2Normalize(this.net.project(this.net.forward(xs, { training: true, bnSplits: this.opts.bnSplits }))));
  }

  enqueue(k: tf.Tensor2D, labels?: tf.Tensor1D): void {
    this.queue.enqueue(k, labels);
  }

  /** Adds the momentum encoder's params and BN buffers and the key/label queues to `vars`. */
  addStateVariables(vars: Map<string, tf.Variable>): void {
    for (const [n, v] of this.net.params) vars.set(`encoder_k.${n}`, v);
    for (const [n, v] of this.net.buffers) vars.set(`encoder_k.${n}`, v);
    vars.set('queue', this.queue.keys);
    vars.set('queue_labels', this.queue.labels);
  }

  hostState(): { queuePtr: number } {
    return { queuePtr: this.queue.ptr };
  }

  /** Restores the queue pointer from a checkpoint's host state; the error names the method and the value. */
  loadHostState(method: string, host: Record<string, unknown>): void {
    const ptr = host.queuePtr;
    if (!(typeof ptr === 'number' && Number.isInteger(ptr) && ptr >= 0 && ptr < this.queue.K)) {
      throw new Error(`${method}.setState: host.queuePtr must be an integer in [0, ${this.queue.K}), got ${JSON.stringify(ptr)}`);
    }
    this.queue.ptr = ptr;
  }

  dispose(): void {
    this.net.dispose();
    this.queue.dispose();
  }
}

/** Shuffle-then-forward of the key encoder as the CIFAR demo's _batch_shuffle_single_gpu: returns keys in the original order. */
export function shuffledForward(x: tf.Tensor4D, perm: Int32Array, forward: (x: tf.Tensor4D) => tf.Tensor2D): tf.Tensor2D {
  const inv = new Int32Array(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return tf.tidy(() => tf.gather(forward(tf.gather(x, tf.tensor1d(perm, 'int32'))), tf.tensor1d(inv, 'int32')));
}
