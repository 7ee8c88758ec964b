import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { ntXent } from '../src/methods/losses/nt-xent';
import { supConLoss } from '../src/methods/losses/supcon-loss';
import { Rng } from '../src/util/rng';
import { logSumExp, numericGrads, relErr, relErrScalar, tfValueAndGrads, unitRows } from './losses-reference';

/**
 * Paper L_out (Khosla et al. Eq. 2) with the reference code's mean over anchors and T/baseT scale,
 * float64 loops. feats[i*V + v] is view v of sample i (the [bsz, V, D] layout); contrast index
 * a = v*bsz + i (view-major). Without labels, positives are the other views of the same sample.
 */
function refSupCon(
  f: Float64Array,
  bsz: number,
  V: number,
  D: number,
  labels: number[] | null,
  T: number,
  baseT: number,
  mode: 'all' | 'one' = 'all',
): number {
  const n = bsz * V;
  const z = (a: number) => {
    const v = Math.floor(a / bsz);
    const i = a % bsz;
    return (i * V + v) * D;
  };
  const sim = (a: number, b: number) => {
    let s = 0;
    for (let c = 0; c < D; c++) s += f[z(a) + c] * f[z(b) + c];
    return s / T;
  };
  const y = (a: number) => (labels ? labels[a % bsz] : a % bsz);
  const anchors = mode === 'all' ? n : bsz;
  let total = 0;
  for (let i = 0; i < anchors; i++) {
    const others: number[] = [];
    for (let a = 0; a < n; a++) if (a !== i) others.push(sim(i, a));
    const lse = logSumExp(others);
    let sum = 0;
    let count = 0;
    for (let p = 0; p < n; p++) {
      if (p === i || y(p) !== y(i)) continue;
      sum += sim(i, p) - lse;
      count++;
    }
    total += count > 0 ? sum / count : 0;
  }
  return (-(T / baseT) * total) / anchors;
}

/** SimCLR NT-Xent over 2N views, float64: z1, z2 [N, D]. */
function refNtXent(z1: Float64Array, z2: Float64Array, N: number, D: number, T: number): number {
  const row = (a: number) => (a < N ? [z1, a] : [z2, a - N]) as [Float64Array, number];
  const sim = (a: number, b: number) => {
    const [x, i] = row(a);
    const [yy, j] = row(b);
    let s = 0;
    for (let c = 0; c < D; c++) s += x[i * D + c] * yy[j * D + c];
    return s / T;
  };
  let L = 0;
  for (let i = 0; i < 2 * N; i++) {
    const others: number[] = [];
    for (let a = 0; a < 2 * N; a++) if (a !== i) others.push(sim(i, a));
    L += logSumExp(others) - sim(i, (i + N) % (2 * N));
  }
  return L / (2 * N);
}

function check(bsz: number, V: number, D: number, labels: number[] | null, T: number, baseT: number, mode: 'all' | 'one' = 'all', seed = 1) {
  const rng = new Rng(seed);
  const f = unitRows(rng, bsz * V, D);
  const ref = refSupCon(f, bsz, V, D, labels, T, baseT, mode);
  const [g] = numericGrads(([x]) => refSupCon(x, bsz, V, D, labels, T, baseT, mode), [f]);
  const lab = labels ? tf.tensor1d(labels, 'int32') : undefined;
  const got = tfValueAndGrads(
    (x) => supConLoss(x as tf.Tensor3D, lab, { temperature: T, baseTemperature: baseT, contrastMode: mode }),
    [tf.tensor3d(Float32Array.from(f), [bsz, V, D])],
  );
  lab?.dispose();
  assert.ok(Number.isFinite(got.value), `loss is ${got.value}`);
  assert.ok(relErrScalar(got.value, ref) < 1e-5 || Math.abs(got.value - ref) < 1e-7, `loss ${got.value} vs ${ref}`);
  const e = relErr(got.grads[0], g);
  const maxG = Math.max(...Array.from(g, Math.abs));
  assert.ok(e < 1e-5 || (maxG === 0 && Math.max(...Array.from(got.grads[0], Math.abs)) === 0), `grad rel err ${e}`);
  return { value: got.value, ref };
}

describe('losses: supConLoss (SupContrast losses.py) and ntXent', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('matches the float64 L_out reference with labels, two views (value and gradient)', () => {
    check(6, 2, 5, [0, 1, 0, 2, 1, 0], 0.1, 0.07);
  });

  it('matches with three views and the default temperatures', () => {
    check(4, 3, 4, [1, 0, 1, 0], 0.07, 0.07, 'all', 2);
  });

  it("matches in contrastMode 'one'", () => {
    check(5, 2, 3, [0, 0, 1, 1, 2], 0.2, 0.07, 'one', 3);
  });

  it('without labels it is SimCLR: equals ntXent when baseT = T', () => {
    const { value } = check(5, 2, 4, null, 0.5, 0.5, 'all', 4);
    const rng = new Rng(4);
    const f = unitRows(rng, 10, 4);
    const z1: number[] = [];
    const z2: number[] = [];
    for (let i = 0; i < 5; i++) {
      z1.push(...f.slice(i * 8, i * 8 + 4));
      z2.push(...f.slice(i * 8 + 4, i * 8 + 8));
    }
    const nt = ntXent(tf.tensor2d(z1, [5, 4]), tf.tensor2d(z2, [5, 4]), 0.5).dataSync()[0];
    assert.ok(relErrScalar(nt, value) < 1e-5, `ntXent ${nt} vs supCon ${value}`);
  });

  it('edge case: one view and a class with a single sample (anchor without positives -> 0, no NaN)', () => {
    // Labels 0,0,1,2: samples 2 and 3 have no positive with one view.
    const { value, ref } = check(4, 1, 3, [0, 0, 1, 2], 0.1, 0.07, 'all', 5);
    assert.ok(Number.isFinite(value) && Number.isFinite(ref));
  });

  it('edge case: one view without labels gives loss 0 and zero gradient', () => {
    const { value } = check(3, 1, 4, null, 0.1, 0.07, 'all', 6);
    assert.ok(value === 0, `loss ${value}`);
  });

  it('edge case: all labels equal', () => {
    check(5, 2, 3, [7, 7, 7, 7, 7], 0.1, 0.07, 'all', 7);
  });

  it('rejects labels that do not match the batch', () => {
    assert.throws(() => supConLoss(tf.zeros([4, 2, 3]) as tf.Tensor3D, tf.tensor1d([0, 1, 2], 'int32')), /labels must be \[4\]/);
    assert.throws(() => supConLoss(tf.zeros([4, 3]) as unknown as tf.Tensor3D), /\[bsz, n_views, dim\]/);
  });

  for (const [N, D, T] of [
    [4, 5, 0.5],
    [1, 3, 0.1],
  ] as const) {
    it(`ntXent matches the float64 reference (N=${N}, D=${D}, T=${T})`, () => {
      const rng = new Rng(N + D);
      const z1 = unitRows(rng, N, D);
      const z2 = unitRows(rng, N, D);
      const ref = refNtXent(z1, z2, N, D, T);
      const g = numericGrads(([a, b]) => refNtXent(a, b, N, D, T), [z1, z2]);
      const got = tfValueAndGrads(
        (a, b) => ntXent(a as tf.Tensor2D, b as tf.Tensor2D, T),
        [tf.tensor2d(Float32Array.from(z1), [N, D]), tf.tensor2d(Float32Array.from(z2), [N, D])],
      );
      assert.ok(relErrScalar(got.value, ref) < 1e-5, `loss ${got.value} vs ${ref}`);
      assert.ok(relErr(got.grads[0], g[0]) < 1e-5 && relErr(got.grads[1], g[1]) < 1e-5, 'gradients');
    });
  }
});
