/**
 * Functional layers over named tf.Variables (PyTorch-style names such as `layer1.0.conv1.weight`).
 *
 * A `LayerOps` is handed to an architecture's forward function. In *build* mode (the first pass,
 * run once on a dummy input) each layer creates its parameters with torchvision's initialisation;
 * afterwards the same forward function only looks them up. So an architecture is written once, as
 * its forward pass, and parameter names and shapes follow from it.
 *
 * Layouts (TF.js): conv weight [kh, kw, inC, outC]; linear weight [in, out]; images NHWC.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormTrain } from '../ops/batch-norm-train';
import type { Rng } from '../util/rng';

export interface ForwardOptions {
  /** Training mode: BN uses batch statistics and updates its running statistics. */
  training: boolean;
  /**
   * Split (ghost) BN: in training mode, BN statistics are computed separately on `bnSplits`
   * sub-batches, as the MoCo CIFAR demo's `SplitBatchNorm` does to stand in for shuffle-BN across
   * 8 GPUs. Default 1. The batch size must be a multiple of it.
   */
  bnSplits?: number;
}

/** PyTorch BatchNorm defaults. */
export const BN_MOMENTUM = 0.1;
export const BN_EPS = 1e-5;

export class LayerOps {
  constructor(
    readonly params: Map<string, tf.Variable>,
    readonly buffers: Map<string, tf.Variable>,
    readonly opts: ForwardOptions,
    /** Present only in build mode: parameters are created (and drawn from this generator). */
    private readonly initRng?: Rng,
    private readonly trainable = true,
  ) {}

  private param(name: string, shape: number[], init: () => Float32Array): tf.Variable {
    let v = this.params.get(name);
    if (!v) {
      if (!this.initRng) throw new Error(`models/layers: parameter '${name}' does not exist (network not built with it)`);
      v = tf.variable(tf.tensor(init(), shape), this.trainable, uniqueName(name));
      this.params.set(name, v);
    }
    return v;
  }

  private buffer(name: string, shape: number[], fill: number): tf.Variable {
    let v = this.buffers.get(name);
    if (!v) {
      if (!this.initRng) throw new Error(`models/layers: buffer '${name}' does not exist (network not built with it)`);
      v = tf.variable(tf.fill(shape, fill), false, uniqueName(name));
      this.buffers.set(name, v);
    }
    return v;
  }

  private normal(n: number, std: number): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = this.initRng!.normal() * std;
    return a;
  }

  private uniform(n: number, bound: number): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = this.initRng!.uniform(-bound, bound);
    return a;
  }

  /**
   * Conv k x k, no bias, PyTorch padding `pad` (default k//2) on both sides.
   * Init: kaiming_normal_(mode='fan_out', nonlinearity='relu'), std = sqrt(2 / (k*k*outC)), as torchvision ResNet.
   * x [N, H, W, inC] -> [N, H', W', outC]
   */
  conv(name: string, x: tf.Tensor4D, outC: number, k: number, stride = 1, pad = Math.floor(k / 2)): tf.Tensor4D {
    const inC = x.shape[3];
    const w = this.param(`${name}.weight`, [k, k, inC, outC], () => this.normal(k * k * inC * outC, Math.sqrt(2 / (k * k * outC))));
    if (w.shape[2] !== inC) throw new Error(`models/layers: ${name} expects ${w.shape[2]} input channels, got ${inC}`);
    return conv2dSymmetric(x, w as tf.Tensor4D, stride, pad);
  }

  /**
   * BatchNorm2d (PyTorch semantics: eps 1e-5, momentum 0.1, running var unbiased), weight 1, bias 0.
   * Training with S = bnSplits > 1 follows the reference SplitBatchNorm exactly: PyTorch's
   * `input.view(-1, C*S, H, W)` puts sample n in split n % S, so the split of sample n is n mod S;
   * the running statistics are the mean over splits of each split's update.
   * `relu`: apply ReLU after BN; in training its gradient is fused into the BN op's.
   * x [N, H, W, C] -> [N, H, W, C]
   */
  bn(name: string, x: tf.Tensor4D, relu = false): tf.Tensor4D {
    const C = x.shape[3];
    const gamma = this.param(`${name}.weight`, [C], () => new Float32Array(C).fill(1));
    const beta = this.param(`${name}.bias`, [C], () => new Float32Array(C));
    const runMean = this.buffer(`${name}.running_mean`, [C], 0);
    const runVar = this.buffer(`${name}.running_var`, [C], 1);
    if (!this.opts.training) {
      return tf.tidy(() => {
        const y = x.sub(runMean).mul(runVar.add(BN_EPS).rsqrt().mul(gamma)).add(beta) as tf.Tensor4D;
        return relu ? y.relu() : y;
      });
    }
    const [N, H, W] = x.shape;
    const S = this.opts.bnSplits ?? 1;
    if (!Number.isInteger(S) || S < 1 || N % S !== 0) {
      throw new Error(`models/layers: ${name}: batch ${N} is not a multiple of bnSplits ${S}`);
    }
    const n = (N / S) * H * W;
    if (n < 2) throw new Error(`models/layers: ${name}: BN needs more than 1 value per channel in training (batch ${N}, bnSplits ${S}, ${H}x${W})`);
    // The fused op keeps x and y for the backward pass instead of the ~12 input-sized tensors of
    // the same BN written with plain ops: a ResNet-18 SupCon step at batch 256 on the tensorflow
    // backend peaked at 22.8 GB RSS with plain ops, and BN was ~35% of a ConvNet step.
    const out = batchNormTrain(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, { eps: BN_EPS, splits: S, relu });
    tf.tidy(() => {
      const m = out.mean.mean(0);
      const v = out.variance.mean(0).mul(n / (n - 1));
      runMean.assign(runMean.mul(1 - BN_MOMENTUM).add(m.mul(BN_MOMENTUM)));
      runVar.assign(runVar.mul(1 - BN_MOMENTUM).add(v.mul(BN_MOMENTUM)));
    });
    tf.dispose([out.mean, out.variance]);
    return out.y as tf.Tensor4D;
  }

  /**
   * Linear layer y = x W + b. Init as PyTorch nn.Linear: W, b ~ U(-1/sqrt(in), 1/sqrt(in)).
   * x [B, in] -> [B, out]
   */
  linear(name: string, x: tf.Tensor2D, out: number, bias = true): tf.Tensor2D {
    const inF = x.shape[1];
    const bound = 1 / Math.sqrt(inF);
    const w = this.param(`${name}.weight`, [inF, out], () => this.uniform(inF * out, bound));
    if (w.shape[0] !== inF) throw new Error(`models/layers: ${name} expects ${w.shape[0]} inputs, got ${inF}`);
    const y = tf.matMul(x, w as tf.Tensor2D) as tf.Tensor2D;
    if (!bias) return y;
    const b = this.param(`${name}.bias`, [out], () => this.uniform(out, bound));
    return y.add(b) as tf.Tensor2D;
  }
}

let nameCounter = 0;
/** TF.js variable names must be globally unique; the key in the params map keeps the readable name. */
function uniqueName(name: string): string {
  nameCounter += 1;
  return `cwb/${name}/${nameCounter}`;
}

/**
 * conv2d with PyTorch's symmetric zero padding `pad` on both sides, on every backend: the
 * `tensorflow` backend accepts only 'same'/'valid', so an explicit pad the others take directly
 * becomes a tf.pad + 'valid' there. Stride 1 with pad (k-1)/2 is exactly 'same'.
 */
export function conv2dSymmetric(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
  const k = w.shape[0];
  if (pad === 0) return tf.conv2d(x, w, stride, 'valid');
  if (stride === 1 && 2 * pad === k - 1 && w.shape[1] === k) return tf.conv2d(x, w, 1, 'same');
  if (tf.getBackend() === 'tensorflow') {
    return tf.conv2d(
      tf.pad(x, [
        [0, 0],
        [pad, pad],
        [pad, pad],
        [0, 0],
      ]),
      w,
      stride,
      'valid',
    );
  }
  return tf.conv2d(x, w, stride, pad);
}
