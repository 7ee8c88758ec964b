/**
 * The time estimate of `cwb reproduce`: runs that differ only in seed, name or cost-free method
 * fields are calibrated once, a run complete on disk costs nothing, every run to train costs at
 * least its measured steps, and the command prints the estimate and exits with --estimate.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ablation, estimateLines, estimateRuns, loadDatasetCached, type RunConfig, sweepPoints } from '../src/experiments';
import { initTestBackend } from './test-backend';

const ROOT = path.resolve(__dirname, '..');

describe('the estimate of a list of runs', () => {
  before(async function () {
    await initTestBackend(this);
  });

  it('calibrates each kind of run once, skips complete runs and counts every step', async () => {
    const ab = ablation('supcon', 'smoke');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-estimate-'));
    const points = sweepPoints(ab.base, ab.points, dir);
    const supcon = points.filter((p) => p.params.loss === 'SupCon'); // T 0.1 and 0.5: one kind
    const ce = points.find((p) => p.params.loss === 'CE');
    assert.ok(supcon.length === 2 && ce);
    const seed1: RunConfig = { ...supcon[0].config, seed: 1, name: 'other-seed' };
    fs.mkdirSync(ce.dir, { recursive: true });
    fs.writeFileSync(path.join(ce.dir, 'summary.json'), '{}');
    const runs = [...supcon.map((p) => ({ config: p.config, dir: p.dir })), { config: seed1 }, { config: ce.config, dir: ce.dir }];
    const e = await estimateRuns(runs, { load: loadDatasetCached, steps: 1 });
    assert.equal(e.complete, 1);
    assert.equal(e.toRun, 3);
    assert.equal(e.kinds.length, 1, e.kinds.map((k) => k.label).join('; '));
    assert.equal(e.kinds[0].runs, 3);
    assert.match(e.kinds[0].label, /^supcon convnet x0\.125 b16 \(supcon-cifar\)$/);
    const train = await loadDatasetCached(ab.base.dataset, 'train');
    const steps = ab.base.epochs * Math.floor(train.n / ab.base.batchSize);
    assert.ok(e.kinds[0].stepSeconds > 0 && e.kinds[0].featureSecondsPerImage > 0 && e.kinds[0].probeEpochSeconds > 0);
    assert.ok(e.seconds >= 3 * steps * e.kinds[0].stepSeconds, `${e.seconds} s for 3 runs of ${steps} steps at ${e.kinds[0].stepSeconds} s`);
    const lines = estimateLines(e, 'supcon (smoke)');
    assert.match(lines[0], /^supcon \(smoke\): about \d+(\.\d)? (s|min|h) on \w+ for 3 runs \(1 complete on disk\), from 1 calibrated kind of run/);
    assert.match(lines[1], /supcon convnet x0\.125 b16 \(supcon-cifar\): 3 runs, \d+ ms per step/);
    const none = await estimateRuns([{ config: ce.config, dir: ce.dir }], { load: loadDatasetCached });
    assert.deepEqual(estimateLines(none, 'x'), ['x: all 1 runs are complete on disk; nothing to train']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('cwb reproduce --estimate prints the estimate of every ablation and trains nothing', () => {
    const results = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-estimate-cli-'));
    const r = spawnSync(
      process.execPath,
      [
        '--require',
        require.resolve('tsx/cjs'),
        path.join(ROOT, 'src', 'cli.ts'),
        'reproduce',
        '--budget',
        'smoke',
        '--estimate',
        '--results-dir',
        results,
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 240_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^reproduce \(smoke\): about \d+(\.\d)? (s|min|h) on \w+ for 23 runs, from \d+ calibrated kinds of run/);
    assert.match(r.stdout, /mixco-simclr convnet x0\.125 b16 \(simclr-cifar\): 1 run/);
    assert.deepEqual(fs.readdirSync(results), []);
    fs.rmSync(results, { recursive: true, force: true });
  });
});
