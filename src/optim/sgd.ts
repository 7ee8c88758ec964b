/**
 * SGD with momentum and weight decay, exactly as torch.optim.SGD (dampening 0):
 *   d_p = g + wd * p
 *   buf = mu * buf + d_p            (first step: buf = d_p; with zero-initialised buffers this is the same)
 *   d_p = nesterov ? d_p + mu * buf : buf
 *   p  -= lr * d_p
 * Weight decay applies to every parameter (biases and BN too), as MoCo/SupContrast pass
 * model.parameters() to SGD.
 */
import * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../types';
import { MomentumBuffers } from './momentum-buffers';
import { checkOptimizerConfig, type Optimizer, type OptimizerState } from './optimizer';

export class SGD implements Optimizer {
  private readonly buffers: MomentumBuffers;
  steps = 0;

  constructor(
    readonly config: OptimizerConfig,
    private readonly params: Map<string, tf.Variable>,
  ) {
    checkOptimizerConfig(config);
    this.buffers = new MomentumBuffers(params);
  }

  step(grads: Record<string, tf.Tensor>, lr: number): void {
    const { momentum: mu, weightDecay: wd, nesterov } = this.config;
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads[name];
        if (!g) continue;
        let dp = wd !== 0 ? g.add(p.mul(wd)) : g;
        if (mu !== 0) {
          const buf = this.buffers.get(name);
          buf.assign(buf.mul(mu).add(dp));
          dp = nesterov ? dp.add(buf.mul(mu)) : buf;
        }
        p.assign(p.sub(dp.mul(lr)));
      }
    });
    this.steps += 1;
  }

  getState(): OptimizerState {
    return { tensors: this.buffers.save(), host: { name: 'sgd', steps: this.steps } };
  }

  setState(state: OptimizerState): void {
    this.buffers.load(state.tensors);
    this.steps = state.host.steps;
  }

  dispose(): void {
    this.buffers.dispose();
  }
}
