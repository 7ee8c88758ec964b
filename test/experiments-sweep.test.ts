import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ablation, applyOverrides, sweepPoints, type RunConfig } from '../src/experiments';
import { listRuns, sweep, writeReport } from '../src/results';
import { initTestBackend, TEST_BACKEND } from './test-backend';

const ROOT = path.resolve(__dirname, '..');
const NODE_ARGS = ['--require', require.resolve('tsx/cjs')];
const CLI = path.join(ROOT, 'src', 'cli.ts');

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cwb-${prefix}-`));
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, CLI, ...args], { cwd: ROOT, env: { ...process.env, CWB_BACKEND: TEST_BACKEND } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: (Date.now() - t0) / 1000 }));
  });
}

function csvRows(file: string): Record<string, string>[] {
  const [head, ...lines] = fs.readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const cols = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}

describe('experiments: sweeps, indices, merged reports', () => {
  before(async function () {
    await initTestBackend(this);
  });

  it('runs a list sweep, and a finished sweep run again does nothing', async () => {
    const resultsDir = tmp('sweep');
    const base: RunConfig = applyOverrides(ablation('supcon', 'smoke').base, { epochs: 1, 'eval.linear': false, 'eval.embeddings': 0 });
    const spec = [{ 'method.T': 0.1 }, { 'method.T': 0.5 }];
    const first = await sweep(base, spec, { resultsDir, quiet: true });
    assert.equal(first.runs.length, 2);
    assert.ok(first.runs.every((r) => !r.skipped && r.summary));
    assert.deepEqual(
      first.rows.map((r) => [r.point, r.status, r.T]),
      [
        [0, 'complete', 0.1],
        [1, 'complete', 0.5],
      ],
    );
    assert.ok(first.rows.every((r) => typeof r.knnAcc === 'number'));
    const mtimes = first.points.map((p) => fs.statSync(path.join(p.dir, 'summary.json')).mtimeMs);
    const t0 = Date.now();
    const again = await sweep(base, spec, { resultsDir, quiet: true });
    assert.ok(
      again.runs.every((r) => r.skipped),
      'complete runs were not skipped',
    );
    assert.deepEqual(
      again.points.map((p) => fs.statSync(path.join(p.dir, 'summary.json')).mtimeMs),
      mtimes,
    );
    assert.ok(Date.now() - t0 < 2000, `re-running a finished sweep took ${Date.now() - t0} ms`);
    assert.deepEqual(again.rows, first.rows);
    // A single index runs (here: finds) only that point; a bad index names the range.
    const one = await sweep(base, spec, { resultsDir, quiet: true, index: 1 });
    assert.equal(one.runs.length, 1);
    assert.equal(one.runs[0].runId, first.points[1].runId);
    await assert.rejects(sweep(base, spec, { resultsDir, index: 2 }), /--index 2 is out of range: this sweep has 2 points \(0\.\.1\)/);
  });

  it('gives the rows as a danfojs DataFrame (in a child process: danfojs brings its own tfjs copy)', () => {
    const script = `
      const { toDataFrame } = require(${JSON.stringify(path.join(ROOT, 'src/experiments/sweep'))});
      const df = toDataFrame([{ point: 0, K: 32, oracle: false, knnAcc: 0.5 }, { point: 1, K: 64, oracle: true, knnAcc: 0.75 }, { point: 2, K: 128, oracle: true, knnAcc: null }]);
      process.stdout.write(JSON.stringify({ shape: df.shape, columns: df.columns, mean: df['knnAcc'].iloc([0, 1]).mean(), lines: df.toString().split('\\n').length }));`;
    const r = spawnSync(process.execPath, [...NODE_ARGS, '-e', script], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    assert.deepEqual(out.shape, [3, 4]);
    assert.deepEqual(out.columns, ['point', 'K', 'oracle', 'knnAcc']);
    assert.equal(out.mean, 0.625);
    assert.ok(out.lines >= 3 + 4, `the frame prints its rows (${out.lines} lines)`);
  });

  it('runs started by index in separate processes merge into one report; the CLI smoke sweep finishes in under 2 minutes', async function () {
    this.timeout(400_000);
    const resultsDir = tmp('merge');
    const common = ['sweep', 'moco-queue', '--budget', 'smoke', '--results-dir', resultsDir, '--quiet'];
    const [a, b] = await Promise.all([cli([...common, '--index', '0']), cli([...common, '--index', '1'])]);
    assert.equal(a.code, 0, a.stderr.slice(-2000));
    assert.equal(b.code, 0, b.stderr.slice(-2000));
    const exp = 'moco-queue-smoke';
    const rep = writeReport(resultsDir);
    assert.equal(rep.rows[exp].length, 2);
    assert.ok(rep.rows[exp].every((r) => r.status === 'complete'));
    const ab = ablation('moco-queue', 'smoke');
    const pts = sweepPoints(ab.base, ab.points, resultsDir);
    assert.deepEqual(rep.rows[exp].map((r) => r.runId).sort(), [pts[0].runId, pts[1].runId].sort());
    const html = fs.readFileSync(rep.html, 'utf8');
    assert.ok(html.includes(pts[0].runId) && html.includes(pts[1].runId), 'report names both runs');
    assert.ok(html.includes('Plotly'), 'report has plots');
    const m0 = fs.statSync(path.join(pts[0].dir, 'summary.json')).mtimeMs;

    // The whole sweep from the CLI: skips the two finished points, runs the rest, writes the CSV.
    const all = await cli(common);
    assert.equal(all.code, 0, all.stderr.slice(-2000));
    assert.ok(all.seconds < 120, `cwb sweep moco-queue --budget smoke took ${all.seconds} s`);
    assert.match(all.stdout, /moco-queue-smoke: 6\/6 runs complete/);
    assert.equal(fs.statSync(path.join(pts[0].dir, 'summary.json')).mtimeMs, m0, 'a finished point was run again');
    const rows = csvRows(path.join(resultsDir, exp, 'results.csv'));
    assert.equal(rows.length, 6);
    assert.ok(rows.every((r) => r.status === 'complete' && Number(r.knnAcc) >= 0 && Number(r.knnAcc) <= 1));
    assert.deepEqual(
      rows.map((r) => Number(r.K)).sort((x, y) => x - y),
      [32, 64, 64, 64, 64, 128],
    );
    assert.equal(listRuns(resultsDir, exp).length, 6);
  });
});
