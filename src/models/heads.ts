/**
 * Projection heads.
 * linear (MoCo v1, the CIFAR demo): fc = Linear(featureDim, dim).
 * mlp (MoCo v2 `--mlp`, SupCon 'mlp', SimCLR): fc.0 = Linear(featureDim, featureDim) -> ReLU ->
 *   fc.2 = Linear(featureDim, dim), no BN (moco/builder.py; SupContrast networks/resnet_big.py).
 * classifier (cross-entropy baseline): fc = Linear(featureDim, numClasses).
 */
import type * as tf from '@tensorflow/tfjs';
import type { LayerOps } from './layers';
import type { HeadFn } from './network';

export function linearHead(dim: number): HeadFn {
  return (L: LayerOps, h: tf.Tensor2D) => L.linear('fc', h, dim);
}

export function mlpHead(dim: number, hidden?: number): HeadFn {
  return (L: LayerOps, h: tf.Tensor2D) => L.linear('fc.2', L.linear('fc.0', h, hidden ?? h.shape[1]).relu(), dim);
}
