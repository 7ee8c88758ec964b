import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { datasetInfo, loadDataset } from '../src/data';
import { validateConfig, ablation } from '../src/experiments';
import { tempDir } from './data-fixtures';

/** An 8x8 PNG of one colour; `channels` 1 (grey), 3 (RGB) or 4 (RGBA, alpha 128). */
async function png(file: string, rgb: [number, number, number], channels: 1 | 3 | 4): Promise<void> {
  const n = 64;
  const raw = Buffer.alloc(n * channels);
  for (let i = 0; i < n; i++) {
    if (channels === 1) raw[i] = rgb[0];
    else for (let c = 0; c < channels; c++) raw[i * channels + c] = c < 3 ? rgb[c] : 128;
  }
  let img = sharp(raw, { raw: { width: 8, height: 8, channels } });
  if (channels === 1) img = img.toColourspace('b-w');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await img.png().toFile(file);
}

/** Captures what is written to stderr while `f` runs. */
async function stderrOf<T>(f: () => Promise<T>): Promise<{ value: T; text: string }> {
  const orig = process.stderr.write.bind(process.stderr);
  let text = '';
  (process.stderr as unknown as { write: (s: string) => boolean }).write = (s: string) => {
    text += s;
    return true;
  };
  try {
    return { value: await f(), text };
  } finally {
    (process.stderr as unknown as { write: typeof orig }).write = orig;
  }
}

describe('data: channels are decided per dataset, not from the first image', () => {
  it('a grey first image does not make train 1-channel while test is 3; grey and RGBA images are converted, said once', async () => {
    const root = tempDir('channels');
    const ds = path.join(root, 'mixed');
    await png(path.join(ds, 'train', 'a', '0.png'), [90, 90, 90], 1); // first in sort order
    await png(path.join(ds, 'train', 'a', '1.png'), [10, 20, 30], 3);
    await png(path.join(ds, 'train', 'b', '0.png'), [200, 100, 50], 4);
    await png(path.join(ds, 'train', 'b', '1.png'), [40, 50, 60], 3);
    await png(path.join(ds, 'test', 'a', '0.png'), [1, 2, 3], 3);
    await png(path.join(ds, 'test', 'b', '0.png'), [4, 5, 6], 3);
    const cfg = { name: 'folder' as const, dataRoot: root, path: 'mixed' };
    assert.equal(datasetInfo(cfg).channels, 3);
    const { value: train, text } = await stderrOf(() => loadDataset(cfg, 'train'));
    const { value: test, text: text2 } = await stderrOf(() => loadDataset(cfg, 'test'));
    assert.equal(train.info.channels, 3);
    assert.equal(test.info.channels, 3);
    assert.equal(train.images.length, 4 * 64 * 3);
    assert.deepEqual(Array.from(train.images.subarray(0, 3)), [90, 90, 90], 'grey replicated to RGB');
    assert.deepEqual(Array.from(train.images.subarray(2 * 192, 2 * 192 + 3)), [200, 100, 50], 'RGBA: alpha dropped, colour kept');
    const notes = (text + text2).split('\n').filter((l) => l.includes('images are loaded with'));
    assert.equal(notes.length, 1, `said once: ${text + text2}`);
    assert.match(
      notes[0],
      /images are loaded with 3 channels \(the majority of 6: 5 colour, 1 grey, 1 with alpha\); 2 converted \(grey to RGB, alpha dropped\)/,
    );
  });

  it('a mostly grey dataset loads 1-channel in both splits; dataset.channels overrides the majority', async () => {
    const root = tempDir('channels-grey');
    const ds = path.join(root, 'g');
    await png(path.join(ds, 'train', 'a', '0.png'), [10, 20, 30], 3); // colour first in sort order
    await png(path.join(ds, 'train', 'a', '1.png'), [70, 70, 70], 1);
    await png(path.join(ds, 'train', 'b', '0.png'), [80, 80, 80], 1);
    await png(path.join(ds, 'test', 'a', '0.png'), [90, 90, 90], 1);
    const cfg = { name: 'folder' as const, dataRoot: root, path: 'g' };
    const { value: train } = await stderrOf(() => loadDataset(cfg, 'train'));
    const test = await loadDataset(cfg, 'test', { quiet: true });
    assert.deepEqual([train.info.channels, test.info.channels, datasetInfo(cfg).channels], [1, 1, 1]);
    assert.equal(train.images.length, 3 * 64);
    assert.equal(train.images[64], 70);
    const rgb = await loadDataset({ ...cfg, channels: 3 }, 'train', { quiet: true });
    assert.equal(rgb.info.channels, 3);
    assert.deepEqual(Array.from(rgb.images.subarray(0, 3)), [10, 20, 30]);
    assert.deepEqual(Array.from(rgb.images.subarray(192, 195)), [70, 70, 70]);
    assert.equal(datasetInfo({ ...cfg, channels: 3 }).channels, 3);
  });

  it('dataset.channels is validated and refused for datasets it does not apply to', () => {
    const base = ablation('moco-queue', 'smoke').base;
    assert.throws(() => validateConfig({ ...base, dataset: { name: 'folder', path: 'x', channels: 2 } }), /dataset\.channels must be 1 or 3, got 2/);
    assert.throws(() => validateConfig({ ...base, dataset: { name: 'mnist', channels: 3 } }), /dataset\.channels applies to class-folder datasets/);
    validateConfig({ ...base, dataset: { name: 'folder', path: 'x', channels: 1 } });
  });
});
