/**
 * A network as plain named variables plus two pure forward functions:
 *   forward(x [N, H, W, C]) -> backbone features [N, featureDim] (global-average pooled)
 *   project(h [N, featureDim]) -> head output [N, outDim] (not normalised)
 * `params` are trainable (for the momentum encoder's copy: not trainable, updated by EMA);
 * `buffers` are the BN running statistics, updated by training-mode forwards.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng';
import { LayerOps, type ForwardOptions } from './layers';

export type BackboneFn = (L: LayerOps, x: tf.Tensor4D) => tf.Tensor2D;
export type HeadFn = (L: LayerOps, h: tf.Tensor2D) => tf.Tensor2D;

export interface NetworkSpec {
  /** Human-readable description (architecture, stem, width, head). */
  description: string;
  inputShape: [number, number, number];
  backbone: BackboneFn;
  /** null: no head (project is the identity). */
  head: HeadFn | null;
}

export class Network {
  readonly params = new Map<string, tf.Variable>();
  readonly buffers = new Map<string, tf.Variable>();
  featureDim = 0;
  outDim = 0;

  private constructor(readonly spec: NetworkSpec) {}

  /** Builds the parameters by one eval-mode forward of a zero image, drawing the initial weights from `rng`. */
  static build(spec: NetworkSpec, rng: Rng): Network {
    const net = new Network(spec);
    tf.tidy(() => {
      const L = new LayerOps(net.params, net.buffers, { training: false }, rng, true);
      const h = spec.backbone(L, tf.zeros([1, ...spec.inputShape]) as tf.Tensor4D);
      net.featureDim = h.shape[1];
      net.outDim = spec.head ? spec.head(L, h).shape[1] : h.shape[1];
    });
    return net;
  }

  /**
   * A copy with its own variables (same names, same values). `trainable` false for the momentum
   * encoder, so no optimiser or gradient tape ever picks its variables.
   */
  copy(trainable: boolean): Network {
    const net = new Network(this.spec);
    net.featureDim = this.featureDim;
    net.outDim = this.outDim;
    for (const [name, v] of this.params)
      net.params.set(
        name,
        tf.tidy(() => tf.variable(v.clone(), trainable, `${v.name}/copy${copyCounter++}`)),
      );
    for (const [name, v] of this.buffers)
      net.buffers.set(
        name,
        tf.tidy(() => tf.variable(v.clone(), false, `${v.name}/copy${copyCounter++}`)),
      );
    return net;
  }

  /** Backbone features. x [N, H, W, C] -> [N, featureDim]. */
  forward(x: tf.Tensor4D, opts: ForwardOptions): tf.Tensor2D {
    if (x.rank !== 4 || x.shape[3] !== this.spec.inputShape[2]) {
      throw new Error(`Network.forward (${this.spec.description}): expected [N, H, W, ${this.spec.inputShape[2]}], got ${JSON.stringify(x.shape)}`);
    }
    return this.spec.backbone(new LayerOps(this.params, this.buffers, opts), x);
  }

  /** Head output (not normalised). h [N, featureDim] -> [N, outDim]. */
  project(h: tf.Tensor2D): tf.Tensor2D {
    if (!this.spec.head) return h;
    return this.spec.head(new LayerOps(this.params, this.buffers, { training: false }), h);
  }

  /** Names of the trainable parameters, in creation order. */
  paramNames(): string[] {
    return [...this.params.keys()];
  }

  numParams(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    for (const v of this.buffers.values()) v.dispose();
    this.params.clear();
    this.buffers.clear();
  }
}

let copyCounter = 0;
