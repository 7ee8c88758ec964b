import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { mocoLogits, infoNCE, proxyAccuracy } from '../src/methods/losses/info-nce';
import { Rng } from '../src/util/rng';
import { dot, logSumExp, numericGrads, relErr, relErrScalar, t2, tfValueAndGrads, unitRows } from './losses-reference';

/** L = mean_b [ logsumexp([q_b.k_b, q_b.n_j]/T) - q_b.k_b/T ]  (float64 loops). */
function refInfoNCE(q: Float64Array, k: Float64Array, n: Float64Array, B: number, K: number, D: number, T: number): number {
  let L = 0;
  for (let b = 0; b < B; b++) {
    const logits = [dot(q, b, k, b, D) / T];
    for (let j = 0; j < K; j++) logits.push(dot(q, b, n, j, D) / T);
    L += logSumExp(logits) - logits[0];
  }
  return L / B;
}

describe('losses: infoNCE (MoCo)', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  for (const [B, K, D, T] of [
    [5, 11, 7, 0.07],
    [1, 3, 4, 0.2],
    [6, 1, 3, 1.0],
  ] as const) {
    it(`matches the float64 reference in value and gradients (B=${B}, K=${K}, D=${D}, T=${T})`, () => {
      const rng = new Rng(B * 100 + K);
      const q = unitRows(rng, B, D);
      const k = unitRows(rng, B, D);
      const n = unitRows(rng, K, D);
      const ref = refInfoNCE(q, k, n, B, K, D, T);
      const refGrads = numericGrads(([a, b, c]) => refInfoNCE(a, b, c, B, K, D, T), [q, k, n]);
      const got = tfValueAndGrads(
        (a, b, c) => infoNCE(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, T),
        [t2(q, B, D), t2(k, B, D), t2(n, K, D)],
      );
      assert.ok(relErrScalar(got.value, ref) < 1e-5, `loss ${got.value} vs ${ref}`);
      ['q', 'k', 'negatives'].forEach((name, i) => {
        const e = relErr(got.grads[i], refGrads[i]);
        assert.ok(e < 1e-5, `grad ${name}: rel err ${e}`);
      });
    });
  }

  it('proxy accuracy is the share of rows whose positive has the top logit', () => {
    const logits = tf.tensor2d([
      [3, 1, 2],
      [0, 1, -1],
      [5, 5.5, 0],
      [2, -1, 1],
    ]);
    const logits2 = mocoLogits(tf.tensor2d([[1, 0]]), tf.tensor2d([[1, 0]]), tf.tensor2d([[0, 1]]), 0.5).logits;
    assert.equal(proxyAccuracy(logits).dataSync()[0], 0.5);
    assert.deepEqual(Array.from(logits2.dataSync()), [2, 0]);
  });

  it('rejects mismatched shapes with a message naming them', () => {
    assert.throws(() => infoNCE(tf.zeros([2, 3]), tf.zeros([2, 4]), tf.zeros([5, 3]), 0.1), /q and k must both be \[B, D\]/);
    assert.throws(() => infoNCE(tf.zeros([2, 3]), tf.zeros([2, 3]), tf.zeros([5, 4]), 0.1), /negatives must be \[K, 3\]/);
  });
});
