/**
 * The momentum (key) encoder of MoCo: an EMA of the query network's parameters,
 *   theta_k <- m * theta_k + (1 - m) * theta_q      (moco/builder.py _momentum_update_key_encoder)
 * over trainable parameters only; the key encoder's BN running statistics come from its own
 * training-mode forwards. Its variables are not trainable, so no gradient reaches them.
 */
import * as tf from '@tensorflow/tfjs';
import type { Network } from './network';

/** A non-trainable copy of `query` (parameters and BN buffers), as `param_k.data.copy_(param_q.data)`. */
export function createMomentumEncoder(query: Network): Network {
  return query.copy(false);
}

/** theta_k <- m * theta_k + (1 - m) * theta_q for every parameter. */
export function momentumUpdate(key: Network, query: Network, m: number): void {
  if (!(m >= 0 && m <= 1)) throw new Error(`momentumUpdate: m must be in [0, 1], got ${m}`);
  tf.tidy(() => {
    for (const [name, pk] of key.params) {
      const pq = query.params.get(name);
      if (!pq) throw new Error(`momentumUpdate: query network has no parameter '${name}'`);
      pk.assign(pk.mul(m).add(pq.mul(1 - m)));
    }
  });
}
