import type * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../types';
import { LARS } from './lars';
import type { Optimizer } from './optimizer';
import { SGD } from './sgd';

/** An optimiser for the named parameters (only trainable variables should be passed). */
export function createOptimizer(cfg: OptimizerConfig, params: Map<string, tf.Variable>): Optimizer {
  switch (cfg.name) {
    case 'sgd':
      return new SGD(cfg, params);
    case 'lars':
      return new LARS(cfg, params);
    default:
      throw new Error(`optimizer.name: unknown optimiser '${(cfg as OptimizerConfig).name}' (sgd, lars)`);
  }
}
