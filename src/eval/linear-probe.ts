/**
 * Linear probe on frozen features: a single Linear layer (W [D, C], b [C]) trained with softmax
 * cross-entropy and SGD with momentum, PyTorch semantics (v = mu * v + g + wd * w; w -= lr * v).
 *
 * Protocols (docs/references.md#linear-probe):
 * - 'moco'   MoCo main_lincls: lr 30, momentum 0.9, wd 0, batch 256, 100 epochs, lr x0.1 at 60 and 80,
 *            W ~ N(0, 0.01), b = 0, raw (un-normalised) backbone features.
 * - 'supcon' SupContrast main_linear: lr 0.1, momentum 0.9, wd 0, batch 256, 100 epochs,
 *            lr x0.2 at 60, 75, 90.
 * - 'fast'   our small-budget variant: standardised cached features (per-dimension mean/std of the
 *            train features), lr 0.1, momentum 0.9, wd 5e-4, batch 256, 30 epochs, cosine.
 *
 * This file trains on feature tensors (the cached variant); `probe.ts` feeds it from a model,
 * either extracting features once or re-extracting augmented features every epoch.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, tfSeedOf } from '../util/rng';

export type LinearProtocol = 'moco' | 'supcon' | 'fast';

export interface LinearProbeConfig {
  protocol: LinearProtocol;
  epochs?: number;
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  batchSize?: number;
  /** Epochs at which lr is multiplied by gamma (ignored when cosine). */
  milestones?: number[];
  gamma?: number;
  cosine?: boolean;
  /** Standardise features with the train mean/std before the head. */
  standardize?: boolean;
  /** Extract features once with the test transform (true) or augmented every epoch (false). */
  cache?: boolean;
  seed?: number;
}

export type ResolvedLinearConfig = Required<LinearProbeConfig>;

const PROTOCOLS: Record<LinearProtocol, Omit<ResolvedLinearConfig, 'protocol'>> = {
  moco: {
    epochs: 100,
    lr: 30,
    momentum: 0.9,
    weightDecay: 0,
    batchSize: 256,
    milestones: [60, 80],
    gamma: 0.1,
    cosine: false,
    standardize: false,
    cache: false,
    seed: 0,
  },
  supcon: {
    epochs: 100,
    lr: 0.1,
    momentum: 0.9,
    weightDecay: 0,
    batchSize: 256,
    milestones: [60, 75, 90],
    gamma: 0.2,
    cosine: false,
    standardize: false,
    cache: false,
    seed: 0,
  },
  fast: {
    epochs: 30,
    lr: 0.1,
    momentum: 0.9,
    weightDecay: 5e-4,
    batchSize: 256,
    milestones: [],
    gamma: 0.1,
    cosine: true,
    standardize: true,
    cache: true,
    seed: 0,
  },
};

/** The protocol's defaults with the given overrides applied. */
export function resolveLinearConfig(cfg: LinearProbeConfig): ResolvedLinearConfig {
  const base = PROTOCOLS[cfg.protocol];
  if (!base) throw new Error(`linear.protocol must be one of ${Object.keys(PROTOCOLS).join(', ')}, got ${JSON.stringify(cfg.protocol)}`);
  const out = { ...base, protocol: cfg.protocol } as ResolvedLinearConfig;
  for (const [k, v] of Object.entries(cfg)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

/** Learning rate of the probe at an epoch (step decay at milestones, or cosine to 0). */
export function linearLrAt(cfg: ResolvedLinearConfig, epoch: number): number {
  if (cfg.cosine) return cfg.lr * 0.5 * (1 + Math.cos((Math.PI * epoch) / cfg.epochs));
  let lr = cfg.lr;
  for (const m of cfg.milestones) if (epoch >= m) lr *= cfg.gamma;
  return lr;
}

/** Per-dimension standardisation fitted on train features. */
export interface Standardizer {
  mean: tf.Tensor1D;
  std: tf.Tensor1D;
}

export function fitStandardizer(x: tf.Tensor2D): Standardizer {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, 0);
    return { mean: mean as tf.Tensor1D, std: tf.sqrt(tf.add(variance, 1e-6)) as tf.Tensor1D };
  });
}

/** A linear softmax classifier with its own SGD-momentum state. */
export class LinearHead {
  readonly W: tf.Variable; // [D, C]
  readonly b: tf.Variable; // [C]
  private vW: tf.Variable;
  private vb: tf.Variable;
  standardizer?: Standardizer;

  constructor(
    readonly dim: number,
    readonly numClasses: number,
    seed: number,
  ) {
    // MoCo: fc.weight ~ N(0, 0.01), fc.bias = 0.
    // Created inside tidy so the initial-value tensors are released (variables survive tidy).
    this.W = tf.tidy(() => tf.variable(tf.randomNormal([dim, numClasses], 0, 0.01, 'float32', tfSeedOf(seed))));
    this.b = tf.tidy(() => tf.variable(tf.zeros([numClasses])));
    this.vW = tf.tidy(() => tf.variable(tf.zeros([dim, numClasses])));
    this.vb = tf.tidy(() => tf.variable(tf.zeros([numClasses])));
  }

  private prep(x: tf.Tensor2D): tf.Tensor2D {
    const s = this.standardizer;
    return s ? (tf.div(tf.sub(x, s.mean), s.std) as tf.Tensor2D) : x;
  }

  /** Logits [B, C] (caller owns). */
  logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.matMul(this.prep(x), this.W), this.b) as tf.Tensor2D);
  }

  /** One SGD step on a batch x [B, D], y [B] int32; returns the loss tensor (caller owns). */
  step(x: tf.Tensor2D, y: tf.Tensor1D, lr: number, momentum: number, weightDecay: number): tf.Scalar {
    return tf.tidy(() => {
      const xs = this.prep(x);
      const onehot = tf.oneHot(y.toInt(), this.numClasses).toFloat(); // [B, C]
      const { value, grads } = tf.variableGrads(() => {
        const logits = tf.add(tf.matMul(xs, this.W), this.b); // [B, C]
        return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
      }, [this.W, this.b]);
      const update = (w: tf.Variable, v: tf.Variable, g: tf.Tensor) => {
        const gwd = weightDecay ? tf.add(g, tf.mul(w, weightDecay)) : g;
        v.assign(tf.add(tf.mul(v, momentum), gwd));
        w.assign(tf.sub(w, tf.mul(v, lr)));
      };
      update(this.W, this.vW, grads[this.W.name]);
      update(this.b, this.vb, grads[this.b.name]);
      return value;
    });
  }

  /** Predicted classes for features x [N, D], in batches. */
  async predict(x: tf.Tensor2D, batchSize = 1024): Promise<Int32Array> {
    const n = x.shape[0];
    const out = new Int32Array(n);
    for (let s = 0; s < n; s += batchSize) {
      const size = Math.min(batchSize, n - s);
      const p = tf.tidy(() => tf.argMax(this.logits(tf.slice(x, [s, 0], [size, -1]) as tf.Tensor2D), 1));
      out.set((await p.data()) as Int32Array, s);
      p.dispose();
    }
    return out;
  }

  dispose(): void {
    for (const t of [this.W, this.b, this.vW, this.vb]) t.dispose();
    if (this.standardizer) {
      this.standardizer.mean.dispose();
      this.standardizer.std.dispose();
    }
  }
}

export interface LinearProbeResult {
  /** Test top-1 accuracy in [0, 1]. */
  accuracy: number;
  /** Accuracy on the training features after the last epoch. */
  trainAccuracy: number;
  predictions: Int32Array;
  /** Mean training loss of each epoch. */
  losses: number[];
  config: ResolvedLinearConfig;
}

export function accuracyOf(pred: Int32Array, labels: Int32Array): number {
  if (pred.length !== labels.length) throw new Error(`accuracy: ${pred.length} predictions but ${labels.length} labels`);
  let c = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) c++;
  return pred.length ? c / pred.length : 0;
}

/**
 * Train a linear head on cached features xTrain [N, D] / yTrain [N] and report test accuracy on
 * xTest [M, D] / yTest [M]. Shuffling is seeded (cfg.seed).
 */
export async function linearProbeOnFeatures(
  xTrain: tf.Tensor2D,
  yTrain: Int32Array,
  xTest: tf.Tensor2D,
  yTest: Int32Array,
  numClasses: number,
  config: LinearProbeConfig,
): Promise<LinearProbeResult> {
  const cfg = resolveLinearConfig(config);
  const n = xTrain.shape[0];
  if (yTrain.length !== n) throw new Error(`linear probe: ${n} train features but ${yTrain.length} labels`);
  if (xTest.shape[1] !== xTrain.shape[1]) {
    throw new Error(`linear probe: train features have dimension ${xTrain.shape[1]}, test features ${xTest.shape[1]}`);
  }
  const head = new LinearHead(xTrain.shape[1], numClasses, cfg.seed);
  if (cfg.standardize) head.standardizer = fitStandardizer(xTrain);
  const rng = new Rng(cfg.seed);
  const yAll = tf.tensor1d(yTrain, 'int32');
  const losses: number[] = [];
  try {
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      const lr = linearLrAt(cfg, epoch);
      const perm = tf.tensor1d(rng.permutation(n), 'int32');
      let sum = tf.scalar(0);
      let steps = 0;
      for (let s = 0; s < n; s += cfg.batchSize) {
        const size = Math.min(cfg.batchSize, n - s);
        const loss = tf.tidy(() => {
          const idx = tf.slice(perm, [s], [size]);
          return head.step(tf.gather(xTrain, idx) as tf.Tensor2D, tf.gather(yAll, idx) as tf.Tensor1D, lr, cfg.momentum, cfg.weightDecay);
        });
        const next = tf.add(sum, loss) as tf.Scalar;
        sum.dispose();
        loss.dispose();
        sum = next;
        steps++;
      }
      losses.push(((await sum.data())[0] as number) / Math.max(1, steps));
      sum.dispose();
      perm.dispose();
      await new Promise((r) => setImmediate(r));
    }
    const predictions = await head.predict(xTest);
    const trainPred = await head.predict(xTrain);
    return { accuracy: accuracyOf(predictions, yTest), trainAccuracy: accuracyOf(trainPred, yTrain), predictions, losses, config: cfg };
  } finally {
    yAll.dispose();
    head.dispose();
  }
}
