import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/init';
import { loadDataset } from '../src/data';
import { extractFeatures, extractViewPairs, headOf, linearProbe, type FeatureFn } from '../src/eval';
import type { ImageSet } from '../src/types';
import { TEST_BACKEND } from './test-backend';

describe('eval: probes through a feature function on images', () => {
  let train: ImageSet;
  let test: ImageSet;
  // A fixed feature map with no training: mean colour of each 4x4 cell (16x16 images -> 4x4x3 = 48 dims).
  const fn: FeatureFn = (x) => tf.tidy(() => tf.avgPool(x, 4, 4, 'valid').reshape([x.shape[0], -1]) as tf.Tensor2D);

  before(async () => {
    await initBackend(TEST_BACKEND, { quiet: true });
    const cfg = { name: 'synthetic' as const, synthetic: { perClass: 40, testPerClass: 20, size: 16, classes: 4, channels: 3 }, seed: 0 };
    train = await loadDataset(cfg, 'train');
    test = await loadDataset(cfg, 'test');
  });

  it('extracts features of every image in order, with its labels', async () => {
    const f = await extractFeatures(fn, train, { batchSize: 50 });
    assert.deepEqual(f.features.shape, [train.n, 48]);
    assert.deepEqual(Array.from(f.labels), Array.from(train.labels));
    const head = await extractFeatures(fn, train, { batchSize: 7, limit: 10 });
    assert.deepEqual(head.features.shape, [10, 48]);
    // Batching does not change the features.
    const a = f.features.slice([0, 0], [10, -1]);
    assert.ok(tf.max(tf.abs(tf.sub(a, head.features))).dataSync()[0] < 1e-5);
    assert.equal(headOf(train, 10).n, 10);
    tf.dispose([f.features, head.features, a]);
  });

  it('view pairs for alignment are two different augmentations of the same images', async () => {
    const { x, y } = await extractViewPairs(fn, test, { preset: 'moco-cifar-demo', limit: 16, batchSize: 8 });
    assert.deepEqual(x.shape, [16, 48]);
    const norms = tf.norm(x, 'euclidean', 1).dataSync();
    assert.ok(
      Array.from(norms).every((n) => Math.abs(n - 1) < 1e-4),
      'features are L2-normalised',
    );
    assert.ok(tf.max(tf.abs(tf.sub(x, y))).dataSync()[0] > 1e-3, 'the two views differ');
    tf.dispose([x, y]);
  });

  it('linear probe on cached and on per-epoch augmented features beats chance by far', async () => {
    const before = tf.memory().numTensors;
    const cached = await linearProbe(fn, train, test, { protocol: 'fast', epochs: 30 });
    assert.ok(cached.accuracy > 0.6, `cached probe accuracy ${cached.accuracy} (chance 0.25)`);
    const epochs: number[] = [];
    const aug = await linearProbe(
      fn,
      train,
      test,
      { protocol: 'supcon', epochs: 4, batchSize: 32, standardize: true },
      { onEpoch: (e) => epochs.push(e) },
    );
    assert.deepEqual(epochs, [1, 2, 3, 4]);
    assert.equal(aug.config.cache, false);
    assert.ok(aug.accuracy > 0.4, `augmented probe accuracy ${aug.accuracy} (chance 0.25)`);
    assert.equal(tf.memory().numTensors, before, 'probes leak tensors');
  });
});
