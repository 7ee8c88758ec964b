/** Downloads (resume, checksum, cut-off connections), tar extraction and the download-on-demand path. */
import * as assert from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { DATASET_SOURCES, downloadFile, extractTar, loadDataset, readTar } from '../src/data';
import { initBackend } from '../src/backend/init';
import { cifarRecords, greyPixels, idx, tempDir } from './data-fixtures';

interface Server {
  url: string;
  ranges: (string | undefined)[];
  close(): Promise<void>;
  /** Behaviour switches. */
  ignoreRange: boolean;
  cutAfter?: number;
}

async function serve(files: Record<string, Buffer>): Promise<Server> {
  const state = { ranges: [] as (string | undefined)[], ignoreRange: false, cutAfter: undefined as number | undefined };
  const server = http.createServer((req, res) => {
    const body = files[req.url ?? ''];
    if (!body) {
      res.statusCode = 404;
      res.end();
      return;
    }
    state.ranges.push(req.headers.range);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (m && !state.ignoreRange) {
      start = Number(m[1]);
      res.statusCode = 206;
      res.setHeader('content-range', `bytes ${start}-${body.length - 1}/${body.length}`);
    }
    res.setHeader('content-length', body.length - start);
    const chunk = body.subarray(start);
    if (state.cutAfter !== undefined) {
      res.write(chunk.subarray(0, state.cutAfter), () => res.destroy());
      return;
    }
    res.end(chunk);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const s = {
    url: `http://127.0.0.1:${port}`,
    get ranges() {
      return state.ranges;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
    get ignoreRange() {
      return state.ignoreRange;
    },
    set ignoreRange(v: boolean) {
      state.ignoreRange = v;
    },
    get cutAfter() {
      return state.cutAfter;
    },
    set cutAfter(v: number | undefined) {
      state.cutAfter = v;
    },
  };
  return s;
}

const md5 = (b: Buffer) => crypto.createHash('md5').update(b).digest('hex');

describe('data download', () => {
  const payload = crypto.randomBytes(300_000);
  let srv: Server;
  before(async () => {
    await initBackend('cpu', { quiet: true });
    srv = await serve({ '/f.bin': payload });
  });
  after(() => srv.close());

  it('downloads with an md5 check and leaves only the final file', async () => {
    const dir = tempDir('dl');
    const dest = path.join(dir, 'f.bin');
    await downloadFile(`${srv.url}/f.bin`, dest, { md5: md5(payload), quiet: true });
    assert.ok(fs.readFileSync(dest).equals(payload));
    assert.deepStrictEqual(fs.readdirSync(dir), ['f.bin']);
  });

  it('resumes a partial download with an HTTP Range request (and copes with servers that ignore it)', async () => {
    const dir = tempDir('dl-resume');
    const dest = path.join(dir, 'f.bin');
    fs.writeFileSync(`${dest}.part`, payload.subarray(0, 123_456));
    srv.ranges.length = 0;
    await downloadFile(`${srv.url}/f.bin`, dest, { md5: md5(payload), quiet: true });
    assert.deepStrictEqual(srv.ranges, ['bytes=123456-']);
    assert.ok(fs.readFileSync(dest).equals(payload));
    const dest2 = path.join(dir, 'g.bin');
    fs.writeFileSync(`${dest2}.part`, payload.subarray(0, 1000));
    srv.ignoreRange = true;
    try {
      await downloadFile(`${srv.url}/f.bin`, dest2, { md5: md5(payload), quiet: true });
    } finally {
      srv.ignoreRange = false;
    }
    assert.ok(fs.readFileSync(dest2).equals(payload));
  });

  it('a cut-off transfer leaves no final file, and the next call resumes it', async () => {
    const dir = tempDir('dl-cut');
    const dest = path.join(dir, 'f.bin');
    srv.cutAfter = 100_000;
    try {
      await assert.rejects(downloadFile(`${srv.url}/f.bin`, dest, { md5: md5(payload), quiet: true }), /resume/);
    } finally {
      srv.cutAfter = undefined;
    }
    assert.ok(!fs.existsSync(dest));
    assert.ok(fs.statSync(`${dest}.part`).size > 0);
    srv.ranges.length = 0;
    await downloadFile(`${srv.url}/f.bin`, dest, { md5: md5(payload), quiet: true });
    assert.match(String(srv.ranges[0]), /^bytes=\d+-$/);
    assert.ok(fs.readFileSync(dest).equals(payload));
  });

  it('a checksum mismatch deletes the partial file and names the URL', async () => {
    const dir = tempDir('dl-md5');
    const dest = path.join(dir, 'f.bin');
    await assert.rejects(
      downloadFile(`${srv.url}/f.bin`, dest, { md5: '0'.repeat(32), quiet: true }),
      /checksum mismatch for http:.*f\.bin: md5 [0-9a-f]{32}, expected 0{32}/,
    );
    assert.deepStrictEqual(fs.readdirSync(dir), []);
    await assert.rejects(downloadFile(`${srv.url}/missing`, dest, { quiet: true }), /answered HTTP 404/);
  });

  it('reads and extracts tar.gz archives atomically; refuses entries outside the expected folder', () => {
    const dir = tempDir('tar');
    fs.mkdirSync(path.join(dir, 'src', 'top', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'src', 'top', 'a.txt'), 'hello');
    fs.writeFileSync(path.join(dir, 'src', 'top', 'sub', `${'long-name-'.repeat(12)}.bin`), Buffer.from([1, 2, 3]));
    execFileSync('tar', ['czf', path.join(dir, 'x.tar.gz'), '-C', path.join(dir, 'src'), 'top']);
    const entries = readTar(path.join(dir, 'x.tar.gz')).filter((e) => e.type === 'file');
    assert.deepStrictEqual(entries.map((e) => e.name).sort(), ['top/a.txt', `top/sub/${'long-name-'.repeat(12)}.bin`]);
    const out = extractTar(path.join(dir, 'x.tar.gz'), path.join(dir, 'dest'), 'top');
    assert.strictEqual(fs.readFileSync(path.join(out, 'a.txt'), 'utf8'), 'hello');
    assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'dest')), ['top']);
    assert.throws(() => extractTar(path.join(dir, 'x.tar.gz'), path.join(dir, 'dest2'), 'other'), /outside the expected folder 'other\/'/);
    assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'dest2')), [], 'no partial extraction left');
    const gz = fs.readFileSync(path.join(dir, 'x.tar.gz'));
    fs.writeFileSync(path.join(dir, 'cut.tar.gz'), gz.subarray(0, gz.length >> 1));
    assert.throws(() => readTar(path.join(dir, 'cut.tar.gz')), /cut\.tar\.gz: gzip data is corrupt or truncated/);
  });

  it('loadDataset downloads, checks and extracts a missing CIFAR-10 archive, then loads it', async () => {
    const dir = tempDir('dl-cifar');
    const src = path.join(dir, 'src', 'cifar-10-batches-bin');
    fs.mkdirSync(src, { recursive: true });
    for (let b = 1; b <= 5; b++) fs.writeFileSync(path.join(src, `data_batch_${b}.bin`), cifarRecords([[b]]));
    fs.writeFileSync(path.join(src, 'test_batch.bin'), cifarRecords([[7], [8]]));
    execFileSync('tar', ['czf', path.join(dir, 'c.tar.gz'), '-C', path.join(dir, 'src'), 'cifar-10-batches-bin']);
    const archive = fs.readFileSync(path.join(dir, 'c.tar.gz'));
    const local = await serve({ '/cifar-10-binary.tar.gz': archive });
    const original = DATASET_SOURCES.cifar10.files[0];
    DATASET_SOURCES.cifar10.files[0] = { ...original, urls: [`${local.url}/cifar-10-binary.tar.gz`], md5: md5(archive) };
    try {
      const root = path.join(dir, 'root');
      const test = await loadDataset({ name: 'cifar10', dataRoot: root }, 'test', { quiet: true, download: true });
      assert.deepStrictEqual(Array.from(test.labels), [7, 8]);
      assert.ok(fs.existsSync(path.join(root, 'cifar-10-batches-bin', 'data_batch_5.bin')));
      // A wrong checksum: the error names the paths searched, the checksum failure and the URL to use.
      DATASET_SOURCES.cifar10.files[0] = { ...original, urls: [`${local.url}/cifar-10-binary.tar.gz`], md5: 'f'.repeat(32) };
      await assert.rejects(
        loadDataset({ name: 'cifar10', dataRoot: path.join(dir, 'root2') }, 'test', { quiet: true, download: true }),
        /dataset 'cifar10' not found; searched .*root2\/cifar-10-batches-bin.*checksum mismatch.*To get it: download http/,
      );
    } finally {
      DATASET_SOURCES.cifar10.files[0] = original;
      await local.close();
    }
  });

  it('loadDataset downloads missing MNIST IDX files into <dataRoot>/mnist', async function () {
    if (fs.existsSync('/usr/share/datasets/mnist')) {
      console.log('      (skipped: /usr/share/datasets/mnist exists and would be found before downloading)');
      this.skip();
    }
    const files: Record<string, Buffer> = {
      'train-images-idx3-ubyte.gz': idx([3, 28, 28], greyPixels(3, 28, 28), true),
      'train-labels-idx1-ubyte.gz': idx([3], Uint8Array.from([2, 0, 9]), true),
      't10k-images-idx3-ubyte.gz': idx([1, 28, 28], greyPixels(1, 28, 28), true),
      't10k-labels-idx1-ubyte.gz': idx([1], Uint8Array.from([5]), true),
    };
    const local = await serve(Object.fromEntries(Object.entries(files).map(([f, b]) => [`/${f}`, b])));
    const original = DATASET_SOURCES.mnist.files;
    DATASET_SOURCES.mnist.files = original.map((f) => ({ ...f, urls: [`${local.url}/${f.file}`], md5: md5(files[f.file]) }));
    try {
      const root = tempDir('dl-fmnist');
      const train = await loadDataset({ name: 'mnist', dataRoot: root }, 'train', { quiet: true, download: true });
      assert.deepStrictEqual(Array.from(train.labels), [2, 0, 9]);
      assert.deepStrictEqual(fs.readdirSync(path.join(root, 'mnist')).sort(), Object.keys(files).sort());
      const test = await loadDataset({ name: 'mnist', dataRoot: root }, 'test', { quiet: true, download: true });
      assert.deepStrictEqual(Array.from(test.labels), [5]);
    } finally {
      DATASET_SOURCES.mnist.files = original;
      await local.close();
    }
  });

  it('data/manifest.json matches the sources in src/data/manifest.ts', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'data', 'manifest.json'), 'utf8'));
    assert.deepStrictEqual(manifest.datasets, JSON.parse(JSON.stringify(DATASET_SOURCES)));
    assert.strictEqual(DATASET_SOURCES.cifar10.files[0].md5, 'c32a1d4ab5d03f1284b67883e8d87530');
    assert.strictEqual(DATASET_SOURCES.cifar100.files[0].md5, '03b5dce01913d631647c71ecec9e9cb8');
  });
});
