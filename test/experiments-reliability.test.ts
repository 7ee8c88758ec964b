import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../src/backend/init';
import {
  ablation,
  acquireRunLock,
  applyOverrides,
  loadCheckpoint,
  readMetrics,
  run,
  runId,
  disposeState,
  LockLostError,
  type RunConfig,
} from '../src/experiments';

const ROOT = path.resolve(__dirname, '..');
const NODE_ARGS = ['--require', require.resolve('tsx/cjs')];
const CLI = path.join(ROOT, 'src', 'cli.ts');

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cwb-${prefix}-`));
}

/**
 * The smoke MoCo config. Its linear probe takes tiny steps, so that its accuracy depends on the
 * head's initialisation: an unseeded head gives another accuracy in almost every process.
 */
function config(epochs: number, name: string): RunConfig {
  return applyOverrides(ablation('moco-queue', 'smoke').base, {
    epochs,
    name,
    'eval.linear': { protocol: 'fast', epochs: 2, lr: 1e-4, standardize: false },
  });
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawn node with tsx; `onLine(line, child)` sees every stdout and stderr line. */
function spawnChild(args: string[], onLine?: (line: string, kill: (s: NodeJS.Signals) => void) => void): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT, env: { ...process.env, CWB_BACKEND: 'wasm' } });
    let stdout = '';
    let stderr = '';
    const kill = (s: NodeJS.Signals) => child.kill(s);
    const lines = (onData: (s: string) => void) => {
      let buf = '';
      return (d: Buffer) => {
        onData(d.toString());
        buf += d.toString();
        for (let i = buf.search(/[\n\r]/); i >= 0; i = buf.search(/[\n\r]/)) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          onLine?.(line, kill);
        }
      };
    };
    child.stdout.on(
      'data',
      lines((s) => (stdout += s)),
    );
    child.stderr.on(
      'data',
      lines((s) => (stderr += s)),
    );
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A child running one run; it SIGKILLs itself when the final linear probe starts if killAtProbe. */
function childScript(dir: string, cfg: RunConfig, resultsDir: string, killAtProbe: boolean): string {
  const file = path.join(dir, `child-${killAtProbe ? 'kill' : 'plain'}.ts`);
  fs.writeFileSync(
    file,
    `import { initBackend } from ${JSON.stringify(path.join(ROOT, 'src/backend/init'))};
import { run } from ${JSON.stringify(path.join(ROOT, 'src/experiments'))};
(async () => {
  await initBackend('wasm', { quiet: true });
  const r = await run(${JSON.stringify(cfg)}, { resultsDir: ${JSON.stringify(resultsDir)}, quiet: true, onProgress: (p) => {
    if (${killAtProbe} && p.phase === 'eval' && (p.message ?? '').startsWith('linear probe')) process.kill(process.pid, 'SIGKILL');
  } });
  process.stdout.write('DONE ' + JSON.stringify({ resumedFrom: r.resumedFrom, complete: !!r.summary }) + '\\n');
})().catch((e) => { console.error(e); process.exit(1); });
`,
  );
  return file;
}

/** The summary without what depends on the clock or on the number of sessions. */
function comparable(dir: string): Record<string, unknown> {
  const s = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  for (const k of ['trainSeconds', 'evalSeconds', 'imagesPerSec', 'completedAt', 'sessions']) delete s[k];
  return s;
}

function metricsWithoutTimes(dir: string): unknown[] {
  return readMetrics(path.join(dir, 'metrics.jsonl')).map((r) => {
    const { seconds: _s, imagesPerSec: _i, dataSeconds: _d, stepSeconds: _t, ...rest } = r;
    return rest;
  });
}

describe('experiments: reliability (final evaluation, signals, lost lock, --force)', () => {
  before(async () => {
    await initBackend('wasm', { quiet: true });
  });

  it('a run killed during the final evaluation writes the same summary as an uninterrupted one', async () => {
    const dir = tmp('final-eval');
    const cfg = config(2, 'final-eval');
    const id = runId(cfg);
    const ref = await spawnChild([childScript(dir, cfg, path.join(dir, 'ref'), false)]);
    assert.equal(ref.code, 0, ref.stderr.slice(-2000));
    const killedRoot = path.join(dir, 'killed');
    const first = await spawnChild([childScript(dir, cfg, killedRoot, true)]);
    assert.equal(first.signal, 'SIGKILL', `killed at the linear probe: ${first.stderr.slice(-1000)}`);
    const runDir = path.join(killedRoot, cfg.experiment, id);
    assert.ok(!fs.existsSync(path.join(runDir, 'summary.json')), 'killed before the summary');
    const second = await spawnChild([childScript(dir, cfg, killedRoot, false)]);
    assert.equal(second.code, 0, second.stderr.slice(-2000));
    assert.match(second.stdout, /DONE \{"resumedFrom":2,"complete":true\}/);
    const refDir = path.join(dir, 'ref', cfg.experiment, id);
    const a = comparable(refDir);
    const b = comparable(runDir);
    assert.equal(typeof a.linearAcc, 'number');
    assert.deepEqual(b, a);
    assert.deepEqual(metricsWithoutTimes(runDir), metricsWithoutTimes(refDir));
    for (const f of ['embeddings.json', 'confusion.json']) {
      assert.equal(fs.readFileSync(path.join(runDir, f), 'utf8'), fs.readFileSync(path.join(refDir, f), 'utf8'), f);
    }
  });

  it('two runs of one config in separate processes give the same linearAcc (the probe head is seeded)', async () => {
    const dir = tmp('probe-seed');
    const cfg = applyOverrides(config(1, 'probe-seed'), { 'eval.alignUniform': false, 'eval.embeddings': 0 });
    const a = await spawnChild([childScript(dir, cfg, path.join(dir, 'a'), false)]);
    const b = await spawnChild([childScript(dir, cfg, path.join(dir, 'b'), false)]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const final = (root: string) => readMetrics(path.join(root, cfg.experiment, runId(cfg), 'metrics.jsonl')).find((r) => r.final)!;
    const fa = final(path.join(dir, 'a'));
    const fb = final(path.join(dir, 'b'));
    assert.equal(typeof fa.linearAcc, 'number');
    assert.deepEqual([fb.linearAcc, fb.linearTrainAcc], [fa.linearAcc, fa.linearTrainAcc]);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`cwb train stopped by ${signal} prints "interrupted; resumes from epoch N", releases the lock, and resumes from N`, async () => {
      const dir = tmp(`signal-${signal}`);
      const cfg = applyOverrides(config(4, `signal-${signal}`), { 'eval.linear': false });
      const file = path.join(dir, 'run.json');
      fs.writeFileSync(file, JSON.stringify(cfg));
      const runDir = path.join(dir, cfg.experiment, runId(cfg));
      let sent = false;
      const r = await spawnChild([CLI, 'train', '--config', file, '--results-dir', dir], (line, kill) => {
        if (!sent && / epoch 1\/4 loss /.test(line)) {
          sent = true;
          kill(signal);
        }
      });
      assert.ok(sent, r.stderr.slice(-1000));
      assert.equal(r.code, signal === 'SIGINT' ? 130 : 143, r.stderr.slice(-1000));
      const m = r.stderr.match(/interrupted; resumes from epoch (\d+)/);
      assert.ok(m, r.stderr.slice(-1000));
      assert.equal(r.stderr.match(/interrupted; resumes/g)!.length, 1, 'said once');
      const n = Number(m![1]);
      assert.ok(!fs.existsSync(path.join(runDir, 'run.lock')), 'the run lock is released');
      const ck = loadCheckpoint(runDir)!;
      disposeState(ck.state);
      assert.equal(ck.meta.epoch, n, 'N is the epoch of the last checkpoint');
      assert.ok(n >= 1 && n < 4);
      assert.ok(!fs.existsSync(path.join(runDir, 'summary.json')));
      const again = await run(cfg, { resultsDir: dir, quiet: true });
      assert.equal(again.resumedFrom, n);
      assert.equal(again.summary!.completedEpochs, 4);
    });
  }

  it('a trainer that finds its lock taken over stops without writing', async () => {
    const resultsDir = tmp('lost');
    const cfg = applyOverrides(config(2, 'lost-lock'), { 'eval.linear': false });
    const runDir = path.join(resultsDir, cfg.experiment, runId(cfg));
    const thief = { pid: process.pid, host: os.hostname(), startedAt: 'now', token: 'another-trainer' };
    await assert.rejects(
      run(cfg, {
        resultsDir,
        quiet: true,
        onProgress: (p) => {
          if (p.phase === 'train' && p.epoch === 1 && p.step === 2) fs.writeFileSync(path.join(runDir, 'run.lock'), JSON.stringify(thief));
        },
      }),
      (e: Error) => e instanceof LockLostError && /another-trainer|took it over/.test(e.message) && /stopping without writing/.test(e.message),
    );
    assert.ok(!fs.existsSync(path.join(runDir, 'metrics.jsonl')), 'no epoch record written');
    assert.ok(!fs.existsSync(path.join(runDir, 'checkpoint')), 'no checkpoint written');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(runDir, 'run.lock'), 'utf8')), thief, "the other trainer's lock is left alone");
  });

  it('--force refuses while a live process holds the lock, and restarts under the lock otherwise', async () => {
    const resultsDir = tmp('force');
    const cfg = applyOverrides(config(1, 'force'), { 'eval.linear': false });
    const first = await run(cfg, { resultsDir, quiet: true });
    const before = fs.readdirSync(first.dir).sort();
    const held = acquireRunLock(first.dir);
    await assert.rejects(run(cfg, { resultsDir, quiet: true, force: true }), /refusing --force: .* is being trained by process \d+/);
    assert.deepEqual(
      fs
        .readdirSync(first.dir)
        .filter((f) => f !== 'run.lock')
        .sort(),
      before,
      'nothing deleted',
    );
    held.release();
    const forced = await run(cfg, { resultsDir, quiet: true, force: true });
    assert.equal(forced.skipped, false);
    assert.equal(forced.resumedFrom, 0);
    assert.deepEqual(
      readMetrics(path.join(forced.dir, 'metrics.jsonl')).map((r) => `${r.type}${r.epoch}`),
      ['epoch1', 'eval1'],
    );
    assert.ok(!fs.existsSync(path.join(forced.dir, 'run.lock')));
  });
});
