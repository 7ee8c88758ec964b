import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BACKEND_ORDER } from '../src/backend/init';
import { ablation, applyOverrides } from '../src/experiments';

const ROOT = path.resolve(__dirname, '..');
const NODE_ARGS = ['--require', require.resolve('tsx/cjs')];
const CLI = path.join(ROOT, 'src', 'cli.ts');

function cwb(args: string[], env: Record<string, string | undefined> = {}, preload: string[] = []) {
  const r = spawnSync(process.execPath, [...preload.flatMap((p) => ['--require', p]), ...NODE_ARGS, CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cli: cwb', () => {
  it('cwb info --json prints the backend report', () => {
    const r = cwb(['info', '--json'], { CWB_BACKEND: undefined });
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.ok(BACKEND_ORDER.includes(rep.backend), `backend ${rep.backend}`);
    assert.equal(typeof rep.device, 'string');
    assert.ok(Array.isArray(rep.skipped));
    assert.equal(rep.chosenBy, 'auto');
    const w = cwb(['info', '--json', '--backend', 'wasm']);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(JSON.parse(w.stdout).backend, 'wasm');
    assert.equal(JSON.parse(w.stdout).chosenBy, 'argument');
  });

  it('CWB_BACKEND=tensorflow cwb info fails with a clear message when tfjs-node cannot load', () => {
    // Make @tensorflow/tfjs-node(-gpu) unresolvable, as on a machine where it is not installed.
    const hide = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-hide-')), 'hide-tfjs-node.js');
    fs.writeFileSync(
      hide,
      `const Module = require('module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (/^@tensorflow\\/tfjs-node(-gpu)?($|\\/)/.test(request)) {
    const e = new Error("Cannot find module '" + request + "'");
    e.code = 'MODULE_NOT_FOUND';
    throw e;
  }
  return resolve.call(this, request, ...rest);
};
`,
    );
    const r = cwb(['info'], { CWB_BACKEND: 'tensorflow' }, [hide]);
    assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stdout} ${r.stderr}`);
    assert.match(r.stderr, /cwb: backend 'tensorflow' requested \(CWB_BACKEND\) but it cannot be used/);
    assert.match(r.stderr, /@tensorflow\/tfjs-node: not installed/);
    assert.match(r.stderr, /npm install @tensorflow\/tfjs-node/);
    assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace for a user error');
    const bad = cwb(['info', '--backend', 'metal']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unknown backend 'metal'/);
  });

  it('every command has --help; usage errors exit 2 and say what is wrong', () => {
    const main = cwb(['--help']);
    assert.equal(main.code, 0);
    for (const c of ['info', 'train', 'sweep', 'eval', 'report', 'reproduce']) {
      assert.match(main.stdout, new RegExp(`\\n  ${c} `));
      const h = cwb([c, '--help']);
      assert.equal(h.code, 0, `${c} --help: ${h.stderr}`);
      assert.match(h.stdout, new RegExp(`^Usage: cwb ${c}`));
      assert.match(h.stdout, /--results-dir/);
    }
    const unknown = cwb(['sweep', 'byol']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown ablation 'byol'; choose one of moco-queue, mochi, mixco, supcon/);
    const badOpt = cwb(['report', '--frobnicate']);
    assert.equal(badOpt.code, 2);
    assert.match(badOpt.stderr, /report: Unknown option '--frobnicate'/);
    assert.equal(cwb(['fly']).code, 2);
    const budget = cwb(['sweep', 'mochi', '--budget', 'huge']);
    assert.equal(budget.code, 2);
    assert.match(budget.stderr, /--budget must be one of smoke, quick, paper/);
  });

  it('cwb train rejects a config with a wrong field, naming the field', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-train-'));
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify(applyOverrides(ablation('moco-queue', 'smoke').base, { 'method.K': -3 })));
    const r = cwb(['train', '--config', file, '--results-dir', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.json: method\.K must be a positive integer, got -3/);
    // --set fixes it; --print-config shows the validated result without training.
    const ok = cwb(['train', '--config', file, '--set', 'method.K=32', '--print-config']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).method.K, 32);
  });

  it('cwb sweep --list and --slurm address every point by index', () => {
    const list = cwb(['sweep', 'moco-queue', '--budget', 'quick', '--list', '--results-dir', os.tmpdir()]);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    // 4 points (3 K values, m = 0) x 2 seeds at quick.
    assert.equal(lines.length, 8);
    assert.match(lines[0], /^0\tpending \tmoco-K128-m0\.99-[0-9a-f]{10}\t/);
    const slurm = cwb(['sweep', 'mochi', '--budget', 'paper', '--slurm', '--results-dir', '/scratch/res']);
    assert.equal(slurm.code, 0, slurm.stderr);
    const n = ablation('mochi', 'paper').points.length;
    assert.match(slurm.stdout, /^#!\/bin\/bash\n/);
    assert.ok(slurm.stdout.includes(`#SBATCH --array=0-${n - 1}\n`));
    assert.ok(slurm.stdout.includes('#SBATCH --gres=gpu:1'));
    assert.ok(
      slurm.stdout.includes('exec npx cwb sweep mochi --budget paper --results-dir /scratch/res --index "$SLURM_ARRAY_TASK_ID"'),
      slurm.stdout,
    );
  });

  it('cwb train runs a config and cwb eval re-evaluates its checkpoint to the same kNN accuracy', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-train-eval-'));
    const file = path.join(dir, 'run.json');
    fs.writeFileSync(file, JSON.stringify(applyOverrides(ablation('moco-queue', 'smoke').base, { epochs: 1, 'eval.linear': false })));
    const t = cwb(['train', '--config', file, '--results-dir', dir, '--quiet'], { CWB_BACKEND: 'wasm' });
    assert.equal(t.code, 0, t.stderr);
    const out = JSON.parse(t.stdout);
    assert.equal(out.complete, true);
    assert.equal(out.summary.completedEpochs, 1);
    const e = cwb(['eval', '--run', out.dir, '--linear', 'fast'], { CWB_BACKEND: 'wasm' });
    assert.equal(e.code, 0, e.stderr);
    const ev = JSON.parse(e.stdout);
    assert.equal(ev.epoch, 1);
    assert.equal(ev.knnAcc, out.summary.knnAcc);
    assert.ok(ev.linearAcc >= 0 && ev.linearAcc <= 1);
    assert.equal(ev.linearProtocol, 'fast');
  });
});
