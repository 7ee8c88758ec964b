/**
 * The whole GPU path end to end, as a user runs it: `cwb sweep moco-queue --budget smoke --backend
 * webgpu` (training, kNN monitor, linear probe, alignment/uniformity, embeddings, confusion,
 * summaries, CSV) and the quickstart notebook at the smoke budget on webgpu; and the backend
 * choice a user expects on a machine whose only adapter is a software one.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeAdapter, probeWebgpuAdapter, softwareAdapterReason } from '../src/backend/init';
import { NATIVE_NOISE } from '../src/backend/native-stderr';
import { requireWebgpu } from './webgpu-helpers';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'src', 'cli.ts');

function cwb(args: string[], env: Record<string, string | undefined> = {}, preload: string[] = []) {
  const r = spawnSync(process.execPath, [...preload.flatMap((p) => ['--require', p]), '--require', require.resolve('tsx/cjs'), CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CWB_VERBOSE: undefined, ...env },
    timeout: 15 * 60_000,
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A preload that makes @tensorflow/tfjs-node(-gpu) unresolvable, as on a machine without them. */
function hideNativePreload(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-hide-')), 'hide-tfjs-node.js');
  fs.writeFileSync(
    file,
    `const M = require('module'); const r = M._resolveFilename;
     M._resolveFilename = function (req, ...a) {
       if (/^@tensorflow\\/tfjs-node(-gpu)?(\\/|$)/.test(req)) { const e = new Error("Cannot find module '" + req + "'"); e.code = 'MODULE_NOT_FOUND'; throw e; }
       return r.call(this, req, ...a);
     };`,
  );
  return file;
}

const noiseLines = (stderr: string) => stderr.split('\n').filter((l) => NATIVE_NOISE.test(l));

describe('webgpu: software adapters and native messages', () => {
  it('a software or fallback adapter is recognised, a GPU is not', () => {
    assert.match(
      softwareAdapterReason({ vendor: 'mesa', architecture: 'software', device: 'llvmpipe', description: 'llvmpipe: Mesa 25.0.7' }),
      /software/,
    );
    assert.match(softwareAdapterReason({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }), /llvmpipe/);
    assert.match(softwareAdapterReason({ vendor: 'google', device: 'SwiftShader Device (Subzero)' }), /SwiftShader/i);
    assert.match(softwareAdapterReason({ vendor: 'nvidia', isFallbackAdapter: true }), /fallback/);
    assert.equal(softwareAdapterReason({ vendor: 'nvidia', architecture: 'hopper', device: '0x2335', description: 'NVIDIA H200' }), '');
    assert.equal(softwareAdapterReason({ vendor: 'apple', architecture: 'metal-3', description: 'Apple M2' }), '');
  });

  it("Dawn's and the Vulkan loader's lines are told apart from the workbench's", () => {
    for (const l of [
      'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.',
      'Warning: vkCreateInstance: Found no drivers!',
      '    at CheckVkSuccessImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/VulkanError.cpp:106)',
    ])
      assert.ok(NATIVE_NOISE.test(l), l);
    for (const l of [
      '[cwb] backend: webgpu (mesa ...)',
      'moco-queue-smoke: 6/6 runs complete in 146.5 s',
      'cwb: backend ...',
      '(node:123) Warning: something',
    ])
      assert.ok(!NATIVE_NOISE.test(l), l);
  });
});

describe('webgpu: end to end', function () {
  this.timeout(30 * 60_000);
  before(async function () {
    await requireWebgpu(this);
  });

  it('on a machine whose only adapter is software, auto chooses a CPU backend and says why webgpu was skipped', function () {
    const info = probeWebgpuAdapter();
    if (!softwareAdapterReason(info)) this.skip(); // a real GPU: auto rightly takes it
    const r = cwb(['info'], { CWB_BACKEND: undefined }, [hideNativePreload()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^backend: +wasm$/m);
    const line = r.stdout.split('\n').find((l) => /^skipped: +webgpu: /.test(l));
    assert.ok(line, `no line on webgpu in:\n${r.stdout}`);
    assert.match(line!, /software/);
    assert.ok(line!.includes(describeAdapter(info)), line);
    assert.deepEqual(noiseLines(r.stderr), [], 'Dawn/Vulkan messages without CWB_VERBOSE');
  });

  it('cwb sweep moco-queue --budget smoke --backend webgpu completes: every evaluation, summaries, CSV; no Dawn noise', () => {
    const results = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-webgpu-sweep-'));
    try {
      const t0 = Date.now();
      const r = cwb(['sweep', 'moco-queue', '--budget', 'smoke', '--backend', 'webgpu', '--results-dir', results, '--quiet']);
      // eslint-disable-next-line no-console
      console.log(`      moco-queue smoke sweep on webgpu: exit ${r.code} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      assert.equal(r.code, 0, r.stderr.slice(-3000));
      assert.match(r.stderr, /backend: webgpu/);
      assert.deepEqual(noiseLines(r.stderr), [], 'Dawn/Vulkan messages without CWB_VERBOSE');
      const exp = path.join(results, 'moco-queue-smoke');
      const [header, ...rows] = fs.readFileSync(path.join(exp, 'results.csv'), 'utf8').trim().split('\n');
      const cols = header.split(',');
      const col = (row: string, name: string) => row.split(',')[cols.indexOf(name)];
      assert.equal(rows.length, 6, `6 grid points, got ${rows.length}`);
      for (const row of rows) {
        assert.equal(col(row, 'status'), 'complete', row);
        assert.equal(col(row, 'backend'), 'webgpu', row);
        for (const m of ['knnAcc', 'linearAcc', 'alignment', 'uniformity', 'finalLoss']) {
          assert.ok(Number.isFinite(Number(col(row, m))), `${m} = '${col(row, m)}' in ${row}`);
        }
        const runDir = path.join(exp, col(row, 'runId'));
        for (const f of ['summary.json', 'metrics.jsonl', 'embeddings.json', 'confusion.json']) {
          assert.ok(fs.existsSync(path.join(runDir, f)), `${runDir}/${f}`);
        }
        const emb = JSON.parse(fs.readFileSync(path.join(runDir, 'embeddings.json'), 'utf8'));
        assert.ok(emb.points.length > 0 && emb.points.every((p: number[]) => p.every(Number.isFinite)), 'PCA points');
      }
    } finally {
      fs.rmSync(results, { recursive: true, force: true });
    }
  });

  it('the quickstart notebook executes at the smoke budget on webgpu', function () {
    const py = spawnSync('python3', ['-c', 'import nbclient, nbconvert'], { encoding: 'utf8' });
    if (py.status !== 0) {
      if (process.env.CI === 'true') assert.fail(`CI needs Jupyter (requirements.txt): ${py.stderr}`);
      this.skip();
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-webgpu-nb-'));
    try {
      const t0 = Date.now();
      const r = spawnSync('bash', [path.join(ROOT, 'notebooks', 'run.sh'), '00_quickstart'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: {
          ...process.env,
          CWB_BUDGET: 'smoke',
          CWB_BACKEND: 'webgpu',
          CWB_NB_OUT: work,
          CWB_RESULTS_DIR: path.join(work, 'results'),
          CWB_CELL_TIMEOUT: '900',
        },
        maxBuffer: 64 * 1024 * 1024,
      });
      // eslint-disable-next-line no-console
      console.log(`      00_quickstart at smoke on webgpu: exit ${r.status} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`.slice(-3000));
      const nb = JSON.parse(fs.readFileSync(path.join(work, '00_quickstart.ipynb'), 'utf8')) as {
        cells: { outputs?: { output_type: string; text?: string | string[]; data?: Record<string, unknown> }[] }[];
      };
      const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
      assert.deepEqual(
        outputs.filter((o) => o.output_type === 'error'),
        [],
        'error outputs',
      );
      const text = outputs.map((o) => [o.text ?? '', ...Object.values(o.data ?? {}).filter((v) => typeof v === 'string')].flat().join('')).join('\n');
      assert.match(text, /webgpu/, 'the notebook reports the webgpu backend');
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
