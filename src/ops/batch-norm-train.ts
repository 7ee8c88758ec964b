/**
 * Training-mode BatchNorm (optionally followed by ReLU) as one op with a hand-written gradient.
 *
 * Written with plain tf ops, BN + ReLU keeps about five full-size tensors per layer on the
 * gradient tape (x - mean, its product with rstd, the gamma product, the beta sum, the ReLU) and
 * runs a long chain of broadcast gradients; a ResNet-18 step at batch 256 then needs more than the
 * 4 GB a wasm heap can hold. This op saves only its input x and output y, and computes
 *   xhat = (x - mean) * rstd,   y = act(gamma * xhat + beta)
 *   d = dy * act'(y),  dbeta = sum d,  dgamma = sum d * xhat,
 *   dx = gamma * rstd * (d - mean(d) - xhat * mean(d * xhat))
 * with mean/var/sums per channel over batch and space, per split when `splits` > 1 (split / ghost
 * BN: sample n is in split n mod S, as the MoCo CIFAR demo's SplitBatchNorm). Biased variance.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Per-split, per-channel sums of t [A, S, P, C] over axes 0 and 2 -> [1, S, 1, C], as products with
 * a ones vector: a wasm Sum/Mean over non-innermost axes first transposes the whole tensor.
 */
function channelSums(t: tf.Tensor): tf.Tensor {
  const [A, S, P, C] = t.shape;
  if (S === 1) return tf.matMul(tf.ones([1, A * P]), t.reshape([A * P, C])).reshape([1, 1, 1, C]);
  const overA = A === 1 ? t.reshape([S, P, C]) : tf.matMul(tf.ones([1, A]), t.reshape([A, S * P * C])).reshape([S, P, C]);
  return tf.matMul(tf.ones([S, 1, P]), overA).reshape([1, S, 1, C]);
}

export interface BatchNormTrainOptions {
  /** Default 1e-5 (PyTorch). */
  eps?: number;
  /** Split BN: statistics per sub-batch, sample n in split n mod splits. Default 1. */
  splits?: number;
  /** Apply ReLU after the affine transform (its gradient is fused too). */
  relu?: boolean;
}

export interface BatchNormTrainResult {
  /** [N, H, W, C]. */
  y: tf.Tensor4D;
  /** Batch mean and biased variance per split, [S, C] (constants: no gradient). */
  mean: tf.Tensor2D;
  variance: tf.Tensor2D;
}

/**
 * x [N, H, W, C], gamma [C], beta [C] -> y = act(BN(x)) and the batch statistics.
 * The caller owns all three results.
 */
export function batchNormTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, opts: BatchNormTrainOptions = {}): BatchNormTrainResult {
  const eps = opts.eps ?? 1e-5;
  const S = opts.splits ?? 1;
  const relu = opts.relu ?? false;
  const [N, H, W, C] = x.shape;
  if (x.rank !== 4) throw new Error(`batchNormTrain: x must be [N, H, W, C], got [${x.shape}]`);
  if (gamma.shape[0] !== C || beta.shape[0] !== C) {
    throw new Error(`batchNormTrain: gamma [${gamma.shape}] and beta [${beta.shape}] must be [${C}] for x [${x.shape}]`);
  }
  if (!Number.isInteger(S) || S < 1 || N % S !== 0) throw new Error(`batchNormTrain: batch ${N} is not a multiple of splits ${S}`);
  if ((N / S) * H * W < 2) throw new Error(`batchNormTrain: needs more than 1 value per channel and split (x [${x.shape}], splits ${S})`);
  const split = [N / S, S, H * W, C];
  let stats: [tf.Tensor2D, tf.Tensor2D] | undefined;
  // Is a gradient tape recording? (Then gradFunc runs once, later, and frees what it needs.)
  const recording = ((tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth ?? 0) > 0;

  const op = tf.customGrad(((xIn: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => {
    // tidy: ops inside a custom-gradient forward are tracked by the caller's scope, so without it
    // every intermediate would live until the whole gradient computation ends.
    const [y, mean, rstd, meanSC, varSC] = tf.tidy(() => {
      const xs = xIn.reshape(split);
      const count = (N / S) * H * W;
      const mean = channelSums(xs).div(count); // [1, S, 1, C]
      const centered = xs.sub(mean);
      const variance = channelSums(centered.square()).div(count); // biased, two-pass
      const r = tf.rsqrt(variance.add(eps));
      const affine = centered.mul(r.mul(g)).add(b).reshape([N, H, W, C]) as tf.Tensor4D;
      const m = { mean, variance };
      return [relu ? tf.relu(affine) : affine, m.mean, r, m.mean.reshape([S, C]), m.variance.reshape([S, C])];
    });
    stats = [tf.keep(meanSC) as tf.Tensor2D, tf.keep(varSC) as tf.Tensor2D];
    // The backward pass needs x, y, mean and rstd. `save` would copy x and y (the engine clones
    // saved tensors, and a wasm clone is a copy), so keep reshape views instead: they share the
    // data (reference-counted) and gradFunc frees them. Not recording: nothing to keep.
    const kept: tf.Tensor[] = [];
    if (recording) kept.push(tf.keep(xIn.reshape(split)), tf.keep(y.reshape(y.shape)), tf.keep(mean), tf.keep(rstd));
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D) => {
        if (kept.length === 0) throw new Error('batchNormTrain: gradient requested for a forward run with no gradient tape recording');
        const [xs, yKept, meanKept, rstdKept] = kept;
        const grads = tf.tidy(() => {
          const d = (relu ? dy.mul(tf.step(yKept)) : dy).reshape(split);
          const xhat = xs.sub(meanKept).mul(rstdKept);
          const dXhat = d.mul(xhat);
          const count = (N / S) * H * W;
          const sumD = channelSums(d); // [1, S, 1, C]
          const sumDXhat = channelSums(dXhat);
          const dBeta = sumD.reshape([S, C]).sum(0);
          const dGamma = sumDXhat.reshape([S, C]).sum(0);
          const dx = d
            .sub(sumD.div(count))
            .sub(xhat.mul(sumDXhat.div(count)))
            .mul(rstdKept.mul(g))
            .reshape([N, H, W, C]);
          return [dx, dGamma, dBeta];
        });
        tf.dispose(kept);
        kept.length = 0;
        return grads;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);

  const y = op(x, gamma, beta) as tf.Tensor4D;
  const [mean, variance] = stats!;
  return { y, mean, variance };
}
