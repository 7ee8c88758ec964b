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
 *
 * On the `tensorflow` backend the same op runs TensorFlow's own FusedBatchNormV3 and its gradient
 * (one kernel each way instead of about fifteen element-wise ones), with the ReLU's gradient as
 * ReluGrad; splits become channels of a [N/S, H*W, 1, S*C] view, so one call covers every split.
 */
import * as tf from '@tensorflow/tfjs';
import { tensorflowNative, type TensorflowNative } from './tensorflow-native';

/**
 * Per-split, per-channel sums of t [A, S, H*W, C] (A*S = N, memory order of [N, H, W, C]) over axes
 * 0 and 2 -> [1, S, 1, C]. Computed as an H x W average pool (XNNPACK, one pass, ~5 ms for
 * [128, 32, 32, 64]) and a small sum over samples: a wasm Sum/Mean over outer axes first transposes
 * the whole tensor (~64 ms), and a ones-vector matMul repacks it as weights (~94 ms).
 */
function channelSums(t: tf.Tensor, H: number, W: number): tf.Tensor {
  const [A, S, , C] = t.shape;
  const pooled = tf.avgPool(t.reshape([A * S, H, W, C]) as tf.Tensor4D, [H, W], 1, 'valid'); // [N, 1, 1, C]
  return pooled
    .reshape([A, S, C])
    .sum(0)
    .mul(H * W)
    .reshape([1, S, 1, C]);
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
  const count = (N / S) * H * W; // values per channel and split
  // Is a gradient tape recording? (Then gradFunc runs once, later, and frees what it needs.)
  const recording = ((tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth ?? 0) > 0;
  const native = tensorflowNative();
  if (native) return nativeBatchNormTrain(native, x, gamma, beta, { eps, S, relu, recording });

  return batchNormOp(x, gamma, beta, (xIn, g, b) => {
    // tidy: ops inside a custom-gradient forward are tracked by the caller's scope, so without it
    // every intermediate would live until the whole gradient computation ends.
    const [y, mean, rstd, meanSC, varSC] = tf.tidy(() => {
      const xs = xIn.reshape(split);
      const mean = channelSums(xs, H, W).div(count); // [1, S, 1, C]
      const centered = xs.sub(mean);
      const variance = channelSums(centered.square(), H, W).div(count); // biased, two-pass
      const r = tf.rsqrt(variance.add(eps));
      const affine = centered.mul(r.mul(g)).add(b).reshape([N, H, W, C]) as tf.Tensor4D;
      return [relu ? tf.relu(affine) : affine, mean, r, mean.reshape([S, C]), variance.reshape([S, C])];
    });
    // The backward pass needs x, y, mean and rstd. `save` would copy x and y (the engine clones
    // saved tensors, and a wasm clone is a copy), so keep reshape views instead: they share the
    // data (reference-counted) and the gradient frees them. Not recording: nothing to keep.
    const kept = recording ? [tf.keep(xIn.reshape(split)), tf.keep(y.reshape(y.shape)), tf.keep(mean), tf.keep(rstd)] : [];
    return {
      y: y as tf.Tensor4D,
      mean: tf.keep(meanSC) as tf.Tensor2D,
      variance: tf.keep(varSC) as tf.Tensor2D,
      kept,
      grad: (dy, [xs, yKept, meanKept, rstdKept]) => {
        // ReLU mask: y >= 0 here, so sign(y) = step(y), one native op where tfjs-node's Step runs six.
        const d = (relu ? dy.mul(tf.sign(yKept)) : dy).reshape(split);
        const xhat = xs.sub(meanKept).mul(rstdKept);
        const dXhat = d.mul(xhat);
        const sumD = channelSums(d, H, W); // [1, S, 1, C]
        const sumDXhat = channelSums(dXhat, H, W);
        const dBeta = sumD.reshape([S, C]).sum(0);
        const dGamma = sumDXhat.reshape([S, C]).sum(0);
        const dx = d
          .sub(sumD.div(count))
          .sub(xhat.mul(sumDXhat.div(count)))
          .mul(rstdKept.mul(g))
          .reshape([N, H, W, C]);
        return [dx, dGamma, dBeta];
      },
    };
  });
}

/** What a BN forward hands to `batchNormOp`: y, the batch statistics (kept), and its gradient. */
interface BatchNormForward {
  y: tf.Tensor4D;
  mean: tf.Tensor2D;
  variance: tf.Tensor2D;
  /** Tensors the gradient reads (kept by the forward; freed once the gradient ran). Empty when no tape records. */
  kept: tf.Tensor[];
  /** [dx, dgamma, dbeta] from dy and the kept tensors (inside a tidy). */
  grad: (dy: tf.Tensor4D, kept: tf.Tensor[]) => tf.Tensor[];
}

/** A BN forward as one custom-gradient op of (x, gamma, beta), returning y with the statistics. */
function batchNormOp(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  forward: (x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => BatchNormForward,
): BatchNormTrainResult {
  let stats: [tf.Tensor2D, tf.Tensor2D] | undefined;
  const op = tf.customGrad(((xIn: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => {
    const f = forward(xIn, g, b);
    stats = [f.mean, f.variance];
    const kept = f.kept;
    return {
      value: f.y,
      gradFunc: (dy: tf.Tensor4D) => {
        if (kept.length === 0) throw new Error('batchNormTrain: gradient requested for a forward run with no gradient tape recording');
        const grads = tf.tidy(() => f.grad(dy, kept));
        tf.dispose(kept);
        kept.length = 0;
        return grads;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const y = op(x, gamma, beta) as tf.Tensor4D;
  const [mean, variance] = stats as [tf.Tensor2D, tf.Tensor2D];
  return { y, mean, variance };
}

/**
 * batchNormTrain on TensorFlow's fused kernels. Sample n = a * S + s of x [N, H, W, C] is split s;
 * in the view [A, H*W, 1, S*C] (A = N / S) split s, channel c is channel s * C + c, so the kernel's
 * per-channel statistics are the per-split ones.
 */
function nativeBatchNormTrain(
  native: TensorflowNative,
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  o: { eps: number; S: number; relu: boolean; recording: boolean },
): BatchNormTrainResult {
  const { eps, S, relu, recording } = o;
  const [N, H, W, C] = x.shape;
  const A = N / S;
  const count = A * H * W;
  // Always new tensors (a reshape shares the data): the ones kept for the gradient are freed by it,
  // never the caller's input or the returned output.
  const toSplitChannels = (t: tf.Tensor): tf.Tensor4D =>
    (S === 1
      ? t.reshape(t.shape)
      : t
          .reshape([A, S, H * W, C])
          .transpose([0, 2, 1, 3])
          .reshape([A, H * W, 1, S * C])) as tf.Tensor4D;
  const fromSplitChannels = (t: tf.Tensor): tf.Tensor4D =>
    (S === 1
      ? t.reshape(t.shape)
      : t
          .reshape([A, H * W, S, C])
          .transpose([0, 2, 1, 3])
          .reshape([N, H, W, C])) as tf.Tensor4D;
  const perSplit = (t: tf.Tensor1D): tf.Tensor1D => (S === 1 ? t : (tf.tile(t, [S]) as tf.Tensor1D));

  return batchNormOp(x, gamma, beta, (xIn, g, b) => {
    const kept: tf.Tensor[] = [];
    let mean: tf.Tensor2D | undefined;
    let variance: tf.Tensor2D | undefined;
    const y = tf.tidy(() => {
      // TensorFlow's CPU kernels lose precision when a channel's mean is large against its spread:
      // at mean 3 std 1, dx was 1e-1 (4 splits) and 9e-4 (1 split) from float64 where the plain-op
      // path gives 2e-7. BN is invariant to a constant shift per channel, so the kernels get the
      // input minus its batch mean (a constant: the gradient is unchanged) and the mean is added back.
      const raw = toSplitChannels(xIn);
      const shift = raw.mean([0, 1, 2]); // [S*C]
      const xs = raw.sub(shift) as tf.Tensor4D;
      const r = native.fusedBatchNorm(xs, perSplit(g), perSplit(b), eps);
      // The kernel reports the unbiased variance; this op's contract is the biased one.
      mean = tf.keep(r.mean.add(shift).reshape([S, C])) as tf.Tensor2D;
      variance = tf.keep(r.unbiasedVariance.mul((count - 1) / count).reshape([S, C])) as tf.Tensor2D;
      const out = relu ? tf.relu(r.y) : r.y;
      if (recording) kept.push(tf.keep(xs), tf.keep(out), ...r.reserve.map((t) => tf.keep(t)));
      return fromSplitChannels(out);
    });
    return {
      y,
      mean: mean as tf.Tensor2D,
      variance: variance as tf.Tensor2D,
      kept,
      grad: (dy, [xs, yKept, ...reserve]) => {
        const dys = toSplitChannels(dy);
        const d = relu ? native.reluGrad(dys, yKept) : dys;
        const [dx, dScale, dOffset] = native.fusedBatchNormGrad(d as tf.Tensor4D, xs as tf.Tensor4D, perSplit(g), reserve, eps);
        const sumSplits = (t: tf.Tensor1D) => (S === 1 ? t : t.reshape([S, C]).sum(0));
        return [fromSplitChannels(dx), sumSplits(dScale), sumSplits(dOffset)];
      },
    };
  });
}
