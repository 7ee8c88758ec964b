/** The loader: shapes, determinism in (seed, epoch, step), resume, prefetch, and no leaked tensors. */
import * as assert from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/init';
import { Loader, disposeBatch, loadDataset, viewGrid, displayImage } from '../src/data';
import type { Batch, ImageSet } from '../src/types';

async function collect(it: AsyncIterableIterator<Batch>): Promise<{ idx: number[][]; v0: Float32Array[]; labels: number[][] }> {
  const out = { idx: [] as number[][], v0: [] as Float32Array[], labels: [] as number[][] };
  for await (const b of it) {
    out.idx.push(Array.from(b.indices.dataSync()));
    out.labels.push(Array.from(b.labels.dataSync()));
    out.v0.push(b.views[0].dataSync() as Float32Array);
    disposeBatch(b);
    await new Promise(setImmediate);
  }
  return out;
}

describe('data loader', () => {
  let set: ImageSet;
  before(async () => {
    await initBackend('wasm', { quiet: true });
    set = await loadDataset({ name: 'synthetic', synthetic: { perClass: 10, testPerClass: 2, size: 16, classes: 3 }, seed: 2 }, 'train');
  });

  it('gives batches of views [B, H, W, C], int32 labels and indices; drops the last partial batch when shuffling', async () => {
    const loader = new Loader(set, { batchSize: 8, views: 2, preset: 'moco-cifar-demo', seed: 1 });
    assert.strictEqual(loader.stepsPerEpoch, 3);
    const seen: number[] = [];
    for await (const b of loader.epoch(0)) {
      assert.strictEqual(b.views.length, 2);
      assert.deepStrictEqual(b.views[0].shape, [8, 16, 16, 3]);
      assert.strictEqual(b.views[0].dtype, 'float32');
      assert.strictEqual(b.labels.dtype, 'int32');
      assert.strictEqual(b.indices.dtype, 'int32');
      assert.strictEqual(b.size, 8);
      const idx = Array.from(b.indices.dataSync());
      const lab = Array.from(b.labels.dataSync());
      idx.forEach((i, k) => {
        assert.strictEqual(lab[k], set.labels[i]);
      });
      seen.push(...idx);
      disposeBatch(b);
    }
    assert.strictEqual(new Set(seen).size, 24);
    const evalLoader = new Loader(set, { batchSize: 8, views: 1, preset: 'test', shuffle: false, seed: 0 });
    assert.strictEqual(evalLoader.stepsPerEpoch, 4);
    const all = await collect(evalLoader.epoch(0));
    assert.deepStrictEqual(
      all.idx.flat(),
      Array.from({ length: 30 }, (_, i) => i),
    );
    assert.strictEqual(all.idx[3].length, 6);
  });

  it('order and views depend only on (seed, epoch, step): same seed same batches, resume mid-epoch matches', async () => {
    const mk = (seed: number) => new Loader(set, { batchSize: 6, views: 2, preset: 'moco-v2-cifar', seed });
    const a = await collect(mk(4).epoch(1));
    const b = await collect(mk(4).epoch(1));
    assert.deepStrictEqual(a.idx, b.idx);
    a.v0.forEach((v, i) => {
      assert.deepStrictEqual(v, b.v0[i]);
    });
    const resumed = await collect(mk(4).epoch(1, 2));
    assert.deepStrictEqual(resumed.idx, a.idx.slice(2));
    resumed.v0.forEach((v, i) => {
      assert.deepStrictEqual(v, a.v0[i + 2]);
    });
    const otherEpoch = await collect(mk(4).epoch(2));
    assert.notDeepStrictEqual(otherEpoch.idx, a.idx);
    const otherSeed = await collect(mk(5).epoch(1));
    assert.notDeepStrictEqual(otherSeed.idx, a.idx);
  });

  it('leaves no tensor behind after an epoch, also when the loop stops early', async () => {
    const loader = new Loader(set, { batchSize: 4, views: 2, preset: 'supcon-cifar', seed: 3 });
    const before = tf.memory().numTensors;
    await collect(loader.epoch(0));
    assert.strictEqual(tf.memory().numTensors, before);
    for await (const b of loader.epoch(1)) {
      disposeBatch(b);
      break; // the prefetched next batch must be disposed by the loader
    }
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it('prepares the next batch while the caller works on the current one', async () => {
    const loader = new Loader(set, { batchSize: 4, views: 1, preset: 'test', seed: 3 });
    const it = loader.epoch(0);
    const first = await it.next();
    const countBefore = tf.memory().numTensors;
    await new Promise(setImmediate); // the caller awaits between steps: the prefetch runs
    assert.ok(tf.memory().numTensors > countBefore, 'batch 2 prepared in the background');
    disposeBatch(first.value as Batch);
    await it.return!(undefined);
    assert.strictEqual(tf.memory().numTensors, countBefore - 3);
  });

  it('viewGrid renders a PNG of originals and views; displayImage returns a bundle outside notebooks', async () => {
    const png = await viewGrid(set, [0, 5], 'moco-cifar-demo', 3, 1);
    assert.deepStrictEqual(Array.from(png.subarray(0, 4)), [0x89, 0x50, 0x4e, 0x47]);
    const sharp = (await import('sharp')).default;
    const meta = await sharp(Buffer.from(png)).metadata();
    assert.strictEqual(meta.width, 4 * 96 + 5 * 2);
    assert.strictEqual(meta.height, 2 * 96 + 3 * 2);
    const shown = displayImage(png);
    assert.strictEqual(shown.mime, 'image/png');
    assert.strictEqual(shown.displayed, false);
    await assert.rejects(viewGrid(set, 99, 'test', 1, 0), /index 99 outside 0\.\.29/);
  });
});
