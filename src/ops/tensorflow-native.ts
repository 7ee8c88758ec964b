/**
 * TensorFlow ops that TF.js has no kernel for, run directly on the `tensorflow` backend (tfjs-node)
 * through its eager-op entry points. `tensorflowNative()` returns them only while that backend is
 * active; every other backend gets `undefined` and keeps its TF.js path.
 *
 *   fusedBatchNorm       FusedBatchNormV3, training mode: y, batch mean, unbiased batch variance
 *                        and the reserve spaces its gradient needs (layouts differ by device)
 *   fusedBatchNormGrad   FusedBatchNormGradV3: dx, dscale, doffset
 *   reluGrad             ReluGrad: dy where the ReLU's output is > 0, else 0
 */
import * as tf from '@tensorflow/tfjs';

interface OpAttr {
  name: string;
  type: number;
  value: number | boolean | string;
}

/** The part of tfjs-node's NodeJSKernelBackend used here. */
interface NodeKernelBackend {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_FLOAT: number; TF_ATTR_STRING: number; TF_ATTR_BOOL: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.Tensor[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
}

export interface FusedBatchNormOutputs {
  y: tf.Tensor4D;
  mean: tf.Tensor1D;
  /** Unbiased (n - 1) batch variance, as TensorFlow reports it for the running average. */
  unbiasedVariance: tf.Tensor1D;
  /** Reserve spaces 1-3, the gradient's inputs. */
  reserve: tf.Tensor[];
}

export interface TensorflowNative {
  fusedBatchNorm(x: tf.Tensor4D, scale: tf.Tensor1D, offset: tf.Tensor1D, eps: number): FusedBatchNormOutputs;
  fusedBatchNormGrad(dy: tf.Tensor4D, x: tf.Tensor4D, scale: tf.Tensor1D, reserve: tf.Tensor[], eps: number): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
  reluGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor;
}

function isNodeKernelBackend(b: unknown): b is NodeKernelBackend {
  const o = b as Partial<NodeKernelBackend>;
  return typeof o?.executeMultipleOutputs === 'function' && typeof o.executeSingleOutput === 'function' && typeof o.binding?.TF_FLOAT === 'number';
}

let cached: { backend: NodeKernelBackend; ops: TensorflowNative } | undefined;

/** The native ops while the active backend is tfjs-node's `tensorflow`, else undefined. */
export function tensorflowNative(): TensorflowNative | undefined {
  if (tf.getBackend() !== 'tensorflow') return undefined;
  const backend = tf.backend();
  if (!isNodeKernelBackend(backend)) return undefined;
  if (cached?.backend !== backend) cached = { backend, ops: nativeOps(backend) };
  return cached.ops;
}

function nativeOps(be: NodeKernelBackend): TensorflowNative {
  const b = be.binding;
  const floatType = (name: string): OpAttr => ({ name, type: b.TF_ATTR_TYPE, value: b.TF_FLOAT });
  const bnAttrs = (eps: number): OpAttr[] => [
    floatType('T'),
    floatType('U'),
    { name: 'epsilon', type: b.TF_ATTR_FLOAT, value: eps },
    { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: b.TF_ATTR_BOOL, value: true },
  ];
  return {
    fusedBatchNorm(x, scale, offset, eps) {
      // Training mode with exponential_avg_factor 1 takes empty running statistics.
      const empty = tf.tensor1d([], 'float32');
      try {
        const attrs = [...bnAttrs(eps), { name: 'exponential_avg_factor', type: b.TF_ATTR_FLOAT, value: 1 }];
        const [y, mean, unbiasedVariance, ...reserve] = be.executeMultipleOutputs('FusedBatchNormV3', attrs, [x, scale, offset, empty, empty], 6);
        return { y: y as tf.Tensor4D, mean: mean as tf.Tensor1D, unbiasedVariance: unbiasedVariance as tf.Tensor1D, reserve };
      } finally {
        empty.dispose();
      }
    },
    fusedBatchNormGrad(dy, x, scale, reserve, eps) {
      const [dx, dScale, dOffset, ...rest] = be.executeMultipleOutputs('FusedBatchNormGradV3', bnAttrs(eps), [dy, x, scale, ...reserve], 5);
      tf.dispose(rest);
      return [dx as tf.Tensor4D, dScale as tf.Tensor1D, dOffset as tf.Tensor1D];
    },
    reluGrad(dy, y) {
      return be.executeSingleOutput('ReluGrad', [floatType('T')], [dy, y]);
    },
  };
}
