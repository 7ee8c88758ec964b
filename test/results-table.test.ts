/**
 * The results table over run folders on disk: `where` keeps the runs whose params equal the given
 * values, `groups` aggregates over seeds, `series` gives mean +- std per value of a param, `rows`
 * one CSV row per run; a table of run folders keeps their order and leaves out unstarted ones.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { aggregate, groupSeries, listRuns, ResultsTable, runRow } from '../src/results';

function writeRun(
  root: string,
  exp: string,
  id: string,
  params: Record<string, string | number | boolean>,
  seed: number,
  knn: number | null,
): string {
  const dir = path.join(root, exp, id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ name: id, experiment: exp, method: { name: 'moco' }, params: { ...params, seed }, seed, epochs: 2 }),
  );
  if (knn !== null) {
    fs.writeFileSync(
      path.join(dir, 'summary.json'),
      JSON.stringify({
        runId: id,
        experiment: exp,
        name: id,
        params,
        method: 'moco',
        epochs: 2,
        completedEpochs: 2,
        seed,
        finalLoss: 4,
        proxyAcc: 0.5,
        knnAcc: knn,
        knnAccMax: knn,
        linearAcc: null,
        alignment: null,
        uniformity: null,
        imagesPerSec: 100,
        trainSeconds: 10,
        evalSeconds: 1,
        sessions: 1,
        diverged: false,
        backend: 'cpu',
        device: 'cpu',
        completedAt: '2026-01-01',
      }),
    );
  }
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), `${JSON.stringify({ type: 'epoch', epoch: 1, loss: 5 })}\n`);
  return dir;
}

describe('results: the results table', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-table-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  const exp = 'moco-queue-smoke';
  const dirs = [
    writeRun(root, exp, 'k64-s0', { sweep: 'K', K: 64, m: 0.99 }, 0, 0.3),
    writeRun(root, exp, 'k64-s1', { sweep: 'K', K: 64, m: 0.99 }, 1, 0.4),
    writeRun(root, exp, 'k32-s0', { sweep: 'K', K: 32, m: 0.99 }, 0, 0.2),
    writeRun(root, exp, 'm0-s0', { sweep: 'm', K: 64, m: 0 }, 0, 0.1),
    writeRun(root, exp, 'm9-s0', { sweep: 'm', K: 64, m: 0.9 }, 0, null),
  ];

  it('reads an experiment, filters by params, aggregates and draws as the free functions do', () => {
    const t = ResultsTable.read(root, exp);
    assert.equal(t.size, 5);
    assert.deepEqual(t.rows(), listRuns(root, exp).map(runRow));
    assert.deepEqual(t.groups(), aggregate(listRuns(root, exp)));
    const k = t.where({ sweep: 'K' });
    assert.deepEqual(k.records.map((r) => r.runId).sort(), ['k32-s0', 'k64-s0', 'k64-s1']);
    assert.deepEqual(
      t.where({ sweep: 'K', K: 64 }).records.map((r) => r.runId),
      ['k64-s0', 'k64-s1'],
    );
    assert.equal(t.where({ sweep: 'x' }).size, 0);
    const [s] = k.series('K', 'knnAcc');
    assert.deepEqual(s.x, [32, 64]);
    assert.deepEqual(
      s.y.map((v) => Number(v.toFixed(6))),
      [0.2, 0.35],
    );
    assert.ok(s.error && s.error[0] === 0 && Math.abs(s.error[1] - Math.sqrt(0.005)) < 1e-12, 'std over seeds as error bars');
    assert.deepEqual(t.series('K', 'knnAcc', ['sweep']), groupSeries(t.groups(), 'K', 'knnAcc', ['sweep']));
    assert.deepEqual(
      t
        .where({ sweep: 'm' })
        .rows()
        .map((r) => r.status),
      ['complete', 'pending'],
    );
  });

  it('a table of run folders keeps their order and leaves out a folder not started yet', () => {
    const t = ResultsTable.ofRunDirs([dirs[3], path.join(root, exp, 'not-started'), dirs[0]]);
    assert.deepEqual(
      t.records.map((r) => r.runId),
      ['m0-s0', 'k64-s0'],
    );
  });
});
