/**
 * torchvision ResNet-18/34/50 (v1.5: stride on the 3x3 conv of bottlenecks), written functionally.
 * Stems: 'cifar' = conv3x3 s1 p1 + BN + ReLU, no max-pool (MoCo CIFAR demo, SupContrast resnet_big);
 * 'imagenet' = conv7x7 s2 p3 + BN + ReLU + max-pool 3x3 s2 p1. Width multiplier scales every
 * stage's planes (64, 128, 256, 512). Features: global average pool, 512*w (R18/34) or 2048*w (R50).
 * Parameter names follow torchvision: conv1.weight, bn1.*, layer1.0.conv1.weight, layer1.0.downsample.0.weight, ...
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerOps } from './layers';
import type { BackboneFn } from './network';

export type ResnetDepth = 18 | 34 | 50;

const LAYERS: Record<ResnetDepth, { block: 'basic' | 'bottleneck'; counts: number[] }> = {
  18: { block: 'basic', counts: [2, 2, 2, 2] },
  34: { block: 'basic', counts: [3, 4, 6, 3] },
  50: { block: 'bottleneck', counts: [3, 4, 6, 3] },
};

/** BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), expansion 1. */
function basicBlock(L: LayerOps, name: string, x: tf.Tensor4D, planes: number, stride: number): tf.Tensor4D {
  let out = L.bn(`${name}.bn1`, L.conv(`${name}.conv1`, x, planes, 3, stride), true);
  out = L.bn(`${name}.bn2`, L.conv(`${name}.conv2`, out, planes, 3, 1));
  const shortcut = stride !== 1 || x.shape[3] !== planes ? L.bn(`${name}.downsample.1`, L.conv(`${name}.downsample.0`, x, planes, 1, stride, 0)) : x;
  return out.add(shortcut).relu() as tf.Tensor4D;
}

/** Bottleneck: 1x1 (planes) -> 3x3 stride (planes) -> 1x1 (4*planes), expansion 4. */
function bottleneck(L: LayerOps, name: string, x: tf.Tensor4D, planes: number, stride: number): tf.Tensor4D {
  let out = L.bn(`${name}.bn1`, L.conv(`${name}.conv1`, x, planes, 1, 1, 0), true);
  out = L.bn(`${name}.bn2`, L.conv(`${name}.conv2`, out, planes, 3, stride), true);
  out = L.bn(`${name}.bn3`, L.conv(`${name}.conv3`, out, planes * 4, 1, 1, 0));
  const shortcut =
    stride !== 1 || x.shape[3] !== planes * 4 ? L.bn(`${name}.downsample.1`, L.conv(`${name}.downsample.0`, x, planes * 4, 1, stride, 0)) : x;
  return out.add(shortcut).relu() as tf.Tensor4D;
}

export function resnetBackbone(depth: ResnetDepth, stem: 'cifar' | 'imagenet' = 'cifar', width = 1): BackboneFn {
  const spec = LAYERS[depth];
  if (!spec) throw new Error(`models/resnet: unsupported depth ${depth} (18, 34, 50)`);
  const ch = (n: number) => Math.max(1, Math.round(n * width));
  const block = spec.block === 'basic' ? basicBlock : bottleneck;
  return (L: LayerOps, x: tf.Tensor4D): tf.Tensor2D => {
    let h: tf.Tensor4D;
    if (stem === 'cifar') {
      h = L.bn('bn1', L.conv('conv1', x, ch(64), 3, 1, 1), true);
    } else {
      h = L.bn('bn1', L.conv('conv1', x, ch(64), 7, 2, 3), true);
      // PyTorch's MaxPool2d(3, 2, padding=1); h >= 0 after the ReLU, so zero padding equals -inf padding
      // (and works on the tensorflow backend, which takes only 'same'/'valid').
      h = tf.maxPool(
        tf.pad(h, [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ]),
        3,
        2,
        'valid',
      );
    }
    spec.counts.forEach((n, i) => {
      for (let j = 0; j < n; j++) {
        h = block(L, `layer${i + 1}.${j}`, h, ch(64 * 2 ** i), i > 0 && j === 0 ? 2 : 1);
      }
    });
    return h.mean([1, 2]) as tf.Tensor2D;
  };
}
