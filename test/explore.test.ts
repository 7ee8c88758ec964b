/**
 * The exploration toolkit on a finished smoke run: loadRun gives the config, the trained encoder
 * and embed(); nearest neighbours, per-class kNN with the confusion matrix, UMAP and the
 * similarity distributions of positives / queue negatives / hardest negatives; the image grids and
 * figures the notebook shows; alignment and uniformity logged over epochs; `tf` re-exported.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfjs from '@tensorflow/tfjs';
import { ablation, applyOverrides, initBackend, loadRun, run, showImages, tf } from '../src';
import { imageGrid } from '../src/data';
import { nearestNeighbours, perClassKnn, umap2d } from '../src/eval';
import type { LoadedRun } from '../src/experiments';
import {
  confusionFigure,
  embeddingMapFigure,
  figureSvg,
  metricsCurvesFigure,
  setDisplaySink,
  showNeighbours,
  similarityHistogramFigure,
  type MimeBundle,
} from '../src/plots';

describe('explore: loadRun and the analysis toolkit on a finished smoke run', function () {
  this.timeout(10 * 60_000);
  const results = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-explore-'));
  let r: LoadedRun;
  const sent: MimeBundle[] = [];

  before(async () => {
    await initBackend('wasm', { quiet: true });
    const cfg = applyOverrides(ablation('moco-queue', 'smoke').base, {
      epochs: 2,
      name: 'explore-test',
      'eval.knnEvery': 1,
      'eval.alignUniform': true,
    });
    const res = await run(cfg, { resultsDir: results, quiet: true });
    r = await loadRun(res.dir);
    setDisplaySink((b) => sent.push(b));
  });
  after(() => {
    setDisplaySink(undefined);
    r?.dispose();
    fs.rmSync(results, { recursive: true, force: true });
  });

  it("tf is the package's TF.js", () => {
    assert.equal(tf.getBackend(), tfjs.getBackend());
    const t = tf.ones([2]);
    assert.equal(tfjs.memory().numTensors > 0, true);
    t.dispose();
  });

  it("loadRun: config, checkpoint epoch, metrics, and embed() matching the monitor's kNN", async () => {
    assert.equal(r.config.name, 'explore-test');
    assert.equal(r.epoch, 2);
    assert.ok(r.summary && r.summary.completedEpochs === 2);
    const test = await r.dataset('test');
    const train = await r.dataset('train');
    const before = tf.memory().numTensors;
    const q = await r.embed(test);
    const bank = await r.embed(train);
    assert.deepEqual(q.shape, [test.n, (r.config.method as { dim?: number }).dim]);
    const knn = await perClassKnn(bank, train.labels, q, test.labels, train.info.numClasses, { k: r.config.eval.knnK, T: r.config.eval.knnT });
    assert.ok(
      Math.abs(knn.accuracy - (r.summary!.knnAcc as number)) < 1e-6,
      `kNN from the loaded encoder ${knn.accuracy} = the run's ${r.summary!.knnAcc}`,
    );
    assert.equal(
      knn.confusion.flat().reduce((a, b) => a + b, 0),
      test.n,
    );
    assert.equal(knn.perClass.length, train.info.numClasses);
    const cf = confusionFigure(knn.confusion, train.info.classNames);
    assert.equal((figureSvg(cf).match(/<rect x=/g) ?? []).length, train.info.numClasses ** 2);
    q.dispose();
    bank.dispose();
    assert.equal(tf.memory().numTensors, before, 'embed and kNN leak no tensors');
    await assert.rejects(r.embed(tf.zeros([2, 3]) as never), /\[B, H, W, C\]/);
  });

  it('nearest neighbours (self excluded), an image grid with coloured borders, UMAP and PCA maps hoverable by index', async () => {
    const test = await r.dataset('test');
    const f = await r.embed(test);
    const queries = [0, 1, 2];
    const qf = tf.gather(f, queries) as tfjs.Tensor2D;
    const nn = await nearestNeighbours(qf, f, 4, { exclude: queries });
    assert.equal(nn.indices.length, 3);
    nn.indices.forEach((row, i) => {
      assert.equal(row.length, 4);
      assert.ok(!row.includes(queries[i]), 'the query itself is excluded');
    });
    assert.ok(
      nn.similarities.every((s) => s.every((v, j) => j === 0 || v <= s[j - 1] + 1e-6)),
      'most similar first',
    );
    const png = await imageGrid(test, [[0, 1], [2]], { cell: 20, border: 2 });
    assert.deepEqual([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
    sent.length = 0;
    const precision = await showNeighbours(test, queries, test, nn, { caption: 'neighbours' });
    assert.ok(precision >= 0 && precision <= 1);
    await showImages(test, [0, 1, 2, 3]);
    assert.equal(sent.length, 2);
    assert.ok(sent.every((b) => typeof b['image/png'] === 'string' && (b['text/plain'] as string).includes('#0')));
    const xy = await umap2d(f, { nEpochs: 50, seed: 1 });
    assert.equal(xy.length, test.n);
    assert.ok(xy.every((p) => Number.isFinite(p[0]) && Number.isFinite(p[1])));
    const again = await umap2d(f, { nEpochs: 50, seed: 1 });
    assert.deepEqual(again, xy, 'seeded: the same map twice');
    const map = embeddingMapFigure(xy, test.labels, test.info.classNames, { axis: 'UMAP' });
    const idx = map.data.flatMap((t) => t.customdata as number[]).sort((a, b) => a - b);
    assert.deepEqual(
      idx,
      Array.from({ length: test.n }, (_v, i) => i),
      'every point hovers with its image index',
    );
    assert.match(String(map.data[0].hovertemplate), /image #%\{customdata\}/);
    qf.dispose();
    f.dispose();
  });

  it('similarity distributions: positives above queue negatives, hardest negatives above the mean negative', async () => {
    const test = await r.dataset('test');
    const d = await r.similarities(test, { limit: 32, hardest: 4 });
    assert.equal(d.positives.length, 32);
    assert.equal(d.hardestNegatives.length, 32);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    assert.ok(mean(d.hardestNegatives) > mean(d.queueNegatives), 'the hardest negatives are the most similar ones');
    assert.ok(d.positives.every((v) => v <= 1 + 1e-5 && v >= -1 - 1e-5));
    const fig = similarityHistogramFigure(d);
    assert.equal(fig.data.length, 3);
  });

  it('alignment and uniformity over epochs in metrics.jsonl; similarity stats per epoch', () => {
    const evals = r.metrics.filter((m) => m.type === 'eval' && typeof m.alignment === 'number');
    assert.ok(evals.length >= 1, 'alignment logged by the monitor');
    const fig = metricsCurvesFigure([{ name: 'run', metrics: r.metrics }], [['alignment'], ['uniformity']], { type: 'eval' });
    assert.ok(fig.data.length >= 2);
    const sims = metricsCurvesFigure([{ name: 'run', metrics: r.metrics }], [['posSim', 'negSim', 'maxNegSim']]);
    assert.equal(sims.data.length, 3);
  });
});
