/**
 * The key path that MoCo-style methods (MoCo, MoCHi, MixCo on MoCo) keep beside the query encoder:
 * how it appears in a checkpoint. Names follow the reference state_dict (`encoder_k.*`, `queue`).
 */
import type * as tf from '@tensorflow/tfjs';
import type { Network } from '../models/network';
import type { KeyQueue } from '../models/queue';

/** Adds the momentum encoder's params and BN buffers and the key/label queues to `vars`. */
export function addKeyPathVariables(vars: Map<string, tf.Variable>, keyNet: Network, queue: KeyQueue): void {
  for (const [n, v] of keyNet.params) vars.set(`encoder_k.${n}`, v);
  for (const [n, v] of keyNet.buffers) vars.set(`encoder_k.${n}`, v);
  vars.set('queue', queue.keys);
  vars.set('queue_labels', queue.labels);
}

/** Restores the queue pointer from a checkpoint's host state; the error names the method and the value. */
export function restoreQueuePtr(method: string, queue: KeyQueue, host: Record<string, unknown>): void {
  const ptr = host.queuePtr;
  if (!(typeof ptr === 'number' && Number.isInteger(ptr) && ptr >= 0 && ptr < queue.K)) {
    throw new Error(`${method}.setState: host.queuePtr must be an integer in [0, ${queue.K}), got ${JSON.stringify(ptr)}`);
  }
  queue.ptr = ptr;
}
