/**
 * Optimisers over a named parameter set. `step(grads, lr)` applies one update in place; the
 * momentum buffers are variables named like the parameters, so a checkpoint stores them with
 * getState() and restores them with setState().
 */
import type * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../types';

export interface OptimizerState {
  /** `${paramName}.momentum_buffer` -> copy of the buffer (the caller owns these). */
  tensors: Record<string, tf.Tensor>;
  host: { name: OptimizerConfig['name']; steps: number };
}

export interface Optimizer {
  readonly config: OptimizerConfig;
  /** Number of steps taken. */
  readonly steps: number;
  /** One update with learning rate `lr`; `grads` maps parameter names to gradients (missing = no update). */
  step(grads: Record<string, tf.Tensor>, lr: number): void;
  getState(): OptimizerState;
  setState(state: OptimizerState): void;
  dispose(): void;
}

export function checkOptimizerConfig(cfg: OptimizerConfig): void {
  const bad = (f: string, v: unknown) => new Error(`optimizer.${f}: invalid value ${JSON.stringify(v)}`);
  if (cfg.name !== 'sgd' && cfg.name !== 'lars') throw bad('name', cfg.name);
  if (!(cfg.lr >= 0)) throw bad('lr', cfg.lr);
  if (!(cfg.momentum >= 0 && cfg.momentum < 1)) throw bad('momentum', cfg.momentum);
  if (!(cfg.weightDecay >= 0)) throw bad('weightDecay', cfg.weightDecay);
  if (cfg.trustCoefficient !== undefined && !(cfg.trustCoefficient > 0)) throw bad('trustCoefficient', cfg.trustCoefficient);
}
