/**
 * MoCHi hard negative mixing (Kalantidis et al. 2020; docs/references.md#mochi), per query q (detached):
 *   Q_N   = the N queue keys with the largest q . n (after any class-oracle masking)
 *   h_t   = l2n(alpha n_i + (1 - alpha) n_j),   n_i, n_j ~ Q_N,  alpha ~ U(0, 1)     t = 1..s
 *   h'_t  = l2n(beta q + (1 - beta) n_j),        n_j ~ Q_N,       beta ~ U(0, 0.5)   t = 1..s'
 * Indices are drawn uniformly with replacement (davidsvy's implementation; i = j is possible).
 * The synthetic points are built from detached inputs only, so they are constants: the loss's
 * gradient reaches q only through q . h. They are never enqueued.
 * Logits then are [q.k, q.queue, q.h, q.h'] / T  [B, 1 + K + s + s'].
 */
import * as tf from '@tensorflow/tfjs';
import { l2Normalize } from '../../ops/normalize';
import type { MocoLogits } from './info-nce';
import { detachedMany } from './stop-gradient';

/** Random choices of one step: indices into each query's top-N list and the mixing coefficients. */
export interface MochiDraws {
  /** [B, s] int32 in [0, N) */
  i: tf.Tensor2D;
  j: tf.Tensor2D;
  /** [B, s] in [0, 1) */
  alpha: tf.Tensor2D;
  /** [B, s'] int32 in [0, N) */
  jPrime: tf.Tensor2D;
  /** [B, s'] in [0, 0.5) */
  beta: tf.Tensor2D;
}

export function drawMochi(B: number, N: number, s: number, sPrime: number, seed: number): MochiDraws {
  const idx = (shape: [number, number], sd: number) =>
    tf.tidy(
      () =>
        tf
          .randomUniform(shape, 0, 1, 'float32', sd)
          .mul(N)
          .floor()
          .clipByValue(0, N - 1)
          .toInt() as tf.Tensor2D,
    );
  return {
    i: idx([B, s], seed),
    j: idx([B, s], seed + 1),
    alpha: tf.randomUniform([B, s], 0, 1, 'float32', seed + 2) as tf.Tensor2D,
    jPrime: idx([B, sPrime], seed + 3),
    beta: tf.randomUniform([B, sPrime], 0, 0.5, 'float32', seed + 4) as tf.Tensor2D,
  };
}

export function disposeDraws(d: MochiDraws): void {
  tf.dispose([d.i, d.j, d.alpha, d.jPrime, d.beta]);
}

/**
 * Synthetic hard negatives [B, s + s', D] (h first, then h').
 * qDet [B, D] detached normalised queries; lNegDet [B, K] detached (masked) similarities to the
 * queue; queue [K, D]; returns also hardIdx [B, N] (queue rows of each query's top N) and
 * hardSim [B, N] (their similarities).
 */
export function mochiHardNegatives(
  qDet: tf.Tensor2D,
  lNegDet: tf.Tensor2D,
  queue: tf.Tensor2D,
  N: number,
  draws: MochiDraws,
): { negatives: tf.Tensor3D; hardIdx: tf.Tensor2D; hardSim: tf.Tensor2D } {
  const [B, K] = lNegDet.shape;
  const D = queue.shape[1];
  if (!(Number.isInteger(N) && N >= 1 && N <= K)) throw new Error(`MoCHi: N must be an integer in [1, K = ${K}], got ${N}`);
  const s = draws.i.shape[1];
  const sP = draws.jPrime.shape[1];
  return tf.tidy(() => {
    const { values: hardSim, indices: hardIdx } = tf.topk(lNegDet, N, true); // [B, N]
    const flatIdx = hardIdx.reshape([-1]);
    const rowBase = tf.range(0, B, 1, 'int32').mul(tf.scalar(N, 'int32')).reshape([B, 1]);
    /** Queue rows picked by per-query positions pos [B, t] in the top-N list -> [B, t, D]. */
    const pick = (pos: tf.Tensor2D, t: number) => tf.gather(queue, tf.gather(flatIdx, pos.add(rowBase).reshape([-1]))).reshape([B, t, D]);
    const parts: tf.Tensor3D[] = [];
    if (s > 0) {
      const a = draws.alpha.reshape([B, s, 1]);
      parts.push(
        l2Normalize(
          pick(draws.i, s)
            .mul(a)
            .add(pick(draws.j, s).mul(tf.scalar(1).sub(a))),
          -1,
        ) as tf.Tensor3D,
      );
    }
    if (sP > 0) {
      const b = draws.beta.reshape([B, sP, 1]);
      parts.push(
        l2Normalize(
          qDet
            .reshape([B, 1, D])
            .mul(b)
            .add(pick(draws.jPrime, sP).mul(tf.scalar(1).sub(b))),
          -1,
        ) as tf.Tensor3D,
      );
    }
    const negatives = (parts.length ? tf.concat(parts, 1) : tf.zeros([B, 0, D])) as tf.Tensor3D;
    return { negatives, hardIdx: hardIdx as tf.Tensor2D, hardSim: hardSim as tf.Tensor2D };
  });
}

/** Per-query logits against per-query negatives: q [B, D], negatives [B, S, D] -> [B, S] (q . h). */
export function perQueryLogits(q: tf.Tensor2D, negatives: tf.Tensor3D): tf.Tensor2D {
  const [B, S] = negatives.shape;
  return tf.tidy(() => tf.matMul(q.reshape([B, 1, -1]), negatives, false, true).reshape([B, S]) as tf.Tensor2D);
}

export interface MochiLogits {
  /** [B, 1 + K + s + s'] = [q.k, q.queue (masked), q.h, q.h'] / T */
  logits: tf.Tensor2D;
  /** [B, s + s'] synthetic similarities q.h (not divided by T) */
  lSyn: tf.Tensor2D;
  /** [B, N] similarities of each query's N hardest queue negatives (after masking) */
  hardSim: tf.Tensor2D;
}

/**
 * MoCHi logits for queries q [B, D] (carrying gradient) from the MoCo logits of the same queries
 * (`mocoLogits(q, k, queue, T, mask)`), queue [K, D]: the synthetic negatives are built by
 * mochiHardNegatives from the detached q and masked similarities, so they are constants, and the
 * top-N is taken once for both the negatives and the hardSim statistic.
 */
export function mochiLogits(q: tf.Tensor2D, moco: MocoLogits, queue: tf.Tensor2D, N: number, T: number, draws: MochiDraws): MochiLogits {
  return tf.tidy(() => {
    const [negatives, hardSim] = detachedMany(
      (qd, ln, qu) => {
        const h = mochiHardNegatives(qd as tf.Tensor2D, ln as tf.Tensor2D, qu as tf.Tensor2D, N, draws);
        return [h.negatives, h.hardSim];
      },
      q,
      moco.lNegUsed,
      queue,
    ) as [tf.Tensor3D, tf.Tensor2D];
    const lSyn = perQueryLogits(q, negatives); // [B, s + s'], gradient to q only
    const logits = tf.concat([moco.logits, lSyn.div(T)], 1) as tf.Tensor2D;
    return { logits, lSyn, hardSim };
  });
}
