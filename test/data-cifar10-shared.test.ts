/**
 * The shared CIFAR-10 class-folder copy (../shared/datasets/cifar10, read-only) loads completely.
 * The first run decodes 60,000 JPEGs into ./data/cache (about a minute on 2 cores); later runs
 * read the cache in seconds.
 */
import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../src/backend/init';
import { CIFAR10_CLASSES, datasetInfo, loadDataset } from '../src/data';

/** $DATA_DIR when it holds the class-folder copy (CI sets it to ../shared/datasets), else ../shared/datasets. */
const SHARED =
  [process.env.DATA_DIR, path.resolve(__dirname, '..', '..', 'shared', 'datasets')]
    .filter((d): d is string => !!d)
    .map((d) => path.resolve(d))
    .find((d) => fs.existsSync(path.join(d, 'cifar10', 'train'))) ?? path.resolve(__dirname, '..', '..', 'shared', 'datasets');

describe('data: shared CIFAR-10 class folders', function () {
  this.timeout(900_000);
  before(async function () {
    if (!fs.existsSync(path.join(SHARED, 'cifar10', 'train'))) {
      console.log(`      (skipped: ${SHARED}/cifar10 is absent)`);
      this.skip();
    }
    await initBackend('cpu', { quiet: true });
  });

  it("{name: 'cifar10'} finds the class-folder layout and loads 50,000 / 10,000 images of 10 classes", async () => {
    const cfg = { name: 'cifar10' as const, dataRoot: SHARED };
    const info = datasetInfo(cfg);
    assert.deepStrictEqual(info.splits, { train: 50000, test: 10000 });
    assert.deepStrictEqual(info.classNames, CIFAR10_CLASSES);
    assert.deepStrictEqual(info.mean, [0.4914, 0.4822, 0.4465]);
    const t0 = Date.now();
    const train = await loadDataset(cfg, 'train', { quiet: true });
    const test = await loadDataset(cfg, 'test', { quiet: true });
    console.log(`      (loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    assert.strictEqual(train.n, 50000);
    assert.strictEqual(test.n, 10000);
    assert.strictEqual(train.images.length, 50000 * 32 * 32 * 3);
    assert.deepStrictEqual(train.info.imageSize, [32, 32]);
    for (const s of [train, test]) {
      const counts = new Array(10).fill(0);
      for (const l of s.labels) counts[l]++;
      assert.deepStrictEqual(counts, new Array(10).fill(s.n / 10));
    }
    // Real photos: pixel statistics near the published CIFAR-10 mean (JPEG re-encoding shifts them a little).
    let sum = 0;
    for (let i = 0; i < train.images.length; i += 97) sum += train.images[i];
    const mean = sum / Math.ceil(train.images.length / 97) / 255;
    assert.ok(Math.abs(mean - 0.473) < 0.02, `mean pixel ${mean}`);
  });

  it("{name: 'folder', path: 'cifar10'} reads the same images (from the cache) in seconds", async () => {
    const t0 = Date.now();
    const s = await loadDataset({ name: 'folder', dataRoot: SHARED, path: 'cifar10' }, 'train', { quiet: true });
    const secs = (Date.now() - t0) / 1000;
    console.log(`      (cached load of 50,000 images: ${secs.toFixed(1)} s)`);
    assert.strictEqual(s.n, 50000);
    assert.strictEqual(s.info.numClasses, 10);
    assert.ok(secs < 30, `cached load took ${secs} s`);
  });
});
