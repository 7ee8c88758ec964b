import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setDisplaySink, type MimeBundle } from '../src/plots';
import {
  groupSeries,
  ourPoints,
  alignUniformFigure,
  recordsOf,
  runHistory,
  groupTableRows,
  embeddingFigure,
  sweepProgressDisplay,
  runCurvesFigure,
  type GroupRow,
  type RunRecord,
} from '../src/results';

const g = (
  params: Record<string, string | number | boolean>,
  seeds: number,
  knn: number,
  knnStd: number,
  extra: Record<string, unknown> = {},
): GroupRow =>
  ({ group: JSON.stringify(params), params, seeds, knnAcc: knn, knnAccStd: knnStd, linearAcc: null, linearAccStd: null, ...extra }) as GroupRow;

describe('plots: notebook views of sweep results', () => {
  const groups = [
    g({ sweep: 'K', K: 4096, m: 0.99 }, 3, 0.5, 0.02, { alignment: 0.4, uniformity: -2.1 }),
    g({ sweep: 'K', K: 256, m: 0.99 }, 3, 0.4, 0.01, { alignment: 0.3, uniformity: -1.5 }),
    g({ sweep: 'm', K: 1024, m: 0 }, 1, 0.1, 0),
  ];

  it('groupSeries: one series per `by` combination, sorted by x, error bars only with several seeds', () => {
    const [k] = groupSeries(groups, 'K', 'knnAcc', [], { sweep: 'K' });
    assert.deepEqual(k.x, [256, 4096]);
    assert.deepEqual(k.y, [0.4, 0.5]);
    assert.deepEqual(k.error, [0.01, 0.02]);
    const byM = groupSeries(groups, 'K', 'knnAcc', ['sweep']);
    assert.deepEqual(
      byM.map((s) => s.name),
      ['sweep=K', 'sweep=m'],
    );
    assert.equal(byM[1].error, undefined, 'one seed: no error bars');
    assert.throws(() => groupSeries(groups, 'K', 'linearAcc'), /no group has numeric 'K' and 'linearAcc'/);
  });

  it('ourPoints and groupTableRows read means, stds and labels', () => {
    const pts = ourPoints(groups, 'K', 'knnAcc', { sweep: 'K' }, (p) => `K=${p.K}`);
    assert.deepEqual(
      pts.map((p) => [p.value, p.mean, p.std, p.seeds]),
      [
        ['K=4096', 0.5, 0.02, 3],
        ['K=256', 0.4, 0.01, 3],
      ],
    );
    const rows = groupTableRows(groups, ['knnAcc', 'linearAcc']);
    assert.deepEqual(rows[0], { sweep: 'K', K: 4096, m: 0.99, seeds: 3, knnAcc: 0.5, 'knnAcc std': 0.02 });
    assert.deepEqual(rows[2], { sweep: 'm', K: 1024, m: 0, seeds: 1, knnAcc: 0.1 }, 'no std column for one seed, null metrics left out');
  });

  it('alignUniformFigure labels one marker per group that has both numbers', () => {
    const fig = alignUniformFigure(groups, (p) => `K=${p.K}`);
    assert.deepEqual(
      fig.data.map((d) => d.name),
      ['K=4096', 'K=256'],
    );
    assert.deepEqual(fig.data[1].x, [0.3]);
    assert.throws(() => alignUniformFigure([groups[2]], () => 'x'), /no group has alignment and uniformity/);
  });

  it('runHistory merges epoch and eval lines; recordsOf keeps the sweep order; runCurvesFigure needs metrics', () => {
    const rec = (runId: string, metrics: RunRecord['metrics']) =>
      ({ runId, dir: '', config: { name: runId } as RunRecord['config'], metrics }) as RunRecord;
    const a = rec('a', [
      { type: 'epoch', epoch: 1, loss: 3 },
      { type: 'eval', epoch: 1, knnAcc: 0.2 },
      { type: 'epoch', epoch: 2, loss: 2.5 },
    ]);
    assert.deepEqual(runHistory(a), [
      { epoch: 1, loss: 3, knnAcc: 0.2 },
      { epoch: 2, loss: 2.5 },
    ]);
    const b = rec('b', []);
    assert.deepEqual(
      recordsOf([a, b], ['b', 'x', 'a']).map((r) => r.runId),
      ['b', 'a'],
    );
    assert.equal(runCurvesFigure([a, b], ['loss', 'knnAcc']).data.length, 2);
    assert.throws(() => runCurvesFigure([b]), /none of the runs has metrics/);
  });

  it('embeddingFigure reads embeddings.json and names a missing file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-emb-'));
    assert.throws(() => embeddingFigure(dir), /embeddings\.json does not exist/);
    fs.writeFileSync(
      path.join(dir, 'embeddings.json'),
      JSON.stringify({
        points: [
          [0, 1],
          [1, 0],
          [2, 2],
        ],
        labels: [0, 1, 0],
        classNames: ['cat', 'dog'],
        explainedVariance: [0.5, 0.25],
      }),
    );
    const fig = embeddingFigure(dir);
    assert.deepEqual(
      fig.data.map((d) => d.name),
      ['cat', 'dog'],
    );
    assert.match(String((fig.layout!.title as { text: string }).text), /3 test embeddings \(75\.0% of variance\)/);
    fs.rmSync(dir, { recursive: true });
  });

  it('sweepProgressDisplay: one display per point, a skipped point says so', () => {
    const sent: { bundle: MimeBundle; id?: string }[] = [];
    setDisplaySink((bundle, id) => sent.push({ bundle, id }));
    try {
      const live = sweepProgressDisplay({ minIntervalMs: 0 });
      live.onPoint({ index: 0, runId: 'run-a' }, 2);
      live.onProgress({ phase: 'train', runId: 'run-a', epoch: 1, epochs: 1, step: 1, steps: 1, loss: 1 });
      live.onPoint({ index: 1, runId: 'run-b' }, 2); // closes point 1; point 2 is complete on disk
      live.finish();
      const texts = sent.map((s) => String(s.bundle['text/plain']));
      assert.match(texts[0], /^point 1\/2: run-a epoch 1\/1/);
      assert.match(texts[1], /done$/);
      assert.equal(sent[0].id, sent[1].id);
      assert.equal(texts[2], 'point 2/2 run-b: already complete on disk (skipped)');
    } finally {
      setDisplaySink(undefined);
    }
  });
});
