/** Shared set-up of the method tests: tiny configs of every method and random batches. */
import * as tf from '@tensorflow/tfjs';
import { defaultMethodConfig } from '../src/methods/params';
import type { Batch, EncoderConfig, MethodConfig, OptimizerConfig } from '../src/types';

export const TINY_ENCODER: EncoderConfig = { arch: 'convnet', width: 0.125 };
export const SGD: OptimizerConfig = { name: 'sgd', lr: 0.03, momentum: 0.9, weightDecay: 5e-4 };
export const TINY_DATA = { imageSize: [8, 8] as [number, number], channels: 3, numClasses: 4 };

/** One small config of every method and variant (K = 20 is not a multiple of the batch 8). */
export function tinyConfigs(): { label: string; method: MethodConfig }[] {
  return [
    { label: 'moco (v1, asymmetric)', method: defaultMethodConfig('moco', { K: 20, dim: 16, bnSplits: 2 }) },
    { label: 'moco (v2 head, symmetric)', method: defaultMethodConfig('moco', { K: 20, dim: 16, bnSplits: 2, mlp: true, symmetric: true }) },
    {
      label: 'mochi (mixing, class oracle)',
      method: defaultMethodConfig('mochi', { K: 20, dim: 16, bnSplits: 2, N: 6, s: 5, sPrime: 3, warmupEpochs: 0, classOracle: true }),
    },
    { label: 'mixco (moco base)', method: defaultMethodConfig('mixco', { K: 20, dim: 16, bnSplits: 2 }) },
    { label: 'mixco (simclr base)', method: defaultMethodConfig('mixco', { base: 'simclr', dim: 16, T: 0.5, mixT: 0.5 }) },
    { label: 'simclr', method: defaultMethodConfig('simclr', { dim: 16 }) },
    { label: 'supcon', method: defaultMethodConfig('supcon', { dim: 16 }) },
    { label: 'ce', method: defaultMethodConfig('ce', { labelSmoothing: 0.1 }) },
  ];
}

export function randomBatch(B: number, seed: number, size = 8): Batch {
  return tf.tidy(() => ({
    views: [0, 1].map((v) => tf.randomNormal([B, size, size, 3], 0, 1, 'float32', seed * 10 + v) as tf.Tensor4D),
    labels: tf.tensor1d(
      Array.from({ length: B }, (_, i) => i % 4),
      'int32',
    ),
    indices: tf.range(0, B, 1, 'int32') as tf.Tensor1D,
    size: B,
  }));
}

export function disposeBatch(b: Batch): void {
  tf.dispose([...b.views, b.labels, b.indices]);
}
