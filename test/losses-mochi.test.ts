import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { mocoLogits, infoNCE, infoNCEFromLogits } from '../src/methods/losses/info-nce';
import { disposeDraws, drawMochi, mochiHardNegatives, mochiLogits, type MochiDraws } from '../src/methods/losses/mochi';
import { Rng } from '../src/util/rng';
import { dot, logSumExp, numericGrads, relErr, relErrScalar, t2, tfValueAndGrads, unitRows } from './losses-reference';

interface HostDraws {
  i: number[][];
  j: number[][];
  alpha: number[][];
  jPrime: number[][];
  beta: number[][];
}

function hostDraws(d: MochiDraws): HostDraws {
  return {
    i: d.i.arraySync(),
    j: d.j.arraySync(),
    alpha: d.alpha.arraySync(),
    jPrime: d.jPrime.arraySync(),
    beta: d.beta.arraySync(),
  };
}

/** Top-N queue indices of each query by q.n (descending), float64; `masked[b]` entries excluded first. */
function refTopN(q: Float64Array, queue: Float64Array, B: number, K: number, D: number, N: number, masked?: Set<number>[]): number[][] {
  const out: number[][] = [];
  for (let b = 0; b < B; b++) {
    const idx = Array.from({ length: K }, (_, j) => j).filter((j) => !masked?.[b].has(j));
    idx.sort((x, y) => dot(q, b, queue, y, D) - dot(q, b, queue, x, D));
    out.push(idx.slice(0, N));
  }
  return out;
}

/** Synthetic negatives [B][s + s'][D] in float64 from the paper's formulas. */
function refSynthetic(q: Float64Array, queue: Float64Array, top: number[][], d: HostDraws, B: number, D: number): number[][][] {
  const norm = (v: number[]) => {
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return v.map((x) => x / n);
  };
  const row = (j: number) => Array.from(queue.slice(j * D, (j + 1) * D));
  const out: number[][][] = [];
  for (let b = 0; b < B; b++) {
    const hs: number[][] = [];
    d.alpha[b].forEach((a, t) => {
      const ni = row(top[b][d.i[b][t]]);
      const nj = row(top[b][d.j[b][t]]);
      hs.push(norm(ni.map((x, c) => a * x + (1 - a) * nj[c])));
    });
    d.beta[b].forEach((be, t) => {
      const nj = row(top[b][d.jPrime[b][t]]);
      hs.push(norm(nj.map((x, c) => be * q[b * D + c] + (1 - be) * x)));
    });
    out.push(hs);
  }
  return out;
}

/** MoCHi loss with the synthetic negatives H held constant: CE([q.k, q.queue, q.h]/T, 0). */
function refMochiLoss(q: Float64Array, k: Float64Array, queue: Float64Array, H: number[][][], B: number, K: number, D: number, T: number): number {
  let L = 0;
  for (let b = 0; b < B; b++) {
    const logits = [dot(q, b, k, b, D) / T];
    for (let j = 0; j < K; j++) logits.push(dot(q, b, queue, j, D) / T);
    for (const h of H[b]) logits.push(h.reduce((s, x, c) => s + x * q[b * D + c], 0) / T);
    L += logSumExp(logits) - logits[0];
  }
  return L / B;
}

describe('losses: MoCHi hard negative mixing', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  const B = 4;
  const K = 12;
  const D = 5;
  const N = 4;
  const T = 0.2;

  it('draws: indices in [0, N), alpha in [0, 1), beta in [0, 0.5)', () => {
    const d = drawMochi(64, N, 8, 8, 123);
    const h = hostDraws(d);
    disposeDraws(d);
    for (const arr of [h.i, h.j, h.jPrime]) for (const r of arr) for (const v of r) assert.ok(Number.isInteger(v) && v >= 0 && v < N);
    for (const r of h.alpha) for (const v of r) assert.ok(v >= 0 && v < 1);
    for (const r of h.beta) for (const v of r) assert.ok(v >= 0 && v < 0.5);
    assert.ok(Math.max(...h.beta.flat()) > 0.4, 'beta spans its range');
  });

  it('synthetic negatives are unit-norm mixes of the top-N hardest negatives (float64 reconstruction)', () => {
    const rng = new Rng(5);
    const q = unitRows(rng, B, D);
    const queue = unitRows(rng, K, D);
    const draws = drawMochi(B, N, 6, 3, 77);
    const hd = hostDraws(draws);
    const qT = t2(q, B, D);
    const queueT = t2(queue, K, D);
    const lNeg = tf.matMul(qT, queueT, false, true) as tf.Tensor2D;
    const { negatives, hardIdx } = mochiHardNegatives(qT, lNeg, queueT, N, draws);
    const top = refTopN(q, queue, B, K, D, N);
    assert.deepEqual(hardIdx.arraySync(), top, 'top-N indices (descending similarity)');
    const ref = refSynthetic(q, queue, top, hd, B, D);
    const got = negatives.arraySync();
    assert.deepEqual(negatives.shape, [B, 9, D]);
    assert.ok(relErr(got.flat(2), ref.flat(2)) < 1e-5, 'synthetic negatives equal the float64 mixes');
    for (const hs of got) for (const h of hs) assert.ok(Math.abs(Math.hypot(...h) - 1) < 1e-5, 'unit norm');
    // Negative-negative mixes lie between their two hard negatives: their similarity to q is at least the
    // smaller of the two when both are positive, and never above the larger one divided by the mix norm.
    for (let b = 0; b < B; b++) {
      const kth = dot(q, b, queue, top[b][N - 1], D);
      for (let t = 0; t < 6; t++) {
        const a = dot(q, b, queue, top[b][hd.i[b][t]], D);
        const c = dot(q, b, queue, top[b][hd.j[b][t]], D);
        const s = got[b][t].reduce((acc, x, i) => acc + x * q[b * D + i], 0);
        if (Math.min(a, c) > 0) assert.ok(s >= Math.min(a, c) - 1e-5, `q.h ${s} below both ${a}, ${c}`);
        assert.ok(Math.min(a, c) >= kth - 1e-6, 'mixed negatives come from the top N');
      }
    }
    disposeDraws(draws);
  });

  it('class-oracle masked entries are never among the hardest negatives', () => {
    const rng = new Rng(6);
    const q = unitRows(rng, B, D);
    const queue = unitRows(rng, K, D);
    const qT = t2(q, B, D);
    const queueT = t2(queue, K, D);
    // Mask each query's 3 most similar queue entries (as same-class keys would be).
    const masked = refTopN(q, queue, B, K, D, 3).map((r) => new Set(r));
    const maskT = tf.tensor2d(
      masked.map((s) => Array.from({ length: K }, (_, j) => (s.has(j) ? 1 : 0))),
      [B, K],
      'bool',
    );
    const lNeg = tf.where(maskT, tf.fill([B, K], -1e9), tf.matMul(qT, queueT, false, true)) as tf.Tensor2D;
    const draws = drawMochi(B, N, 5, 5, 8);
    const { hardIdx } = mochiHardNegatives(qT, lNeg, queueT, N, draws);
    const got = hardIdx.arraySync();
    got.forEach((r, b) => {
      r.forEach((j) => {
        assert.ok(!masked[b].has(j), `query ${b} picked masked entry ${j}`);
      });
    });
    assert.deepEqual(got, refTopN(q, queue, B, K, D, N, masked));
    disposeDraws(draws);
  });

  it('loss and gradients match the float64 reference with the synthetic negatives held constant', () => {
    const rng = new Rng(7);
    const q = unitRows(rng, B, D);
    const k = unitRows(rng, B, D);
    const queue = unitRows(rng, K, D);
    const draws = drawMochi(B, N, 4, 2, 99);
    const hd = hostDraws(draws);
    const H = refSynthetic(q, queue, refTopN(q, queue, B, K, D, N), hd, B, D);
    const ref = refMochiLoss(q, k, queue, H, B, K, D, T);
    // Gradients of the reference with H fixed: none flows through the synthetic points.
    const g = numericGrads(([a, b, c]) => refMochiLoss(a, b, c, H, B, K, D, T), [q, k, queue]);
    const got = tfValueAndGrads(
      (a, b, c) =>
        infoNCEFromLogits(
          mochiLogits(a as tf.Tensor2D, mocoLogits(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, T), c as tf.Tensor2D, N, T, draws).logits,
        ),
      [t2(q, B, D), t2(k, B, D), t2(queue, K, D)],
    );
    assert.ok(relErrScalar(got.value, ref) < 1e-5, `loss ${got.value} vs ${ref}`);
    ['q', 'k', 'queue'].forEach((n, i) => {
      assert.ok(relErr(got.grads[i], g[i]) < 1e-5, `grad ${n}: ${relErr(got.grads[i], g[i])}`);
    });
    disposeDraws(draws);
  });

  it("with s = s' = 0 the logits and the loss are MoCo's", () => {
    const rng = new Rng(8);
    const q = t2(unitRows(rng, B, D), B, D);
    const k = t2(unitRows(rng, B, D), B, D);
    const queue = t2(unitRows(rng, K, D), K, D);
    const draws = drawMochi(B, N, 0, 0, 1);
    const m = mochiLogits(q, mocoLogits(q, k, queue, T), queue, N, T, draws);
    assert.deepEqual(m.logits.shape, [B, 1 + K]);
    assert.deepEqual(Array.from(m.logits.dataSync()), Array.from(mocoLogits(q, k, queue, T).logits.dataSync()));
    assert.equal(infoNCEFromLogits(m.logits).dataSync()[0], infoNCE(q, k, queue, T).dataSync()[0]);
    disposeDraws(draws);
  });

  it('rejects N outside [1, K]', () => {
    const draws = drawMochi(2, 3, 1, 1, 1);
    assert.throws(() => mochiHardNegatives(tf.zeros([2, 3]), tf.zeros([2, 2]), tf.zeros([2, 3]), 3, draws), /N must be an integer in \[1, K = 2\]/);
    disposeDraws(draws);
  });
});
