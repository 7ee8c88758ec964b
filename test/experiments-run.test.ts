import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ablation, acquireRunLock, applyOverrides, loadCheckpoint, readMetrics, run, runId, type RunConfig } from '../src/experiments';
import { initTestBackend, TEST_BACKEND } from './test-backend';

const ROOT = path.resolve(__dirname, '..');
// node with tsx's require hook: the child is the training process itself (the tsx CLI would run the
// script in a grandchild that a SIGKILL of the CLI does not reach).
const NODE_ARGS = ['--require', require.resolve('tsx/cjs')];

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cwb-${prefix}-`));
}

/** The smoke MoCo config with more epochs (each epoch takes about a second on wasm). */
function config(epochs: number): RunConfig {
  return applyOverrides(ablation('moco-queue', 'smoke').base, {
    epochs,
    name: 'resume-test',
    'eval.linear': { protocol: 'fast', epochs: 3 },
  });
}

/** A child process running one run under tsx; prints STEP <epoch> <step> on every training step. */
function childScript(dir: string, cfg: RunConfig, resultsDir: string): string {
  const file = path.join(dir, 'child.ts');
  fs.writeFileSync(
    file,
    `import { initBackend } from ${JSON.stringify(path.join(ROOT, 'src/backend/init'))};
import { run } from ${JSON.stringify(path.join(ROOT, 'src/experiments'))};
(async () => {
  await initBackend(${JSON.stringify(TEST_BACKEND)}, { quiet: true });
  const cfg = ${JSON.stringify(cfg)};
  const r = await run(cfg, { resultsDir: ${JSON.stringify(resultsDir)}, quiet: true, onProgress: (p) => {
    if (p.phase === 'train') process.stdout.write('STEP ' + p.epoch + ' ' + p.step + '\\n');
  } });
  process.stdout.write('DONE ' + JSON.stringify({ resumedFrom: r.resumedFrom, complete: !!r.summary }) + '\\n');
})().catch((e) => { console.error(e); process.exit(1); });
`,
  );
  return file;
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the child; `killWhen` sees each stdout line and returns true to SIGKILL the child. */
function runChild(script: string, killWhen?: (line: string) => boolean): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, script], { cwd: ROOT, env: { ...process.env, CWB_BACKEND: TEST_BACKEND } });
    let stdout = '';
    let stderr = '';
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (killWhen?.(line)) child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('experiments: runs, checkpoints and resume', () => {
  before(async function () {
    await initTestBackend(this);
  });

  it('writes config, metrics per epoch and eval, checkpoint and summary; a second call does nothing', async () => {
    const resultsDir = tmp('run');
    const cfg = config(2);
    const before = tf.memory().numTensors;
    const r = await run(cfg, { resultsDir, quiet: true });
    assert.equal(tf.memory().numTensors, before, 'run leaks tensors');
    assert.equal(r.dir, path.join(resultsDir, cfg.experiment, runId(cfg)));
    for (const f of [
      'config.json',
      'metrics.jsonl',
      'summary.json',
      'checkpoint/state.json',
      'checkpoint/tensors.bin',
      'embeddings.json',
      'confusion.json',
    ]) {
      assert.ok(fs.existsSync(path.join(r.dir, f)), `missing ${f}`);
    }
    const m = readMetrics(path.join(r.dir, 'metrics.jsonl'));
    assert.deepEqual(
      m.map((x) => `${x.type}${x.epoch}${x.final ? 'f' : ''}`),
      ['epoch1', 'eval1', 'epoch2', 'eval2f'],
    );
    const s = r.summary!;
    assert.equal(s.completedEpochs, 2);
    for (const k of ['knnAcc', 'linearAcc', 'alignment', 'uniformity', 'finalLoss', 'proxyAcc'] as const) {
      assert.equal(typeof s[k], 'number', `summary.${k}`);
    }
    assert.ok(s.knnAcc! >= 0 && s.knnAcc! <= 1);
    const emb = JSON.parse(fs.readFileSync(path.join(r.dir, 'embeddings.json'), 'utf8'));
    assert.equal(emb.points.length, 32);
    const ck = loadCheckpoint(r.dir)!;
    assert.equal(ck.meta.epoch, 2);
    assert.ok(Object.keys(ck.state.tensors).length > 10, 'checkpoint holds the method tensors');
    Object.values(ck.state.tensors).forEach((t) => {
      t.dispose();
    });
    const mtime = fs.statSync(path.join(r.dir, 'summary.json')).mtimeMs;
    const again = await run(cfg, { resultsDir, quiet: true });
    assert.equal(again.skipped, true);
    assert.equal(fs.statSync(path.join(r.dir, 'summary.json')).mtimeMs, mtime);
  });

  it('a run killed with SIGKILL mid-epoch resumes from its checkpoint and ends with the same epochs and losses', async function () {
    this.timeout(240_000);
    const dir = tmp('kill');
    const epochs = 4;
    const cfg = config(epochs);
    // Reference: the same config run straight through in this process.
    const ref = await run(cfg, { resultsDir: path.join(dir, 'ref'), quiet: true });
    const refLosses = readMetrics(path.join(ref.dir, 'metrics.jsonl'))
      .filter((x) => x.type === 'epoch')
      .map((x) => x.loss);

    const resultsDir = path.join(dir, 'killed');
    const script = childScript(dir, cfg, resultsDir);
    // Kill in the middle of epoch 3 (epochs 1 and 2 are checkpointed).
    const first = await runChild(script, (line) => line === 'STEP 3 3');
    assert.equal(first.signal, 'SIGKILL', `child was not killed: ${first.stdout.slice(-300)} ${first.stderr.slice(-500)}`);
    const runDir = path.join(resultsDir, cfg.experiment, runId(cfg));
    assert.ok(!fs.existsSync(path.join(runDir, 'summary.json')));
    assert.equal(loadCheckpoint(runDir)?.meta.epoch, 2);

    const second = await runChild(script);
    assert.equal(second.code, 0, second.stderr.slice(-1000));
    assert.match(second.stdout, /DONE \{"resumedFrom":2,"complete":true\}/);
    assert.ok(!/STEP [12] /.test(second.stdout), 'the resumed run repeated finished epochs');
    const m = readMetrics(path.join(runDir, 'metrics.jsonl'));
    const epochRecs = m.filter((x) => x.type === 'epoch');
    assert.deepEqual(
      epochRecs.map((x) => x.epoch),
      [1, 2, 3, 4],
    );
    const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
    assert.equal(summary.completedEpochs, epochs);
    assert.equal(summary.sessions, 2);
    // Seeded and resumed exactly: the same losses as the uninterrupted run (same backend).
    const losses = epochRecs.map((x) => x.loss as number);
    losses.forEach((l, i) => {
      assert.ok(Math.abs(l - (refLosses[i] as number)) < 1e-4, `epoch ${i + 1}: loss ${l} vs ${refLosses[i]} uninterrupted`);
    });
    assert.ok(Math.abs(summary.knnAcc - ref.summary!.knnAcc!) < 1e-9);
  });

  it('with checkpointEverySteps, a run killed mid-epoch resumes at the saved step with the same losses', async function () {
    this.timeout(240_000);
    const dir = tmp('killstep');
    const cfg = applyOverrides(config(3), { checkpointEverySteps: 2, name: 'resume-step-test' });
    const ref = await run(cfg, { resultsDir: path.join(dir, 'ref'), quiet: true });
    const refLosses = readMetrics(path.join(ref.dir, 'metrics.jsonl'))
      .filter((x) => x.type === 'epoch')
      .map((x) => x.loss as number);
    const resultsDir = path.join(dir, 'killed');
    const script = childScript(dir, cfg, resultsDir);
    const first = await runChild(script, (line) => line === 'STEP 2 3');
    assert.equal(first.signal, 'SIGKILL');
    const runDir = path.join(resultsDir, cfg.experiment, runId(cfg));
    const ck = loadCheckpoint(runDir)!;
    Object.values(ck.state.tensors).forEach((t) => {
      t.dispose();
    });
    assert.equal(ck.meta.epoch, 1, 'one epoch complete');
    const partial = ck.meta.runner.partial as { epoch: number; step: number };
    assert.equal(partial.epoch, 1);
    assert.ok(partial.step === 2 || partial.step === 4, `saved at step ${partial.step}`);
    const second = await runChild(script);
    assert.equal(second.code, 0, second.stderr.slice(-1000));
    const steps = second.stdout.split('\n').filter((l) => l.startsWith('STEP '));
    assert.equal(steps[0], `STEP 2 ${partial.step + 1}`, 'resumed at the step after the checkpoint');
    const epochRecs = readMetrics(path.join(runDir, 'metrics.jsonl')).filter((x) => x.type === 'epoch');
    assert.deepEqual(
      epochRecs.map((x) => x.epoch),
      [1, 2, 3],
    );
    epochRecs.forEach((r, i) => {
      assert.ok(Math.abs((r.loss as number) - refLosses[i]) < 1e-4, `epoch ${i + 1}: ${r.loss} vs ${refLosses[i]}`);
    });
  });

  it("one process per run: a live lock refuses a second runner, a dead process's lock is taken over", async () => {
    const resultsDir = tmp('lock');
    const cfg = applyOverrides(config(1), { name: 'lock-test', 'eval.linear': false });
    const dir = path.join(resultsDir, cfg.experiment, runId(cfg));
    fs.mkdirSync(dir, { recursive: true });
    const held = acquireRunLock(dir);
    await assert.rejects(run(cfg, { resultsDir, quiet: true }), new RegExp(`is being trained by process ${process.pid} on .*run\\.lock`));
    held.release();
    assert.ok(!fs.existsSync(path.join(dir, 'run.lock')));
    // A lock left by a SIGKILLed process (its pid no longer exists) does not block the resume.
    fs.writeFileSync(path.join(dir, 'run.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), startedAt: 'then' }));
    const r = await run(cfg, { resultsDir, quiet: true });
    assert.ok(r.summary);
    assert.ok(!fs.existsSync(path.join(dir, 'run.lock')), 'the lock is released at the end');
  });

  it('seeded runs on the same backend repeat their losses; another seed differs', async () => {
    const cfg = config(1);
    const a = await run(cfg, { resultsDir: tmp('seedA'), quiet: true });
    const b = await run(cfg, { resultsDir: tmp('seedB'), quiet: true });
    const c = await run({ ...cfg, seed: 7 }, { resultsDir: tmp('seedC'), quiet: true });
    assert.equal(a.summary!.finalLoss, b.summary!.finalLoss);
    assert.notEqual(a.summary!.finalLoss, c.summary!.finalLoss);
  });
});
