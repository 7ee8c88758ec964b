/** src/ops/batch-norm-train.ts against BN (+ReLU) written with plain tf ops and autodiff. */
import * as assert from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { batchNormTrain } from '../src/ops/batch-norm-train';
import { tensorflowNative } from '../src/ops/tensorflow-native';
import { initTestBackend, TEST_BACKEND } from './test-backend';

function reference(x: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D, S: number, relu: boolean): tf.Tensor4D {
  const [N, H, W, C] = x.shape;
  const xs = x.reshape([N / S, S, H, W, C]);
  const { mean, variance } = tf.moments(xs, [0, 2, 3], true);
  const y = xs.sub(mean).mul(variance.add(1e-5).rsqrt()).reshape([N, H, W, C]).mul(g).add(b) as tf.Tensor4D;
  return relu ? y.relu() : y;
}

function maxRel(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().div(b.abs().max().add(1e-6)).dataSync()[0]);
}

describe('batchNormTrain (fused BN + ReLU with a hand-written gradient)', function () {
  this.timeout(120000);
  before(async function () {
    await initTestBackend(this);
  });

  for (const backend of [TEST_BACKEND, 'cpu']) {
    for (const [S, relu] of [
      [1, false],
      [1, true],
      [2, true],
      [4, false],
    ] as [number, boolean][]) {
      it(`${backend}: splits ${S}, relu ${relu}: values, batch statistics and gradients match autodiff`, async () => {
        await tf.setBackend(backend);
        tf.tidy(() => {
          const x = tf.randomNormal([8, 5, 3, 6], 0.5, 2, 'float32', 1) as tf.Tensor4D;
          const g = tf.randomNormal([6], 1, 0.3, 'float32', 2) as tf.Tensor1D;
          const b = tf.randomNormal([6], 0, 0.3, 'float32', 3) as tf.Tensor1D;
          const r = tf.randomNormal([8, 5, 3, 6], 0, 1, 'float32', 4);
          const fused = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
            const out = batchNormTrain(xx as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, { splits: S, relu });
            out.mean.dispose();
            out.variance.dispose();
            return out.y.mul(r).sum();
          };
          const ref = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
            reference(xx as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, S, relu)
              .mul(r)
              .sum();
          const out = batchNormTrain(x, g, b, { splits: S, relu });
          assert.ok(maxRel(out.y, reference(x, g, b, S, relu)) < 1e-5, 'forward');
          const xs = x.reshape([8 / S, S, 15, 6]);
          const m = tf.moments(xs, [0, 2]);
          assert.ok(maxRel(out.mean, m.mean) < 1e-5, 'mean');
          assert.ok(maxRel(out.variance, m.variance) < 1e-5, 'variance');
          const gf = tf.grads(fused)([x, g, b]);
          const gr = tf.grads(ref)([x, g, b]);
          ['dx', 'dgamma', 'dbeta'].forEach((what, i) => {
            const e = maxRel(gf[i], gr[i]);
            assert.ok(e < 1e-4, `${what}: relative error ${e}`);
          });
        });
      });
    }
  }

  it('keeps fewer tensors alive for the backward pass than the plain-op version', async () => {
    await tf.setBackend(TEST_BACKEND);
    const x = tf.randomNormal([16, 8, 8, 32]) as tf.Tensor4D;
    const g = tf.ones([32]) as tf.Tensor1D;
    const b = tf.zeros([32]) as tf.Tensor1D;
    // Bytes alive when the backward pass starts (the forward's scope is gone: what remains is what
    // the tape and the ops keep for the gradient), measured by an identity op on the loss.
    const peak = (f: (xx: tf.Tensor) => tf.Scalar) => {
      let bytes = 0;
      const probe = tf.customGrad(((l: tf.Tensor) => ({
        value: l.clone(),
        gradFunc: (dy: tf.Tensor) => {
          bytes = tf.memory().numBytes;
          return dy.clone();
        },
      })) as unknown as Parameters<typeof tf.customGrad>[0]);
      const dx = tf.grad((xx: tf.Tensor) => probe(f(xx)) as tf.Scalar)(x);
      dx.dispose();
      return bytes;
    };
    const base = tf.memory().numBytes;
    const fused =
      peak((xx) => {
        const o = batchNormTrain(xx as tf.Tensor4D, g, b, { relu: true });
        o.mean.dispose();
        o.variance.dispose();
        return o.y.sum();
      }) - base;
    const plain = peak((xx) => reference(xx as tf.Tensor4D, g, b, 1, true).sum()) - base;
    tf.dispose([x, g, b]);
    const full = 16 * 8 * 8 * 32 * 4;
    // Measured: fused 3 (y, the loss's saved copy of y, x's view), plain 12.
    assert.ok(fused <= 3.2 * full, `fused BN keeps ${fused / full} input-sized tensors`);
    assert.ok(plain >= 2 * fused, `plain ${plain / full} vs fused ${fused / full} input-sized tensors`);
  });

  it('runs on TensorFlow fused kernels on the tensorflow backend only, and leaks no tensor', async () => {
    await tf.setBackend(TEST_BACKEND);
    assert.strictEqual(tensorflowNative() !== undefined, TEST_BACKEND === 'tensorflow', `native ops on ${TEST_BACKEND}`);
    await tf.setBackend('cpu');
    assert.strictEqual(tensorflowNative(), undefined, 'cpu has no native ops');
    await tf.setBackend(TEST_BACKEND);
    const x = tf.randomNormal([8, 4, 4, 6]) as tf.Tensor4D;
    const g = tf.ones([6]) as tf.Tensor1D;
    const b = tf.zeros([6]) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    for (const S of [1, 4]) {
      const [dx, dg] = tf.grads((xx: tf.Tensor, gg: tf.Tensor) => {
        const o = batchNormTrain(xx as tf.Tensor4D, gg as tf.Tensor1D, b, { splits: S, relu: true });
        o.mean.dispose();
        o.variance.dispose();
        return o.y.square().sum();
      })([x, g]);
      tf.dispose([dx, dg]);
      const o = batchNormTrain(x, g, b, { splits: S }); // no tape: nothing kept for a backward pass
      tf.dispose([o.y, o.mean, o.variance]);
    }
    assert.strictEqual(tf.memory().numTensors, before, 'tensors left after forward and backward');
    tf.dispose([x, g, b]);
  });

  it('keeps float32 precision when a channel mean is large against its spread (mean 3, std 1)', async () => {
    // BN's gradient in float64 from the same float32 inputs: y = relu(gamma * xhat), d = dy * [y > 0],
    // dx = gamma * rstd * (d - mean(d) - xhat * mean(d * xhat)), statistics per split (n mod S).
    await tf.setBackend(TEST_BACKEND);
    const [N, H, W, C] = [64, 16, 16, 32];
    const HW = H * W;
    for (const S of [1, 4]) {
      const x = tf.randomNormal([N, H, W, C], 3, 1, 'float32', 5) as tf.Tensor4D;
      const g = tf.randomUniform([C], 0.5, 1.5, 'float32', 6) as tf.Tensor1D;
      const b = tf.zeros([C]) as tf.Tensor1D;
      const dy = tf.randomNormal([N, H, W, C], 0, 1e-4, 'float32', 7);
      const [dx] = tf.grads((xx: tf.Tensor) => {
        const o = batchNormTrain(xx as tf.Tensor4D, g, b, { splits: S, relu: true });
        o.mean.dispose();
        o.variance.dispose();
        return o.y.mul(dy).sum();
      })([x]);
      const [xv, gv, dyv, dxv] = await Promise.all([x.data(), g.data(), dy.data(), dx.data()]);
      tf.dispose([x, g, b, dy, dx]);
      const cnt = (N / S) * HW;
      const k = (n: number, p: number, c: number) => (n * HW + p) * C + c;
      const mean = new Float64Array(S * C);
      const vari = new Float64Array(S * C);
      const sd = new Float64Array(S * C);
      const sdx = new Float64Array(S * C);
      const each = (f: (i: number, s: number, c: number) => void) => {
        for (let n = 0; n < N; n++) for (let p = 0; p < HW; p++) for (let c = 0; c < C; c++) f(k(n, p, c), (n % S) * C + c, c);
      };
      each((i, s) => {
        mean[s] += xv[i] / cnt;
      });
      each((i, s) => {
        vari[s] += (xv[i] - mean[s]) ** 2 / cnt;
      });
      const xhat = (i: number, s: number) => (xv[i] - mean[s]) / Math.sqrt(vari[s] + 1e-5);
      const d = (i: number, s: number, c: number) => (gv[c] * xhat(i, s) > 0 ? dyv[i] : 0);
      each((i, s, c) => {
        sd[s] += d(i, s, c);
        sdx[s] += d(i, s, c) * xhat(i, s);
      });
      let err = 0;
      let top = 0;
      each((i, s, c) => {
        const ref = (gv[c] / Math.sqrt(vari[s] + 1e-5)) * (d(i, s, c) - sd[s] / cnt - (xhat(i, s) * sdx[s]) / cnt);
        err = Math.max(err, Math.abs(dxv[i] - ref));
        top = Math.max(top, Math.abs(ref));
      });
      assert.ok(err / top < 1e-4, `splits ${S}: dx is ${err / top} (relative) from float64`);
    }
  });

  it('rejects bad shapes', () => {
    const x = tf.zeros([6, 2, 2, 3]) as tf.Tensor4D;
    assert.throws(() => batchNormTrain(x, tf.ones([4]) as tf.Tensor1D, tf.zeros([3]) as tf.Tensor1D), /gamma \[4\]/);
    assert.throws(() => batchNormTrain(x, tf.ones([3]) as tf.Tensor1D, tf.zeros([3]) as tf.Tensor1D, { splits: 4 }), /multiple of splits 4/);
    x.dispose();
  });
});
