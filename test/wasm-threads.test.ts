/** The multi-threaded wasm backend in Node (src/backend/wasm-threads.ts). */
import * as assert from 'node:assert';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/init';
import { useThreadedWasm } from '../src/backend/wasm-threads';

describe('threaded wasm backend', function () {
  this.timeout(300000);

  it('starts with 2 XNNPACK threads, passes the self-test and matches cpu conv gradients', () => {
    const script = path.join(__dirname, 'helpers', 'threaded-wasm-check.ts');
    const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', script], {
      cwd: path.join(__dirname, '..'),
      encoding: 'utf8',
      timeout: 240000,
    });
    assert.strictEqual(r.status, 0, `child failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
    const line = r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop();
    assert.ok(line, `no JSON result in: ${r.stdout}`);
    const out = JSON.parse(line) as { backend: string; threads: number; relErr: number[] };
    assert.strictEqual(out.backend, 'wasm');
    assert.strictEqual(out.threads, 2);
    out.relErr.forEach((e, i) => {
      assert.ok(e < 1e-4, `${['conv2d', 'dx', 'dw'][i]} relative error ${e}`);
    });
  });

  it('refuses to switch once the wasm backend has started', async () => {
    await initBackend('wasm', { quiet: true });
    assert.strictEqual(tf.getBackend(), 'wasm');
    await assert.rejects(useThreadedWasm(2), /already initialised/);
    await assert.rejects(useThreadedWasm(0), /threads must be an integer >= 1/);
  });
});
