/**
 * MoCo's dictionary: a ring buffer of K L2-normalised keys (and their class labels, for the
 * MoCHi class oracle), enqueued after the loss (moco/builder.py _dequeue_and_enqueue).
 * keys: tf.Variable [K, dim]; labels: tf.Variable int32 [K] (-1 = no label yet); ptr on the host.
 * Unlike the reference (which asserts K % batch == 0) a batch that runs past the end wraps around
 * to the start; a batch larger than K keeps its last K keys.
 */
import * as tf from '@tensorflow/tfjs';
import { l2Normalize } from '../ops/normalize';

export class KeyQueue {
  readonly keys: tf.Variable;
  readonly labels: tf.Variable;
  ptr = 0;

  /** Random normalised init: randn(dim, K) normalised per key, as the reference. */
  constructor(
    readonly K: number,
    readonly dim: number,
    seed: number,
  ) {
    if (!(Number.isInteger(K) && K >= 1)) throw new Error(`KeyQueue: K must be a positive integer, got ${K}`);
    if (!(Number.isInteger(dim) && dim >= 1)) throw new Error(`KeyQueue: dim must be a positive integer, got ${dim}`);
    this.keys = tf.tidy(() => tf.variable(l2Normalize(tf.randomNormal([K, dim], 0, 1, 'float32', seed)), false, `cwb/queue.keys/${queueCounter++}`));
    this.labels = tf.tidy(() => tf.variable(tf.fill([K], -1, 'int32'), false, `cwb/queue.labels/${queueCounter++}`));
  }

  /**
   * Writes keys [B, dim] (and labels [B]) at ptr, ptr+1, ... (mod K) and advances ptr by B (mod K).
   * One gather over concat(queue, new keys), so the update is a single op whatever the wrap-around.
   */
  enqueue(k: tf.Tensor2D, labels?: tf.Tensor1D): void {
    const B = k.shape[0];
    if (k.rank !== 2 || k.shape[1] !== this.dim) throw new Error(`KeyQueue.enqueue: keys must be [B, ${this.dim}], got ${JSON.stringify(k.shape)}`);
    if (labels && (labels.rank !== 1 || labels.shape[0] !== B)) {
      throw new Error(`KeyQueue.enqueue: labels must be [${B}], got ${JSON.stringify(labels.shape)}`);
    }
    const src = new Int32Array(this.K);
    for (let j = 0; j < this.K; j++) src[j] = j;
    for (let i = Math.max(0, B - this.K); i < B; i++) src[(this.ptr + i) % this.K] = this.K + i;
    tf.tidy(() => {
      const idx = tf.tensor1d(src, 'int32');
      this.keys.assign(tf.gather(tf.concat([this.keys, k], 0), idx));
      const l = labels ? labels.toInt() : tf.fill([B], -1, 'int32');
      this.labels.assign(tf.gather(tf.concat([this.labels, l], 0), idx));
    });
    this.ptr = (this.ptr + B) % this.K;
  }

  dispose(): void {
    this.keys.dispose();
    this.labels.dispose();
  }
}

let queueCounter = 0;
