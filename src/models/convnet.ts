/**
 * A small fast ConvNet for CPU runs (this project's own; bench/torch/models.py mirrors it in PyTorch).
 *
 * With width multiplier w (channels c(n) = max(1, round(n * w))), input [N, H, W, C]:
 *   stage0.0: conv3x3(C -> c(32), stride 1, pad 1, no bias) + BN + ReLU
 *   stage0.1: conv3x3(c(32) -> c(32), s1, p1) + BN + ReLU
 *   stage1.0: conv3x3(c(32) -> c(64), s2, p1) + BN + ReLU
 *   stage1.1: conv3x3(c(64) -> c(64), s1, p1) + BN + ReLU
 *   stage2.0: conv3x3(c(64) -> c(128), s2, p1) + BN + ReLU
 *   stage2.1: conv3x3(c(128) -> c(128), s1, p1) + BN + ReLU
 *   stage3.0: conv3x3(c(128) -> c(256), s2, p1) + BN + ReLU
 *   stage3.1: conv3x3(c(256) -> c(256), s1, p1) + BN + ReLU
 *   global average pool -> [N, c(256)]
 * 8 conv layers, BN as PyTorch BatchNorm2d (eps 1e-5, momentum 0.1), conv init kaiming_normal_
 * (fan_out, relu). Parameter names: `stage{i}.{j}.conv.weight`, `stage{i}.{j}.bn.{weight,bias,running_mean,running_var}`.
 * On 32x32 inputs the feature maps are 32, 32, 16, 16, 8, 8, 4, 4 pixels.
 */
import type * as tf from '@tensorflow/tfjs';
import type { LayerOps } from './layers';
import type { BackboneFn } from './network';

export const CONVNET_WIDTHS = [32, 64, 128, 256];

export function convnetBackbone(width = 1): BackboneFn {
  const ch = (n: number) => Math.max(1, Math.round(n * width));
  return (L: LayerOps, x: tf.Tensor4D): tf.Tensor2D => {
    let h = x;
    CONVNET_WIDTHS.forEach((c, i) => {
      for (let j = 0; j < 2; j++) {
        const stride = i > 0 && j === 0 ? 2 : 1;
        h = L.bn(`stage${i}.${j}.bn`, L.conv(`stage${i}.${j}.conv`, h, ch(c), 3, stride), true);
      }
    });
    return h.mean([1, 2]) as tf.Tensor2D;
  };
}
