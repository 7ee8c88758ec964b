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
      const m = tf.moments(xs, [0, 2], true); // [1, S, 1, C]
      const r = tf.rsqrt(m.variance.add(eps));
      const affine = xs.sub(m.mean).mul(r.mul(g)).add(b).reshape([N, H, W, C]) as tf.Tensor4D;
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
          const dBeta = d.sum([0, 1, 2]);
          const dGamma = dXhat.sum([0, 1, 2]);
          const dx = d
            .sub(d.mean([0, 2], true))
            .sub(xhat.mul(dXhat.mean([0, 2], true)))
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
