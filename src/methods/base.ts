/**
 * What every method shares: the query network and its optimiser, the step RNG, epoch and learning
 * rate, eval-mode features, the gradient step with one read-back of loss and metrics, and
 * checkpoint state over a registry of named variables.
 */
import * as tf from '@tensorflow/tfjs';
import { createEncoder, type HeadConfig } from '../models/encoder';
import type { Network } from '../models/network';
import { l2Normalize } from '../ops/normalize';
import { createOptimizer } from '../optim/factory';
import type { Optimizer, OptimizerState } from '../optim/optimizer';
import type { Batch, EncoderConfig, Method, MethodConfig, MethodName, MethodState, OptimizerConfig, StepResult } from '../types';
import { Rng, type RngState } from '../util/rng';

export interface DataShape {
  imageSize: [number, number];
  channels: number;
  numClasses: number;
}

export interface MethodInit {
  encoder: EncoderConfig;
  optimizer: OptimizerConfig;
  data: DataShape;
  seed: number;
}

export type StepOutputs = { loss: tf.Scalar; metrics: Record<string, tf.Scalar> };
/** A step's loss and metrics on the device: values = [loss, ...metrics in the order of names]. */
export type PendingStep = { values: tf.Tensor1D; names: string[] };

/** The projection head of a contrastive method: MoCo v2's 2-layer MLP or v1's linear fc, to dim. */
export function projectionHead(c: { mlp: boolean; dim: number }): HeadConfig {
  return c.mlp ? { kind: 'mlp', dim: c.dim } : { kind: 'linear', dim: c.dim };
}

export abstract class MethodBase implements Method {
  abstract readonly name: MethodName;
  abstract readonly viewsPerImage: number;
  readonly net: Network;
  readonly optimizer: Optimizer;
  /** Step-time randomness (shuffles, mixing); its state is checkpointed. */
  protected readonly rng: Rng;
  protected epoch = 0;
  protected lr: number;
  private readonly tfNameToParam = new Map<string, string>();

  constructor(
    readonly config: MethodConfig,
    protected readonly init: MethodInit,
    head: HeadConfig,
  ) {
    this.rng = new Rng(init.seed);
    this.net = createEncoder(init.encoder, init.data, head, this.rng.fork());
    this.optimizer = createOptimizer(init.optimizer, this.net.params);
    this.lr = init.optimizer.lr;
    for (const [name, v] of this.net.params) this.tfNameToParam.set(v.name, name);
  }

  /**
   * One optimiser step on one batch, its loss and metrics still on the device (see `optimise`).
   * Each method implements it; `trainStep` runs it and reads the result back.
   */
  protected abstract step(batch: Batch): PendingStep;

  /** One optimiser step; the loss and metrics are read back once, asynchronously. */
  async trainStep(batch: Batch): Promise<StepResult> {
    const { values, names } = this.step(batch);
    try {
      const vals = await values.data();
      const metrics: Record<string, number> = {};
      names.forEach((n, i) => {
        metrics[n] = vals[i + 1];
      });
      return { loss: vals[0], metrics };
    } finally {
      values.dispose();
    }
  }

  setEpoch(epoch: number): void {
    if (!(Number.isInteger(epoch) && epoch >= 0)) throw new Error(`${this.name}.setEpoch: epoch must be an integer >= 0, got ${epoch}`);
    this.epoch = epoch;
  }

  setLearningRate(lr: number): void {
    if (!(lr >= 0)) throw new Error(`${this.name}.setLearningRate: lr must be >= 0, got ${lr}`);
    this.lr = lr;
  }

  get learningRate(): number {
    return this.lr;
  }

  features(x: tf.Tensor4D, which: 'backbone' | 'projection'): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.net.forward(x, { training: false });
      return which === 'backbone' ? h : l2Normalize(this.net.project(h));
    });
  }

  /** Checks the batch carries the views this method needs, all [B, H, W, C] alike. */
  protected checkBatch(batch: Batch): number {
    if (batch.views.length < this.viewsPerImage) {
      throw new Error(`${this.name}.trainStep: batch has ${batch.views.length} views, the method needs ${this.viewsPerImage}`);
    }
    const s0 = batch.views[0].shape;
    for (let v = 0; v < this.viewsPerImage; v++) {
      if (!tf.util.arraysEqual(batch.views[v].shape, s0)) {
        throw new Error(`${this.name}.trainStep: views[${v}] has shape ${JSON.stringify(batch.views[v].shape)}, views[0] ${JSON.stringify(s0)}`);
      }
    }
    if (batch.labels.shape[0] !== s0[0]) {
      throw new Error(`${this.name}.trainStep: labels [${batch.labels.shape[0]}] do not match batch ${s0[0]}`);
    }
    return s0[0];
  }

  /**
   * One optimiser step: differentiates `f` (which returns the loss and metric scalars) with respect
   * to the query network's parameters and applies the optimiser. Returns the loss and metrics
   * stacked into one tensor [1 + metrics], which `trainStep` reads back in one go.
   */
  protected optimise(f: () => StepOutputs): PendingStep {
    const names: string[] = [];
    const kept: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const out = f();
      for (const [n, t] of Object.entries(out.metrics)) {
        names.push(n);
        kept.push(tf.keep(t));
      }
      return out.loss;
    }, [...this.net.params.values()]);
    const byName: Record<string, tf.Tensor> = {};
    for (const [tfName, g] of Object.entries(grads)) {
      const name = this.tfNameToParam.get(tfName);
      if (name) byName[name] = g;
    }
    this.optimizer.step(byName, this.lr);
    tf.dispose(grads);
    const values = tf.tidy(() => tf.stack([value, ...kept].map((t) => t.reshape([]))) as tf.Tensor1D);
    tf.dispose([value, ...kept]);
    return { values, names };
  }

  /** Every variable that makes the state, by checkpoint name. Subclasses add theirs. */
  protected stateVariables(): Map<string, tf.Variable> {
    const m = new Map<string, tf.Variable>();
    for (const [n, v] of this.net.params) m.set(`encoder_q.${n}`, v);
    for (const [n, v] of this.net.buffers) m.set(`encoder_q.${n}`, v);
    return m;
  }

  /** Host-side state beyond epoch, lr, rng and the optimiser's step count. */
  protected extraHostState(): Record<string, unknown> {
    return {};
  }

  protected loadExtraHostState(_host: Record<string, unknown>): void {}

  /** Copies of every tensor (the caller owns and disposes them) and the host state as JSON. */
  getState(): MethodState {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [n, v] of this.stateVariables()) tensors[n] = v.clone();
    const opt = this.optimizer.getState();
    for (const [n, t] of Object.entries(opt.tensors)) tensors[`optimizer.${n}`] = t;
    return {
      tensors,
      host: { method: this.name, epoch: this.epoch, lr: this.lr, rng: this.rng.getState(), optimizer: opt.host, ...this.extraHostState() },
    };
  }

  setState(state: MethodState): void {
    const host = state.host;
    if (host.method !== this.name) throw new Error(`${this.name}.setState: state is of method '${String(host.method)}'`);
    const vars = this.stateVariables();
    for (const [n, v] of vars) {
      const t = state.tensors[n];
      if (!t) throw new Error(`${this.name}.setState: missing tensor '${n}'`);
      if (!tf.util.arraysEqual(t.shape, v.shape) || t.dtype !== v.dtype) {
        throw new Error(`${this.name}.setState: '${n}' is ${t.dtype}${JSON.stringify(t.shape)}, expected ${v.dtype}${JSON.stringify(v.shape)}`);
      }
    }
    for (const [n, v] of vars) v.assign(state.tensors[n]);
    const optTensors: Record<string, tf.Tensor> = {};
    for (const [n, t] of Object.entries(state.tensors)) if (n.startsWith('optimizer.')) optTensors[n.slice('optimizer.'.length)] = t;
    this.optimizer.setState({ tensors: optTensors, host: host.optimizer as OptimizerState['host'] });
    this.epoch = host.epoch as number;
    this.lr = host.lr as number;
    this.rng.setState(host.rng as RngState);
    this.loadExtraHostState(host);
  }

  dispose(): void {
    this.net.dispose();
    this.optimizer.dispose();
  }
}
