import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/util/rng';
// Imported file by file: these metrics work on feature tensors alone (no data loader needed).
import { knnEvaluate, knnScores } from '../src/eval/knn';
import { l2Normalize } from '../src/ops/normalize';
import { linearProbeOnFeatures } from '../src/eval/linear-probe';
import { alignment, uniformity } from '../src/eval/align-uniform';
import { confusionMatrix, perClassAccuracy } from '../src/eval/confusion';
import { pca2d } from '../src/eval/projection';
import { initTestBackend } from './test-backend';

/** n points per class around C random centres in D dimensions (well separated). */
function clusters(C: number, D: number, n: number, spread: number, seed: number): { x: number[][]; y: Int32Array } {
  const rng = new Rng(seed);
  const centres = Array.from({ length: C }, () => Array.from({ length: D }, () => rng.normal() * 2));
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < C * n; i++) {
    const c = i % C;
    x.push(centres[c].map((v) => v + spread * rng.normal()));
    y.push(c);
  }
  return { x, y: Int32Array.from(y) };
}

describe('eval: kNN monitor, linear probe, alignment/uniformity, confusion, PCA', () => {
  before(async function () {
    await initTestBackend(this);
  });

  it('kNN weights neighbours by exp(sim / T): one very close neighbour outvotes two far ones', () => {
    const bank = l2Normalize(
      tf.tensor2d([
        [1, 0],
        [0.5, Math.sqrt(0.75)],
        [0.5, -Math.sqrt(0.75)],
        [-1, 0],
      ]),
    );
    const labels = tf.tensor1d([0, 1, 1, 2], 'int32');
    const q = tf.tensor2d([[1, 0]]);
    const s = knnScores(q, bank, labels, 3, 3, 0.1);
    const v = s.dataSync();
    // neighbours: class 0 at sim 1 -> e^10; class 1 twice at sim 0.5 -> 2 e^5; class 2 not in top 3.
    assert.ok(Math.abs(v[0] / Math.exp(10) - 1) < 1e-4, `score[0] = ${v[0]}`);
    assert.ok(Math.abs(v[1] / (2 * Math.exp(5)) - 1) < 1e-4, `score[1] = ${v[1]}`);
    assert.equal(v[2], 0);
    // With a very high T the weights are nearly equal and the majority (class 1) wins.
    const flat = knnScores(q, bank, labels, 3, 3, 1000).dataSync();
    assert.ok(flat[1] > flat[0]);
    tf.dispose([bank, labels, q, s]);
  });

  it('kNN (k = 200, T = 0.1) classifies separable clusters almost perfectly and random labels at chance', async () => {
    const tr = clusters(5, 16, 120, 0.8, 1);
    const te = clusters(5, 16, 40, 0.8, 1); // same centres (same seed), fresh noise below
    const rng = new Rng(99);
    const teX = te.x.map((r) => r.map((v) => v + 0.3 * rng.normal()));
    const xTr = tf.tensor2d(tr.x);
    const xTe = tf.tensor2d(teX);
    const before = tf.memory().numTensors;
    const res = await knnEvaluate(xTr, tr.y, xTe, te.y, 5, { k: 200, T: 0.1, batchSize: 64 });
    assert.equal(tf.memory().numTensors, before, 'knnEvaluate leaks tensors');
    assert.ok(res.accuracy > 0.97, `kNN accuracy ${res.accuracy}`);
    assert.equal(res.predictions.length, 200);
    const shuffled = Int32Array.from(tr.y).map((_, i) => new Rng(i * 7 + 3).int(5));
    const chance = await knnEvaluate(xTr, shuffled, xTe, te.y, 5, { k: 200, T: 0.1 });
    assert.ok(chance.accuracy < 0.45, `kNN on random bank labels should be near chance, got ${chance.accuracy}`);
    tf.dispose([xTr, xTe]);
  });

  it('linear probe separates linearly separable classes and fails on XOR', async () => {
    const tr = clusters(4, 32, 100, 1.0, 5);
    const te = clusters(4, 32, 50, 1.0, 5);
    const xTr = tf.tensor2d(tr.x);
    const xTe = tf.tensor2d(te.x);
    const before = tf.memory().numTensors;
    const fast = await linearProbeOnFeatures(xTr, tr.y, xTe, te.y, 4, { protocol: 'fast', epochs: 20 });
    assert.equal(tf.memory().numTensors, before, 'linear probe leaks tensors');
    assert.ok(fast.accuracy > 0.97, `fast probe accuracy ${fast.accuracy}`);
    assert.ok(fast.losses[fast.losses.length - 1] < fast.losses[0], `loss did not fall: ${fast.losses}`);
    const supcon = await linearProbeOnFeatures(xTr, tr.y, xTe, te.y, 4, { protocol: 'supcon', epochs: 20, batchSize: 64 });
    assert.ok(supcon.accuracy > 0.97, `supcon-protocol probe accuracy ${supcon.accuracy}`);
    // XOR: class = sign(a) xor sign(b); no linear head can do much better than chance.
    const rng = new Rng(3);
    const xor = (n: number) => {
      const x: number[][] = [];
      const y: number[] = [];
      for (let i = 0; i < n; i++) {
        const a = rng.uniform(-1, 1);
        const b = rng.uniform(-1, 1);
        x.push([a, b]);
        y.push(a > 0 !== b > 0 ? 1 : 0);
      }
      return { x: tf.tensor2d(x), y: Int32Array.from(y) };
    };
    const a = xor(400);
    const b = xor(400);
    const lin = await linearProbeOnFeatures(a.x, a.y, b.x, b.y, 2, { protocol: 'fast', epochs: 30 });
    assert.ok(lin.accuracy < 0.7, `a linear probe should not solve XOR, got ${lin.accuracy}`);
    const knn = await knnEvaluate(a.x, a.y, b.x, b.y, 2, { k: 10, T: 0.1 });
    // The quadrant is a function of the angle, so cosine kNN does solve it (a non-linear rule).
    assert.ok(knn.accuracy > 0.9, `cosine kNN should solve 2-D XOR, got ${knn.accuracy}`);
    tf.dispose([xTr, xTe, a.x, b.x]);
  });

  it('alignment and uniformity match a direct computation', async () => {
    const rng = new Rng(11);
    const n = 40;
    const D = 8;
    const unit = () => {
      const v = Array.from({ length: D }, () => rng.normal());
      const s = Math.hypot(...v);
      return v.map((e) => e / s);
    };
    const X = Array.from({ length: n }, unit);
    const Y = X.map((r) => {
      const v = r.map((e) => e + 0.2 * rng.normal());
      const s = Math.hypot(...v);
      return v.map((e) => e / s);
    });
    let al = 0;
    for (let i = 0; i < n; i++) al += X[i].reduce((acc, v, d) => acc + (v - Y[i][d]) ** 2, 0);
    al /= n;
    let un = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) un += Math.exp(-2 * X[i].reduce((acc, v, d) => acc + (v - X[j][d]) ** 2, 0));
    un = Math.log(un / ((n * (n - 1)) / 2));
    const x = tf.tensor2d(X);
    const y = tf.tensor2d(Y);
    const [ax, ux] = [await alignment(x, y), await uniformity(x)];
    assert.ok(Math.abs(ax - al) < 1e-4, `alignment ${ax} vs ${al}`);
    assert.ok(Math.abs(ux - un) < 1e-3, `uniformity ${ux} vs ${un}`);
    // Collapsed features: uniformity is 0 (the worst), alignment of identical views is 0.
    const same = tf.tile(tf.tensor2d([X[0]]), [10, 1]) as tf.Tensor2D;
    assert.ok(Math.abs(await uniformity(same)) < 1e-4);
    assert.ok(Math.abs(await alignment(x, x)) < 1e-6);
    await assert.rejects(() => alignment(x, tf.zeros([3, D]) as tf.Tensor2D), /same shape/);
    tf.dispose([x, y, same]);
  });

  it('confusion matrix counts true x predicted classes', async () => {
    const cm = await confusionMatrix(Int32Array.from([0, 0, 1, 1, 2, 2]), Int32Array.from([0, 1, 1, 1, 0, 2]), 3);
    assert.deepEqual(cm, [
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
    assert.deepEqual(perClassAccuracy(cm), [0.5, 1, 0.5]);
  });

  it('PCA recovers the two dominant directions and their variance share', async () => {
    const rng = new Rng(4);
    const rows = Array.from({ length: 500 }, () => [3 * rng.normal(), 0.05 * rng.normal(), 2 * rng.normal(), 0.05 * rng.normal()]);
    const x = tf.tensor2d(rows);
    const p = await pca2d(x);
    const varX = rows.reduce((a, r) => a + r[0] ** 2, 0);
    const varZ = rows.reduce((a, r) => a + r[2] ** 2, 0);
    const total = rows.reduce((a, r) => a + r.reduce((b, v) => b + v * v, 0), 0);
    assert.ok(Math.abs(p.explainedVariance[0] - varX / total) < 0.02, `${p.explainedVariance} vs ${varX / total}`);
    assert.ok(Math.abs(p.explainedVariance[1] - varZ / total) < 0.02);
    // First coordinate is (up to the sign and centring) the first feature.
    let corr = 0;
    for (let i = 0; i < rows.length; i++) corr += p.points[i][0] * rows[i][0];
    assert.ok(Math.abs(corr) / Math.sqrt(varX * p.points.reduce((a, q) => a + q[0] ** 2, 0)) > 0.99);
    x.dispose();
  });
});
