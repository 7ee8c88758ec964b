import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/init';
import { BN_EPS, BN_MOMENTUM, LayerOps } from '../src/models/layers';
import { createEncoder } from '../src/models/encoder';
import { createMomentumEncoder, momentumUpdate } from '../src/models/momentum';
import { Rng } from '../src/util/rng';

const count = (net: { params: Map<string, tf.Variable> }) => [...net.params.values()].reduce((s, v) => s + v.size, 0);

describe('models: encoders, split BN, momentum encoder', function () {
  this.timeout(600000);
  before(async () => {
    await initBackend('wasm', { quiet: true });
  });

  // torchvision parameter counts (ImageNet stem, fc to 1000 classes): resnet18 11,689,512;
  // resnet34 21,797,672; resnet50 25,557,032.
  for (const [arch, want, feat] of [
    ['resnet18', 11689512, 512],
    ['resnet34', 21797672, 512],
    ['resnet50', 25557032, 2048],
  ] as const) {
    it(`${arch} (ImageNet stem, fc 1000) has torchvision's parameter count and ${feat}-d features`, () => {
      const net = createEncoder({ arch, stem: 'imagenet' }, { imageSize: [32, 32], channels: 3 }, { kind: 'linear', dim: 1000 }, new Rng(1));
      assert.equal(count(net), want);
      assert.equal(net.featureDim, feat);
      assert.equal(net.outDim, 1000);
      assert.ok(net.params.has('layer1.0.conv1.weight') && net.params.has('fc.bias'));
      assert.ok(net.buffers.has('bn1.running_mean') && net.buffers.has('layer4.1.bn2.running_var'));
      if (arch === 'resnet50') assert.ok(net.params.has('layer1.0.downsample.0.weight') && net.params.has('layer4.2.conv3.weight'));
      net.dispose();
    });
  }

  it('CIFAR stem: 3x3 stride-1 conv, no max-pool; MLP head Linear-ReLU-Linear; width multiplier', () => {
    const net = createEncoder(
      { arch: 'resnet18', stem: 'cifar', width: 0.5 },
      { imageSize: [32, 32], channels: 3 },
      { kind: 'mlp', dim: 128 },
      new Rng(2),
    );
    assert.deepEqual(net.params.get('conv1.weight')!.shape, [3, 3, 3, 32]);
    assert.equal(net.featureDim, 256);
    assert.deepEqual(net.params.get('fc.0.weight')!.shape, [256, 256]);
    assert.deepEqual(net.params.get('fc.2.weight')!.shape, [256, 128]);
    const x = tf.randomNormal([2, 32, 32, 3]) as tf.Tensor4D;
    const h = net.forward(x, { training: false });
    assert.deepEqual(h.shape, [2, 256]);
    assert.deepEqual(net.project(h).shape, [2, 128]);
    tf.dispose([x, h]);
    net.dispose();
  });

  it('ConvNet: 8 conv layers 32-32-64-64-128-128-256-256, torchvision He init', () => {
    const net = createEncoder({ arch: 'convnet' }, { imageSize: [32, 32], channels: 3 }, { kind: 'none' }, new Rng(3));
    const convs = [...net.params.keys()].filter((n) => n.endsWith('conv.weight'));
    assert.equal(convs.length, 8);
    assert.deepEqual(
      convs.map((n) => net.params.get(n)!.shape[3]),
      [32, 32, 64, 64, 128, 128, 256, 256],
    );
    assert.equal(net.featureDim, 256);
    const w = net.params.get('stage3.1.conv.weight')!.dataSync() as Float32Array;
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    const want = Math.sqrt(2 / (3 * 3 * 256));
    assert.ok(Math.abs(std - want) / want < 0.02, `std ${std} vs ${want}`);
    assert.equal(
      count(net),
      3 * 3 * (3 * 32 + 32 * 32 + 32 * 64 + 64 * 64 + 64 * 128 + 128 * 128 + 128 * 256 + 256 * 256) + 2 * (2 * 32 + 2 * 64 + 2 * 128 + 2 * 256),
    );
    net.dispose();
  });

  it('same seed, same weights; different seed, different weights', () => {
    const a = createEncoder({ arch: 'convnet', width: 0.25 }, { imageSize: [8, 8], channels: 3 }, { kind: 'linear', dim: 8 }, new Rng(4));
    const b = createEncoder({ arch: 'convnet', width: 0.25 }, { imageSize: [8, 8], channels: 3 }, { kind: 'linear', dim: 8 }, new Rng(4));
    const c = createEncoder({ arch: 'convnet', width: 0.25 }, { imageSize: [8, 8], channels: 3 }, { kind: 'linear', dim: 8 }, new Rng(5));
    const w = (n: typeof a) => Array.from(n.params.get('stage1.0.conv.weight')!.dataSync());
    assert.deepEqual(w(a), w(b));
    assert.notDeepEqual(w(a), w(c));
    [a, b, c].forEach((n) => {
      n.dispose();
    });
  });

  it('split BN in training: statistics per sub-batch (sample n in split n mod S), running stats as the reference SplitBatchNorm', async () => {
    await tf.setBackend('cpu');
    try {
      const net = createEncoder({ arch: 'convnet', width: 0.125 }, { imageSize: [4, 4], channels: 2 }, { kind: 'none' }, new Rng(6));
      // Use the first conv+BN only: reproduce stage0.0 by hand.
      const x = tf.randomNormal([6, 4, 4, 2], 0, 1, 'float32', 7) as tf.Tensor4D;
      const S = 3;
      const w = net.params.get('stage0.0.conv.weight')!;
      const conv = tf.conv2d(x, w as tf.Tensor4D, 1, 1);
      const c = conv.arraySync() as number[][][][];
      const C = conv.shape[3];
      // float64 reference of split BN and the running-stat update.
      const ref: number[][][][] = c.map((s) => s.map((r) => r.map((v) => v.slice())));
      const runMean = new Array(C).fill(0);
      const runVar = new Array(C).fill(1);
      const newMean = new Array(C).fill(0);
      const newVar = new Array(C).fill(0);
      for (let s = 0; s < S; s++) {
        const members = [0, 1, 2, 3, 4, 5].filter((n) => n % S === s);
        for (let ch = 0; ch < C; ch++) {
          const vals: number[] = [];
          for (const n of members) for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) vals.push(c[n][i][j][ch]);
          const m = vals.reduce((a, b) => a + b, 0) / vals.length;
          const v = vals.reduce((a, b) => a + (b - m) ** 2, 0) / vals.length;
          for (const n of members)
            for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) ref[n][i][j][ch] = Math.max(0, (c[n][i][j][ch] - m) / Math.sqrt(v + BN_EPS));
          newMean[ch] += ((1 - BN_MOMENTUM) * runMean[ch] + BN_MOMENTUM * m) / S;
          newVar[ch] += ((1 - BN_MOMENTUM) * runVar[ch] + (BN_MOMENTUM * v * vals.length) / (vals.length - 1)) / S;
        }
      }
      const L = new LayerOps(net.params, net.buffers, { training: true, bnSplits: S });
      const y = L.bn('stage0.0.bn', conv as tf.Tensor4D).relu();
      const got = (y.arraySync() as number[][][][]).flat(3);
      const want = ref.flat(3);
      const err = Math.max(...got.map((g, i) => Math.abs(g - want[i])));
      assert.ok(err < 1e-4, `split BN output differs by ${err}`);
      const rm = Array.from(net.buffers.get('stage0.0.bn.running_mean')!.dataSync());
      const rv = Array.from(net.buffers.get('stage0.0.bn.running_var')!.dataSync());
      rm.forEach((v, i) => {
        assert.ok(Math.abs(v - newMean[i]) < 1e-5, `running_mean ${v} vs ${newMean[i]}`);
      });
      rv.forEach((v, i) => {
        assert.ok(Math.abs(v - newVar[i]) < 1e-4, `running_var ${v} vs ${newVar[i]}`);
      });
      assert.throws(() => net.forward(tf.zeros([4, 4, 4, 2]) as tf.Tensor4D, { training: true, bnSplits: 3 }), /not a multiple of bnSplits 3/);
      tf.dispose([x, conv, y]);
      net.dispose();
    } finally {
      await initBackend('wasm', { quiet: true });
    }
  });

  it('eval mode uses the running statistics and leaves them unchanged', () => {
    const net = createEncoder({ arch: 'convnet', width: 0.25 }, { imageSize: [8, 8], channels: 3 }, { kind: 'none' }, new Rng(8));
    const x = tf.randomNormal([4, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const before = Array.from(net.buffers.get('stage2.1.bn.running_var')!.dataSync());
    const a = net.forward(x, { training: false });
    const b = net.forward(x.slice([0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D, { training: false });
    assert.ok(Math.max(...Array.from(a.slice([0, 0], [1, -1]).sub(b).abs().dataSync())) < 1e-5, 'per-sample output independent of the batch');
    assert.deepEqual(Array.from(net.buffers.get('stage2.1.bn.running_var')!.dataSync()), before);
    net.forward(x, { training: true }).dispose();
    assert.notDeepEqual(Array.from(net.buffers.get('stage2.1.bn.running_var')!.dataSync()), before);
    tf.dispose([x, a, b]);
    net.dispose();
  });

  it('momentum encoder: a non-trainable copy updated as theta_k = m theta_k + (1 - m) theta_q', () => {
    const q = createEncoder({ arch: 'convnet', width: 0.25 }, { imageSize: [8, 8], channels: 3 }, { kind: 'linear', dim: 8 }, new Rng(9));
    const k = createMomentumEncoder(q);
    for (const v of k.params.values()) assert.equal(v.trainable, false);
    assert.deepEqual(Array.from(k.params.get('fc.weight')!.dataSync()), Array.from(q.params.get('fc.weight')!.dataSync()));
    // Move q, then update k.
    for (const v of q.params.values()) v.assign(tf.tidy(() => v.add(1)));
    const kOld = Array.from(k.params.get('stage0.0.conv.weight')!.dataSync());
    const qNow = Array.from(q.params.get('stage0.0.conv.weight')!.dataSync());
    momentumUpdate(k, q, 0.99);
    const kNew = k.params.get('stage0.0.conv.weight')!.dataSync();
    kOld.forEach((v, i) => {
      assert.ok(Math.abs(kNew[i] - (0.99 * v + 0.01 * qNow[i])) < 1e-6);
    });
    assert.throws(() => momentumUpdate(k, q, 1.5), /m must be in \[0, 1\]/);
    q.dispose();
    k.dispose();
  });
});

describe('models: every architecture takes a training step on wasm', function () {
  this.timeout(600000);
  before(async () => {
    await initBackend('wasm', { quiet: true });
  });

  for (const [arch, stem, width] of [
    ['resnet18', 'cifar', 0.125],
    ['resnet34', 'imagenet', 0.0625],
    ['resnet50', 'cifar', 0.0625],
  ] as const) {
    it(`${arch} (${stem} stem, width ${width}): finite loss, every parameter gets a gradient`, () => {
      const net = createEncoder({ arch, stem, width }, { imageSize: [16, 16], channels: 3 }, { kind: 'mlp', dim: 8 }, new Rng(1));
      const x = tf.randomNormal([4, 16, 16, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      const vars = [...net.params.values()];
      const { value, grads } = tf.variableGrads(
        () =>
          net
            .project(net.forward(x, { training: true, bnSplits: 2 }))
            .square()
            .mean() as tf.Scalar,
        vars,
      );
      assert.ok(Number.isFinite(value.dataSync()[0]));
      assert.equal(Object.keys(grads).length, vars.length);
      for (const g of Object.values(grads)) assert.ok(g.dataSync().every(Number.isFinite));
      tf.dispose([x, value, ...Object.values(grads)]);
      net.dispose();
    });
  }
});
