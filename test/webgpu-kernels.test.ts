/**
 * The training kernels on webgpu against the cpu backend, to 1e-4: conv2d forward and both
 * gradients (strides 1 and 2), the fused BN + ReLU op forward and backward, matMul (with the
 * transposes the losses use), topk + gather as MoCHi picks its hard negatives, and the
 * augmentation presets the runner uses (same host RNG, so the same crops, flips and jitter).
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/init';
import { augment } from '../src/data/augment/augment';
import type { AugmentPresetName } from '../src/types';
import { batchNormTrain } from '../src/ops/batch-norm-train';
import { Rng } from '../src/util/rng';
import { maxRelDiff, readOn, requireWebgpu } from './webgpu-helpers';

const TOL = 1e-4;

async function compare(what: string, fn: () => tf.Tensor[]): Promise<void> {
  const ref = await readOn('cpu', fn);
  const gpu = await readOn('webgpu', fn);
  ref.forEach((r, i) => {
    const e = maxRelDiff(gpu[i], r);
    assert.ok(e <= TOL, `${what} [output ${i}]: webgpu differs from cpu by ${e.toExponential(2)} (> ${TOL})`);
  });
}

describe('webgpu: training kernels match the cpu backend', function () {
  this.timeout(600000);
  before(async function () {
    await requireWebgpu(this);
  });
  after(async () => {
    await initBackend('wasm', { quiet: true });
  });

  for (const stride of [1, 2]) {
    for (const pad of ['same', 'valid'] as const) {
      it(`conv2d ${pad}, stride ${stride}: forward, input and filter gradients`, async () => {
        await compare(`conv2d s${stride} ${pad}`, () => {
          const x = tf.randomNormal([2, 9, 9, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
          const w = tf.randomNormal([3, 3, 3, 5], 0, 0.3, 'float32', 2) as tf.Tensor4D;
          const r = tf.randomNormal(tf.conv2d(x, w, stride, pad).shape, 0, 1, 'float32', 3);
          const f = (xx: tf.Tensor, ww: tf.Tensor) =>
            tf
              .conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, stride, pad)
              .mul(r)
              .sum();
          const [dx, dw] = tf.grads(f)([x, w]);
          return [tf.conv2d(x, w, stride, pad), dx, dw];
        });
      });
    }
  }

  for (const [splits, relu] of [
    [1, true],
    [2, true],
    [4, false],
  ] as [number, boolean][]) {
    it(`fused BN (splits ${splits}, relu ${relu}): output, batch statistics and gradients`, async () => {
      await compare(`batchNormTrain splits ${splits}`, () => {
        const x = tf.randomNormal([8, 5, 4, 6], 0.5, 2, 'float32', 4) as tf.Tensor4D;
        const g = tf.randomNormal([6], 1, 0.3, 'float32', 5) as tf.Tensor1D;
        const b = tf.randomNormal([6], 0, 0.3, 'float32', 6) as tf.Tensor1D;
        const r = tf.randomNormal([8, 5, 4, 6], 0, 1, 'float32', 7);
        const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
          const o = batchNormTrain(xx as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, { splits, relu });
          o.mean.dispose();
          o.variance.dispose();
          return o.y.mul(r).sum();
        };
        const out = batchNormTrain(x, g, b, { splits, relu });
        return [out.y, out.mean, out.variance, ...tf.grads(f)([x, g, b])];
      });
    });
  }

  it('matMul (plain and transposed, as q.queue^T): forward and gradients', async () => {
    await compare('matMul', () => {
      const q = tf.randomNormal([8, 16], 0, 1, 'float32', 8);
      const queue = tf.randomNormal([40, 16], 0, 1, 'float32', 9);
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        tf
          .matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true)
          .square()
          .sum();
      return [tf.matMul(q, queue, false, true), tf.matMul(q, q, true, false), ...tf.grads(f)([q, queue])];
    });
  });

  it('topk + gather as MoCHi picks and mixes its hardest negatives', async () => {
    await compare('topk/gather', () => {
      const B = 6;
      const N = 5;
      const sims = tf.randomUniform([B, 30], -1, 1, 'float32', 10) as tf.Tensor2D;
      const queue = tf.randomNormal([30, 8], 0, 1, 'float32', 11) as tf.Tensor2D;
      const { values, indices } = tf.topk(sims, N, true);
      const rowBase = tf.range(0, B, 1, 'int32').mul(tf.scalar(N, 'int32')).reshape([B, 1]);
      const pos = tf.tensor2d([0, 4, 1, 3, 2, 2, 4, 0, 1, 1, 3, 0], [B, 2], 'int32');
      const picked = tf.gather(queue, tf.gather(indices.reshape([-1]), pos.add(rowBase).reshape([-1]))).reshape([B, 2, 8]);
      return [values, indices.toFloat(), picked];
    });
  });

  for (const preset of ['moco-v2-cifar', 'supcon-cifar', 'moco-cifar-demo'] as AugmentPresetName[]) {
    it(`augmentation preset ${preset} (same RNG): same views`, async () => {
      const info = { channels: 3, mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] };
      const pixels = Int32Array.from({ length: 4 * 16 * 16 * 3 }, (_, i) => (i * 37 + (i >> 5) * 11) % 256);
      const run = async (backend: 'cpu' | 'webgpu') => {
        if (backend === 'webgpu') await initBackend('webgpu', { quiet: true });
        else await tf.setBackend('cpu');
        const x = tf.tensor4d(pixels, [4, 16, 16, 3], 'int32');
        const out = augment(x, preset, new Rng(42), info);
        const v = Float32Array.from(await out.data());
        tf.dispose([x, out]);
        return v;
      };
      const ref = await run('cpu');
      const gpu = await run('webgpu');
      const e = maxRelDiff(gpu, ref);
      assert.ok(e <= TOL, `${preset}: webgpu differs from cpu by ${e.toExponential(2)}`);
    });
  }
});
