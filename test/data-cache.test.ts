/** The decoded-image cache: used on the second load, rebuilt when the source changes, placed sensibly. */
import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { loadDataset } from '../src/data';
import { loadFolderSplit } from '../src/data/image-folder';
import { cacheDirFor } from '../src/data/paths';
import { initBackend } from '../src/backend/init';
import { tempDir } from './data-fixtures';

async function png(file: string, value: number, size = 8): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(Buffer.alloc(size * size * 3, value), { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toFile(file);
}

async function makeFolder(root: string): Promise<string> {
  const ds = path.join(root, 'ds');
  for (const [cls, v] of [
    ['a', 10],
    ['b', 20],
  ] as const) {
    for (let i = 0; i < 3; i++) await png(path.join(ds, 'train', cls, `${i}.png`), v + i);
    await png(path.join(ds, 'test', cls, '0.png'), v + 100);
  }
  return ds;
}

describe('data cache', () => {
  before(async () => {
    await initBackend('cpu', { quiet: true });
  });

  it('is written next to the data, used on the second load and rebuilt when a file changes or is added', async () => {
    const root = tempDir('cache');
    const ds = await makeFolder(root);
    const first = await loadFolderSplit(ds, 'train', { dataRoot: root, quiet: true });
    assert.strictEqual(first.fromCache, false);
    assert.strictEqual(path.dirname(first.cacheFile), path.join(ds, '.cwb-cache'));
    assert.ok(fs.existsSync(first.cacheFile));
    const second = await loadFolderSplit(ds, 'train', { dataRoot: root, quiet: true });
    assert.strictEqual(second.fromCache, true);
    assert.deepStrictEqual(second.images, first.images);
    assert.deepStrictEqual(second.labels, first.labels);
    // Change one image: new content, new size/mtime -> rebuilt with the new pixels.
    await png(path.join(ds, 'train', 'b', '1.png'), 77);
    const future = new Date(Date.now() + 5000);
    fs.utimesSync(path.join(ds, 'train', 'b', '1.png'), future, future);
    const third = await loadFolderSplit(ds, 'train', { dataRoot: root, quiet: true });
    assert.strictEqual(third.fromCache, false);
    assert.strictEqual(third.images[4 * 8 * 8 * 3], 77);
    await png(path.join(ds, 'train', 'b', '3.png'), 5);
    const fourth = await loadFolderSplit(ds, 'train', { dataRoot: root, quiet: true });
    assert.strictEqual(fourth.fromCache, false);
    assert.strictEqual(fourth.n, 7);
    // A resized load has its own cache file.
    const resized = await loadFolderSplit(ds, 'train', { dataRoot: root, quiet: true, resize: 4 });
    assert.notStrictEqual(resized.cacheFile, fourth.cacheFile);
    assert.strictEqual(resized.h, 4);
    assert.strictEqual((await loadFolderSplit(ds, 'train', { dataRoot: root, quiet: true })).fromCache, true);
  });

  it('a corrupt or truncated cache is rebuilt, not trusted', async () => {
    const root = tempDir('cache-corrupt');
    const ds = await makeFolder(root);
    const a = await loadFolderSplit(ds, 'test', { dataRoot: root, quiet: true });
    const bytes = fs.readFileSync(a.cacheFile);
    fs.writeFileSync(a.cacheFile, bytes.subarray(0, bytes.length - 3));
    const b = await loadFolderSplit(ds, 'test', { dataRoot: root, quiet: true });
    assert.strictEqual(b.fromCache, false);
    assert.deepStrictEqual(b.images, a.images);
    assert.strictEqual(fs.statSync(b.cacheFile).size, bytes.length);
  });

  it('a read-only source puts the cache in $CWB_CACHE_DIR, else <dataRoot>/.cache', async () => {
    const root = tempDir('cache-ro');
    const ds = await makeFolder(root);
    const chmodTree = (dir: string, mode: number) => {
      fs.chmodSync(dir, mode);
      for (const d of fs.readdirSync(dir, { withFileTypes: true })) if (d.isDirectory()) chmodTree(path.join(dir, d.name), mode);
    };
    chmodTree(ds, 0o555);
    const saved = process.env.CWB_CACHE_DIR;
    try {
      process.env.CWB_CACHE_DIR = path.join(root, 'my-cache');
      const dir = cacheDirFor(ds, root);
      assert.ok(dir.startsWith(path.join(root, 'my-cache', 'ds-')), dir);
      const s = await loadFolderSplit(ds, 'test', { dataRoot: root, quiet: true });
      assert.ok(s.cacheFile.startsWith(dir));
      assert.ok(!fs.existsSync(path.join(ds, '.cwb-cache')), 'nothing written into the read-only source');
      delete process.env.CWB_CACHE_DIR;
      assert.ok(cacheDirFor(ds, root).startsWith(path.join(root, '.cache', 'ds-')));
    } finally {
      if (saved === undefined) delete process.env.CWB_CACHE_DIR;
      else process.env.CWB_CACHE_DIR = saved;
      chmodTree(ds, 0o755);
    }
  });

  it('a failed build (corrupt image) leaves no cache and no temporary file', async () => {
    const root = tempDir('cache-fail');
    const ds = await makeFolder(root);
    fs.writeFileSync(path.join(ds, 'test', 'b', '0.png'), Buffer.from('garbage, not a png'));
    await assert.rejects(loadDataset({ name: 'folder', dataRoot: root, path: 'ds' }, 'test', { quiet: true }), /b\/0\.png: cannot decode image/);
    const cacheDir = path.join(ds, '.cwb-cache');
    const left = fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir) : [];
    assert.deepStrictEqual(left, []);
  });
});
