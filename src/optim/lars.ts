/**
 * LARS (You et al. 2017) as in SimCLR's lars_optimizer.py, for large-batch runs:
 *   g' = g + wd * p                                  (not for excluded params)
 *   trust = eta * ||p|| / ||g'|| if both norms > 0 else 1   (excluded params: 1)
 *   buf = mu * buf + lr * trust * g'
 *   p  -= nesterov ? mu * buf + lr * trust * g' : buf
 * Excluded from weight decay and adaptation: biases and BN parameters, i.e. every rank-1
 * parameter (SimCLR's exclude ['batch_normalization', 'bias']; solo-learn exclude_bias_n_norm).
 * eta = trustCoefficient, default 0.001.
 */
import * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../types';
import { MomentumBuffers } from './momentum-buffers';
import { checkOptimizerConfig, type Optimizer, type OptimizerState } from './optimizer';

export const LARS_DEFAULT_ETA = 0.001;

export class LARS implements Optimizer {
  private readonly buffers: MomentumBuffers;
  steps = 0;

  constructor(
    readonly config: OptimizerConfig,
    private readonly params: Map<string, tf.Variable>,
  ) {
    checkOptimizerConfig(config);
    this.buffers = new MomentumBuffers(params);
  }

  static excluded(p: tf.Tensor): boolean {
    return p.rank <= 1;
  }

  step(grads: Record<string, tf.Tensor>, lr: number): void {
    const { momentum: mu, weightDecay: wd, nesterov } = this.config;
    const eta = this.config.trustCoefficient ?? LARS_DEFAULT_ETA;
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g0 = grads[name];
        if (!g0) continue;
        let scaled: tf.Tensor;
        if (LARS.excluded(p)) {
          scaled = g0.mul(lr);
        } else {
          const g = wd !== 0 ? g0.add(p.mul(wd)) : g0;
          const wNorm = p.norm();
          const gNorm = g.norm();
          const trust = tf.where(wNorm.greater(0), tf.where(gNorm.greater(0), wNorm.mul(eta).div(gNorm), 1), 1);
          scaled = g.mul(trust.mul(lr));
        }
        const buf = this.buffers.get(name);
        buf.assign(buf.mul(mu).add(scaled));
        const update = nesterov ? buf.mul(mu).add(scaled) : buf;
        p.assign(p.sub(update));
      }
    });
    this.steps += 1;
  }

  getState(): OptimizerState {
    return { tensors: this.buffers.save(), host: { name: 'lars', steps: this.steps } };
  }

  setState(state: OptimizerState): void {
    this.buffers.load(state.tensors);
    this.steps = state.host.steps;
  }

  dispose(): void {
    this.buffers.dispose();
  }
}
