import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { mixcoLoss, mixcoTargets, mixHalves } from '../src/methods/losses/mixco';
import { crossEntropy, softCrossEntropy } from '../src/methods/losses/soft-ce';
import { Rng } from '../src/util/rng';
import { dot, logSumExp, numericGrads, randn, relErr, relErrScalar, t2, tfValueAndGrads, unitRows } from './losses-reference';

/** MixCo soft CE, float64: logits over [keys (2h) ; negatives (K)] / mixT, targets lambda_i at i, 1-lambda_i at i+h. */
function refMixco(
  qMix: Float64Array,
  keys: Float64Array,
  negs: Float64Array,
  lambda: number[],
  h: number,
  K: number,
  D: number,
  mixT: number,
): number {
  let L = 0;
  for (let i = 0; i < h; i++) {
    const logits: number[] = [];
    for (let j = 0; j < 2 * h; j++) logits.push(dot(qMix, i, keys, j, D) / mixT);
    for (let j = 0; j < K; j++) logits.push(dot(qMix, i, negs, j, D) / mixT);
    const lse = logSumExp(logits);
    L += -(lambda[i] * (logits[i] - lse) + (1 - lambda[i]) * (logits[i + h] - lse));
  }
  return L / h;
}

describe('losses: MixCo mix loss and soft cross-entropy', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  for (const [h, K, D, mixT] of [
    [3, 5, 4, 0.05],
    [2, 0, 3, 0.5],
    [1, 7, 6, 1.0],
  ] as const) {
    it(`matches the float64 reference in value and gradients (h=${h}, K=${K}, D=${D}, mixT=${mixT})`, () => {
      const rng = new Rng(h * 31 + K);
      const qMix = unitRows(rng, h, D);
      const keys = unitRows(rng, 2 * h, D);
      const negs = unitRows(rng, Math.max(K, 1), D).slice(0, K * D);
      const lambda = Array.from(Float32Array.from({ length: h }, () => rng.next()));
      const ref = refMixco(qMix, keys, negs, lambda, h, K, D, mixT);
      const g = numericGrads(([a, b, c]) => refMixco(a, b, c, lambda, h, K, D, mixT), [qMix, keys, negs]);
      const lam = tf.tensor1d(lambda);
      const inputs = [t2(qMix, h, D), t2(keys, 2 * h, D)];
      if (K > 0) inputs.push(t2(negs, K, D));
      const got = tfValueAndGrads((a, b, c) => mixcoLoss(a as tf.Tensor2D, b as tf.Tensor2D, K > 0 ? (c as tf.Tensor2D) : null, lam, mixT), inputs);
      assert.ok(relErrScalar(got.value, ref) < 1e-5, `loss ${got.value} vs ${ref}`);
      for (let i = 0; i < inputs.length; i++) assert.ok(relErr(got.grads[i], g[i]) < 1e-5, `grad ${i}: ${relErr(got.grads[i], g[i])}`);
    });
  }

  it('targets put lambda on the first image of the pair and 1 - lambda on the second, 0 on the queue', () => {
    const t = mixcoTargets(tf.tensor1d([0.25, 0.5]), 2).arraySync();
    assert.deepEqual(t, [
      [0.25, 0, 0.75, 0, 0, 0],
      [0, 0.5, 0, 0.5, 0, 0],
    ]);
  });

  it('mixHalves mixes x_i with x_{i+h} per pair', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 10, 20, 30, 40], [4, 1, 1, 2]);
    const m = mixHalves(x, tf.tensor1d([1, 0.5]));
    assert.deepEqual(Array.from(m.dataSync()), [1, 2, 0.5 * 3 + 0.5 * 30, 0.5 * 4 + 0.5 * 40]);
    assert.throws(() => mixHalves(tf.zeros([3, 1, 1, 1]), tf.tensor1d([0.5])), /must be even/);
  });

  it('soft CE uses logSoftmax (finite for extreme logits) and crossEntropy with label smoothing matches loops', () => {
    const extreme = softCrossEntropy(tf.tensor2d([[1000, -1000]]), tf.tensor2d([[0.5, 0.5]])).dataSync()[0];
    assert.ok(Number.isFinite(extreme) && Math.abs(extreme - 1000) < 1e-3, `${extreme}`);
    const rng = new Rng(9);
    const M = 4;
    const C = 5;
    const logits = randn(rng, M * C, 2);
    const labels = [0, 3, 4, 3];
    const eps = 0.1;
    let ref = 0;
    for (let i = 0; i < M; i++) {
      const row = Array.from(logits.slice(i * C, (i + 1) * C));
      const lse = logSumExp(row);
      for (let c = 0; c < C; c++) ref -= ((c === labels[i] ? 1 - eps : 0) + eps / C) * (row[c] - lse);
    }
    ref /= M;
    const got = crossEntropy(t2(logits, M, C), tf.tensor1d(labels, 'int32'), eps).dataSync()[0];
    assert.ok(relErrScalar(got, ref) < 1e-5, `${got} vs ${ref}`);
  });
});
