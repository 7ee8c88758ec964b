/** Every dataset format parses to the right shapes, labels and pixels; bad input gives clear errors. */
import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { datasetInfo, loadDataset } from '../src/data';
import { classBalancedSubset } from '../src/data/subset';
import { initBackend } from '../src/backend/init';
import { cifarRecords, greyPixels, idx, pixel, tempDir } from './data-fixtures';

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.match(e.message, re);
    return true;
  });
}

describe('data formats', () => {
  before(async () => {
    await initBackend('cpu', { quiet: true });
  });

  describe('CIFAR binary', () => {
    let root: string;
    before(() => {
      root = tempDir('cifar');
      const dir = path.join(root, 'cifar-10-batches-bin');
      fs.mkdirSync(dir);
      for (let b = 1; b <= 5; b++) fs.writeFileSync(path.join(dir, `data_batch_${b}.bin`), cifarRecords([[b % 10], [(b + 3) % 10]], (b - 1) * 2));
      fs.writeFileSync(path.join(dir, 'test_batch.bin'), cifarRecords([[9], [0], [4]], 100));
      const d100 = path.join(root, 'cifar-100-binary');
      fs.mkdirSync(d100);
      fs.writeFileSync(
        path.join(d100, 'train.bin'),
        cifarRecords([
          [3, 99],
          [19, 0],
        ]),
      );
      fs.writeFileSync(path.join(d100, 'test.bin'), cifarRecords([[0, 42]]));
    });

    it('CIFAR-10: NHWC pixels, labels in batch order, test split', async () => {
      const train = await loadDataset({ name: 'cifar10', dataRoot: root }, 'train');
      assert.strictEqual(train.n, 10);
      assert.deepStrictEqual(train.info.imageSize, [32, 32]);
      assert.strictEqual(train.info.channels, 3);
      assert.strictEqual(train.info.numClasses, 10);
      assert.deepStrictEqual(Array.from(train.labels), [1, 4, 2, 5, 3, 6, 4, 7, 5, 8]);
      for (const [i, y, x, c] of [
        [0, 0, 0, 0],
        [3, 5, 17, 2],
        [9, 31, 31, 1],
      ]) {
        assert.strictEqual(train.images[((i * 32 + y) * 32 + x) * 3 + c], pixel(i, y, x, c));
      }
      const test = await loadDataset({ name: 'cifar10', dataRoot: root }, 'test');
      assert.deepStrictEqual(Array.from(test.labels), [9, 0, 4]);
      assert.strictEqual(test.images[((1 * 32 + 2) * 32 + 3) * 3 + 1], pixel(101, 2, 3, 1));
    });

    it('CIFAR-100: fine labels', async () => {
      const train = await loadDataset({ name: 'cifar100', dataRoot: root }, 'train');
      assert.strictEqual(train.info.numClasses, 100);
      assert.deepStrictEqual(Array.from(train.labels), [99, 0]);
      const test = await loadDataset({ name: 'cifar100', dataRoot: root }, 'test');
      assert.deepStrictEqual(Array.from(test.labels), [42]);
    });

    it('resize option gives the requested size', async () => {
      const s = await loadDataset({ name: 'cifar10', dataRoot: root, resize: 16 }, 'test');
      assert.deepStrictEqual(s.info.imageSize, [16, 16]);
      assert.strictEqual(s.images.length, 3 * 16 * 16 * 3);
    });

    it('truncated batch, wrong record size and label out of range name the file', async () => {
      const bad = tempDir('cifar-bad');
      const dir = path.join(bad, 'cifar-10-batches-bin');
      fs.mkdirSync(dir);
      for (let b = 1; b <= 5; b++) fs.writeFileSync(path.join(dir, `data_batch_${b}.bin`), cifarRecords([[1]]));
      fs.writeFileSync(path.join(dir, 'data_batch_3.bin'), cifarRecords([[1], [2]]).subarray(0, 5000));
      fs.writeFileSync(path.join(dir, 'test_batch.bin'), cifarRecords([[12]]));
      await rejects(
        loadDataset({ name: 'cifar10', dataRoot: bad }, 'train'),
        /data_batch_3\.bin: 5000 bytes is not a whole number of 3073-byte records/,
      );
      await rejects(loadDataset({ name: 'cifar10', dataRoot: bad }, 'test'), /test_batch\.bin: record 0 has label 12, outside 0\.\.9/);
    });

    it('a missing dataset names the paths searched and where to get it', async () => {
      const empty = tempDir('empty');
      await rejects(
        loadDataset({ name: 'cifar100', dataRoot: empty }, 'train', { download: false }),
        new RegExp(`searched ${empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/cifar-100-binary.*cifar-100-binary\\.tar\\.gz`),
      );
    });
  });

  describe('IDX (Fashion-MNIST / MNIST)', () => {
    it('reads gzipped and raw files, 1 channel', async () => {
      const root = tempDir('idx');
      const dir = path.join(root, 'fashion-mnist');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), idx([4, 28, 28], greyPixels(4, 28, 28), true));
      fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idx([4], Uint8Array.from([3, 1, 4, 1]), false));
      fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte'), idx([2, 28, 28], greyPixels(2, 28, 28), false));
      fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), idx([2], Uint8Array.from([9, 0]), true));
      const train = await loadDataset({ name: 'fashion-mnist', dataRoot: root }, 'train');
      assert.strictEqual(train.n, 4);
      assert.strictEqual(train.info.channels, 1);
      assert.deepStrictEqual(train.info.imageSize, [28, 28]);
      assert.deepStrictEqual(Array.from(train.labels), [3, 1, 4, 1]);
      assert.strictEqual(train.images[(2 * 28 + 5) * 28 + 7], pixel(2, 5, 7, 0));
      const test = await loadDataset({ name: 'fashion-mnist', dataRoot: root }, 'test');
      assert.deepStrictEqual(Array.from(test.labels), [9, 0]);
    });

    it('count mismatch, bad magic, truncated data and labels out of range are errors naming the file', async () => {
      const root = tempDir('idx-bad');
      const dir = path.join(root, 'mnist');
      fs.mkdirSync(dir);
      const w = (f: string, b: Buffer) => fs.writeFileSync(path.join(dir, f), b);
      w('train-images-idx3-ubyte', idx([3, 28, 28], greyPixels(3, 28, 28), false));
      w('train-labels-idx1-ubyte', idx([2], Uint8Array.from([1, 2]), false));
      w('t10k-images-idx3-ubyte', idx([1, 28, 28], greyPixels(1, 28, 28), false).subarray(0, 500));
      w('t10k-labels-idx1-ubyte', idx([1], Uint8Array.from([1]), false));
      await rejects(
        loadDataset({ name: 'mnist', dataRoot: root }, 'train'),
        /train-images-idx3-ubyte holds 3 images but .*train-labels-idx1-ubyte holds 2 labels/,
      );
      await rejects(loadDataset({ name: 'mnist', dataRoot: root }, 'test'), /t10k-images-idx3-ubyte: IDX header says \[1, 28, 28\].*truncated/);
      w('t10k-images-idx3-ubyte', Buffer.from('not an idx file at all'));
      await rejects(loadDataset({ name: 'mnist', dataRoot: root }, 'test'), /t10k-images-idx3-ubyte: not an IDX file/);
      w('t10k-images-idx3-ubyte', idx([1, 28, 28], greyPixels(1, 28, 28), false));
      w('t10k-labels-idx1-ubyte', idx([1], Uint8Array.from([10]), false));
      await rejects(loadDataset({ name: 'mnist', dataRoot: root }, 'test'), /t10k-labels-idx1-ubyte: label 0 is 10, outside 0\.\.9/);
    });

    it('finds Debian dataset-fashion-mnist when installed', async function () {
      const sys = '/usr/share/datasets/fashion-mnist';
      if (!fs.existsSync(path.join(sys, 't10k-images-idx3-ubyte.gz'))) this.skip();
      const s = await loadDataset({ name: 'fashion-mnist', dataRoot: tempDir('none') }, 'test', { download: false });
      assert.strictEqual(s.n, 10000);
      assert.deepStrictEqual(s.info.imageSize, [28, 28]);
      assert.strictEqual(new Set(s.labels).size, 10);
    });
  });

  describe('class folders', () => {
    async function writeImage(file: string, i: number, size: number, format: 'png' | 'jpeg', channels = 3): Promise<void> {
      const raw = Buffer.alloc(size * size * channels);
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) for (let c = 0; c < channels; c++) raw[(y * size + x) * channels + c] = pixel(i, y, x, c);
      let img = sharp(raw, { raw: { width: size, height: size, channels: channels as 1 | 3 } });
      if (channels === 1) img = img.toColourspace('b-w');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      await (format === 'png' ? img.png() : img.jpeg({ quality: 100, chromaSubsampling: '4:4:4' })).toFile(file);
    }

    it('PNG folders give exact pixels; classes from sorted folder names', async () => {
      const root = tempDir('folder');
      const ds = path.join(root, 'toy');
      await writeImage(path.join(ds, 'train', 'zebra', 'a.png'), 0, 8, 'png');
      await writeImage(path.join(ds, 'train', 'ant', 'b.png'), 1, 8, 'png');
      await writeImage(path.join(ds, 'train', 'ant', 'a.png'), 2, 8, 'png');
      await writeImage(path.join(ds, 'test', 'zebra', 'c.png'), 3, 8, 'png');
      const cfg = { name: 'folder' as const, dataRoot: root, path: 'toy' };
      const info = datasetInfo(cfg);
      assert.deepStrictEqual(info.classNames, ['ant', 'zebra']);
      assert.deepStrictEqual(info.splits, { train: 3, test: 1 });
      assert.deepStrictEqual(info.imageSize, [8, 8]);
      const train = await loadDataset(cfg, 'train', { quiet: true });
      assert.deepStrictEqual(Array.from(train.labels), [0, 0, 1]); // ant/a, ant/b, zebra/a
      const px = 8 * 8 * 3;
      for (const [k, i] of [
        [0, 2],
        [1, 1],
        [2, 0],
      ]) {
        for (const [y, x, c] of [
          [0, 0, 0],
          [7, 3, 2],
        ])
          assert.strictEqual(train.images[k * px + (y * 8 + x) * 3 + c], pixel(i, y, x, c));
      }
      const test = await loadDataset(cfg, 'test', { quiet: true });
      assert.deepStrictEqual(Array.from(test.labels), [1]);
    });

    it('JPEG (quality 100) folders decode to near-exact pixels; greyscale PNG gives 1 channel', async () => {
      const root = tempDir('jpeg');
      await writeImage(path.join(root, 'j', 'train', 'a', '0.jpg'), 5, 16, 'jpeg');
      await writeImage(path.join(root, 'j', 'test', 'a', '0.jpg'), 5, 16, 'jpeg');
      const s = await loadDataset({ name: 'folder', dataRoot: root, path: 'j' }, 'train', { quiet: true });
      let maxErr = 0;
      for (let y = 0; y < 16; y++)
        for (let x = 0; x < 16; x++)
          for (let c = 0; c < 3; c++) maxErr = Math.max(maxErr, Math.abs(s.images[(y * 16 + x) * 3 + c] - pixel(5, y, x, c)));
      assert.ok(maxErr <= 8, `max JPEG error ${maxErr}`);
      await writeImage(path.join(root, 'g', 'train', 'a', '0.png'), 1, 8, 'png', 1);
      await writeImage(path.join(root, 'g', 'test', 'a', '0.png'), 1, 8, 'png', 1);
      const g = await loadDataset({ name: 'folder', dataRoot: root, path: 'g' }, 'train', { quiet: true });
      assert.strictEqual(g.info.channels, 1);
      assert.strictEqual(g.images[3 * 8 + 4], pixel(1, 3, 4, 0));
    });

    it('corrupt images, wrong sizes and unknown test classes are errors naming the file', async () => {
      const root = tempDir('folder-bad');
      await writeImage(path.join(root, 'a', 'train', 'x', '0.png'), 0, 8, 'png');
      await writeImage(path.join(root, 'a', 'train', 'x', '1.png'), 1, 8, 'png');
      const good = fs.readFileSync(path.join(root, 'a', 'train', 'x', '1.png'));
      fs.writeFileSync(path.join(root, 'a', 'train', 'x', '1.png'), good.subarray(0, good.length - 40));
      await writeImage(path.join(root, 'a', 'test', 'x', '0.png'), 0, 8, 'png');
      await rejects(loadDataset({ name: 'folder', dataRoot: root, path: 'a' }, 'train', { quiet: true }), /x\/1\.png: cannot decode image/);
      await writeImage(path.join(root, 'a', 'train', 'x', '1.png'), 1, 12, 'png');
      await rejects(
        loadDataset({ name: 'folder', dataRoot: root, path: 'a' }, 'train', { quiet: true }),
        /x\/1\.png: image is 12x12x3, expected 8x8x3.*resize/,
      );
      const ok = await loadDataset({ name: 'folder', dataRoot: root, path: 'a', resize: 8 }, 'train', { quiet: true });
      assert.strictEqual(ok.n, 2);
      await writeImage(path.join(root, 'a', 'test', 'y', '0.png'), 0, 8, 'png');
      await rejects(
        loadDataset({ name: 'folder', dataRoot: root, path: 'a' }, 'test', { quiet: true }),
        /class folder\(s\) y that are not in the train split/,
      );
      await rejects(loadDataset({ name: 'folder', dataRoot: root, path: 'nope' }, 'train'), /dataset 'folder' not found; searched .*nope/);
    });
  });

  describe('synthetic and subsets', () => {
    it('synthetic: shapes, balanced labels, seeded, 1 or 3 channels', async () => {
      const cfg = { name: 'synthetic' as const, synthetic: { perClass: 5, testPerClass: 2, size: 12, classes: 4, channels: 3 }, seed: 3 };
      const a = await loadDataset(cfg, 'train');
      assert.strictEqual(a.n, 20);
      assert.strictEqual(a.images.length, 20 * 12 * 12 * 3);
      assert.deepStrictEqual(
        [0, 1, 2, 3].map((c) => a.labels.filter((l) => l === c).length),
        [5, 5, 5, 5],
      );
      const b = await loadDataset(cfg, 'train');
      assert.deepStrictEqual(b.images, a.images);
      const c = await loadDataset({ ...cfg, seed: 4 }, 'train');
      assert.notDeepStrictEqual(c.images, a.images);
      const t = await loadDataset(cfg, 'test');
      assert.strictEqual(t.n, 8);
      const g = await loadDataset({ name: 'synthetic', synthetic: { channels: 1, size: 16, perClass: 2, classes: 3 } }, 'train');
      assert.strictEqual(g.info.channels, 1);
      assert.strictEqual(g.images.length, 6 * 16 * 16);
      assert.deepStrictEqual(datasetInfo(cfg).splits, { train: 20, test: 8 });
    });

    it("synthetic colour 'random': the class is the shape; colour predicts it only in 'class' mode", async () => {
      // Nearest class centroid on each image's foreground chromaticity (mean r, g, b / (r + g + b)
      // over its bright pixels), fitted on train, scored on test.
      const colourAccuracy = async (colour: 'class' | 'random') => {
        const cfg = { name: 'synthetic' as const, synthetic: { perClass: 40, testPerClass: 40, size: 16, classes: 8, channels: 3, colour }, seed: 5 };
        const [tr, te] = [await loadDataset(cfg, 'train'), await loadDataset(cfg, 'test')];
        const meanRgb = (set: typeof tr, i: number) => {
          const m = [0, 0, 0];
          for (let p = i * 256 * 3; p < (i + 1) * 256 * 3; p += 3) {
            const px = [set.images[p], set.images[p + 1], set.images[p + 2]];
            if (Math.max(...px) > 115)
              px.forEach((v, ch) => {
                m[ch] += v;
              });
          }
          const sum = m[0] + m[1] + m[2] || 1;
          return m.map((v) => v / sum);
        };
        const centroids = Array.from({ length: 8 }, () => [0, 0, 0]);
        for (let i = 0; i < tr.n; i++)
          meanRgb(tr, i).forEach((v, ch) => {
            centroids[tr.labels[i]][ch] += v / 40;
          });
        let right = 0;
        for (let i = 0; i < te.n; i++) {
          const m = meanRgb(te, i);
          const d = centroids.map((c) => c.reduce((s, v, ch) => s + (v - m[ch]) ** 2, 0));
          if (d.indexOf(Math.min(...d)) === te.labels[i]) right++;
        }
        return { accuracy: right / te.n, names: tr.info.classNames };
      };
      const byClass = await colourAccuracy('class');
      const byShape = await colourAccuracy('random');
      console.log(`      foreground-colour nearest-centroid accuracy: class ${byClass.accuracy}, random ${byShape.accuracy}`);
      assert.ok(byClass.accuracy > 0.9, `'class' mode: mean colour should give the class away, got ${byClass.accuracy}`);
      assert.ok(byShape.accuracy < 0.25, `'random' mode: mean colour should be near chance (0.125), got ${byShape.accuracy}`);
      assert.deepStrictEqual(byShape.names, ['disk', 'square', 'triangle', 'ring', 'cross', 'stripes', 'diamond', 'checker']);
      const hollow = await loadDataset(
        { name: 'synthetic', synthetic: { perClass: 1, testPerClass: 1, size: 16, classes: 16, colour: 'random' } },
        'train',
      );
      assert.strictEqual(hollow.info.classNames[9], 'square-hollow');
      await assert.rejects(
        loadDataset({ name: 'synthetic', synthetic: { classes: 17, colour: 'random' } }, 'train'),
        /synthetic.classes must be 2..16 with colour 'random', got 17/,
      );
      await assert.rejects(
        loadDataset({ name: 'synthetic', synthetic: { colour: 'hue' as never } }, 'train'),
        /synthetic.colour must be 'class' or 'random', got "hue"/,
      );
    });

    it('trainSubset / testSubset are seeded and class-balanced', async () => {
      const cfg = {
        name: 'synthetic' as const,
        synthetic: { perClass: 10, testPerClass: 10, size: 8, classes: 4 },
        trainSubset: 12,
        testSubset: 6,
        seed: 1,
      };
      const s = await loadDataset(cfg, 'train');
      assert.strictEqual(s.n, 12);
      assert.deepStrictEqual(
        [0, 1, 2, 3].map((c) => s.labels.filter((l) => l === c).length),
        [3, 3, 3, 3],
      );
      const t = await loadDataset(cfg, 'test');
      assert.strictEqual(t.n, 6);
      const labels = Int32Array.from({ length: 40 }, (_, i) => i % 4);
      assert.deepStrictEqual(classBalancedSubset(labels, 4, 10, 5), classBalancedSubset(labels, 4, 10, 5));
      assert.notDeepStrictEqual(classBalancedSubset(labels, 4, 10, 5), classBalancedSubset(labels, 4, 10, 6));
      // Not sorted by class: a folder dataset lists its images class by class.
      const byClass = Int32Array.from({ length: 400 }, (_, i) => Math.floor(i / 100));
      const sub = classBalancedSubset(byClass, 4, 40, 0);
      assert.equal(new Set(sub).size, 40);
      assert.equal(new Set(Array.from(sub.subarray(0, 8), (i) => byClass[i])).size > 1, true, 'the first 8 are not one class');
      assert.notDeepStrictEqual(
        Array.from(sub),
        Array.from(sub).sort((a, b) => a - b),
        'not in the dataset order',
      );
    });
  });
});
