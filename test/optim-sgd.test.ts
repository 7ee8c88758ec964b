import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { LARS } from '../src/optim/lars';
import { learningRateAt } from '../src/optim/schedule';
import { SGD } from '../src/optim/sgd';
import type { OptimizerConfig } from '../src/types';
import { Rng } from '../src/util/rng';
import { randn, relErr } from './losses-reference';

/** torch.optim.SGD.step (dampening 0), float64, with PyTorch's lazy buffer: buf = d_p on the first step. */
function torchSgd(p: Float64Array, grads: Float64Array[], lrs: number[], mu: number, wd: number, nesterov: boolean): Float64Array {
  const x = Float64Array.from(p);
  let buf: Float64Array | null = null;
  grads.forEach((g, t) => {
    const dp = g.map((gi, i) => gi + wd * x[i]);
    let upd = dp;
    if (mu !== 0) {
      buf = buf === null ? Float64Array.from(dp) : buf.map((b, i) => mu * b + dp[i]);
      upd = nesterov ? dp.map((d, i) => d + mu * buf![i]) : buf;
    }
    for (let i = 0; i < x.length; i++) x[i] -= lrs[t] * upd[i];
  });
  return x;
}

/** SimCLR lars_optimizer.py, float64. */
function refLars(p: Float64Array, grads: Float64Array[], lr: number, mu: number, wd: number, eta: number, excluded: boolean): Float64Array {
  const x = Float64Array.from(p);
  const v = new Float64Array(p.length);
  for (const g0 of grads) {
    let scaled: Float64Array;
    if (excluded) {
      scaled = g0.map((g) => g * lr);
    } else {
      const g = g0.map((gi, i) => gi + wd * x[i]);
      const wn = Math.hypot(...x);
      const gn = Math.hypot(...g);
      const trust = wn > 0 && gn > 0 ? (eta * wn) / gn : 1;
      scaled = g.map((gi) => gi * lr * trust);
    }
    for (let i = 0; i < x.length; i++) {
      v[i] = mu * v[i] + scaled[i];
      x[i] -= v[i];
    }
  }
  return x;
}

describe('optim: SGD (torch.optim.SGD), LARS and learning-rate schedules', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  for (const nesterov of [false, true]) {
    it(`SGD matches a float64 re-implementation of PyTorch's update over 6 steps (nesterov=${nesterov})`, () => {
      const rng = new Rng(nesterov ? 2 : 1);
      const shapes = [[3, 4], [4]];
      const init = shapes.map((s) =>
        randn(
          rng,
          s.reduce((a, b) => a * b, 1),
        ),
      );
      const params = new Map(init.map((a, i) => [`p${i}`, tf.variable(tf.tensor(Float32Array.from(a), shapes[i]))]));
      const cfg: OptimizerConfig = { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov };
      const opt = new SGD(cfg, params);
      const lrs = [0.1, 0.1, 0.05, 0.03, 0.2, 0.01];
      const gs = init.map((a) => lrs.map(() => randn(rng, a.length)));
      lrs.forEach((lr, t) => {
        const grads: Record<string, tf.Tensor> = {};
        init.forEach((_a, i) => {
          grads[`p${i}`] = tf.tensor(Float32Array.from(gs[i][t]), shapes[i]);
        });
        opt.step(grads, lr);
        tf.dispose(Object.values(grads));
      });
      init.forEach((a, i) => {
        const ref = torchSgd(a, gs[i], lrs, 0.9, 5e-4, nesterov);
        const e = relErr(params.get(`p${i}`)!.dataSync(), ref);
        assert.ok(e < 1e-5, `param ${i}: rel err ${e}`);
      });
      assert.equal(opt.steps, 6);
      // State round trip: a fresh optimiser with the saved buffers continues identically.
      const st = opt.getState();
      assert.deepEqual(Object.keys(st.tensors).sort(), ['p0.momentum_buffer', 'p1.momentum_buffer']);
      const opt2 = new SGD(cfg, params);
      opt2.setState(st);
      assert.equal(opt2.steps, 6);
      assert.deepEqual(Array.from(opt2.getState().tensors['p0.momentum_buffer'].dataSync()), Array.from(st.tensors['p0.momentum_buffer'].dataSync()));
      opt.dispose();
      opt2.dispose();
      params.forEach((v) => {
        v.dispose();
      });
    });
  }

  it('SGD without momentum is plain gradient descent with weight decay', () => {
    const p = tf.variable(tf.tensor1d([1, -2]));
    const opt = new SGD({ name: 'sgd', lr: 0.5, momentum: 0, weightDecay: 0.1 }, new Map([['w', p]]));
    opt.step({ w: tf.tensor1d([0.2, 0.4]) }, 0.5);
    const got = Array.from(p.dataSync());
    [1 - 0.5 * (0.2 + 0.1), -2 - 0.5 * (0.4 - 0.2)].forEach((v, i) => {
      assert.ok(Math.abs(got[i] - v) < 1e-6);
    });
  });

  it('LARS matches a float64 re-implementation (adapted weight, excluded bias)', () => {
    const rng = new Rng(3);
    const w0 = randn(rng, 12);
    const b0 = randn(rng, 4);
    const params = new Map<string, tf.Variable>([
      ['fc.weight', tf.variable(tf.tensor2d(Float32Array.from(w0), [3, 4]))],
      ['fc.bias', tf.variable(tf.tensor1d(Float32Array.from(b0)))],
    ]);
    const opt = new LARS({ name: 'lars', lr: 0.3, momentum: 0.9, weightDecay: 1e-4, trustCoefficient: 0.001 }, params);
    const gw = [0, 1, 2].map(() => randn(rng, 12));
    const gb = [0, 1, 2].map(() => randn(rng, 4));
    for (let t = 0; t < 3; t++)
      opt.step({ 'fc.weight': tf.tensor2d(Float32Array.from(gw[t]), [3, 4]), 'fc.bias': tf.tensor1d(Float32Array.from(gb[t])) }, 0.3);
    assert.ok(relErr(params.get('fc.weight')!.dataSync(), refLars(w0, gw, 0.3, 0.9, 1e-4, 0.001, false)) < 1e-5);
    assert.ok(relErr(params.get('fc.bias')!.dataSync(), refLars(b0, gb, 0.3, 0.9, 1e-4, 0.001, true)) < 1e-5);
  });

  it('rejects bad configs naming the field', () => {
    assert.throws(() => new SGD({ name: 'sgd', lr: 0.1, momentum: 1.5, weightDecay: 0 }, new Map()), /optimizer.momentum/);
    assert.throws(() => new SGD({ name: 'sgd', lr: -1, momentum: 0.9, weightDecay: 0 }, new Map()), /optimizer.lr/);
  });

  it("cosine per epoch is MoCo's lr * 0.5 * (1 + cos(pi * epoch / epochs))", () => {
    for (const epoch of [0, 1, 50, 199]) {
      for (const step of [0, 17]) {
        const want = 0.06 * 0.5 * (1 + Math.cos((Math.PI * epoch) / 200));
        assert.ok(Math.abs(learningRateAt({ name: 'cosine' }, 0.06, epoch, step, 97, 200) - want) < 1e-12);
      }
    }
    const perStep = learningRateAt({ name: 'cosine', perStep: true }, 1, 1, 50, 100, 10);
    assert.ok(Math.abs(perStep - 0.5 * (1 + Math.cos((Math.PI * 1.5) / 10))) < 1e-12);
    const withMin = learningRateAt({ name: 'cosine', minLrFraction: 0.001 }, 0.5, 1000, 0, 10, 1000);
    assert.ok(Math.abs(withMin - 0.0005) < 1e-12);
  });

  it('step schedule multiplies by gamma at each milestone (MoCo v1: x0.1 at 120 and 160)', () => {
    const s = { name: 'step' as const, milestones: [120, 160] };
    assert.equal(learningRateAt(s, 0.03, 119, 5, 10, 200), 0.03);
    assert.ok(Math.abs(learningRateAt(s, 0.03, 120, 0, 10, 200) - 0.003) < 1e-15);
    assert.ok(Math.abs(learningRateAt(s, 0.03, 199, 0, 10, 200) - 0.0003) < 1e-15);
    assert.equal(learningRateAt({ name: 'constant' }, 0.1, 5, 3, 10, 20), 0.1);
  });

  it('warm-up rises linearly per step from warmupFrom * lr to the scheduled value at the end of warm-up', () => {
    const s = { name: 'cosine' as const, warmupEpochs: 10, warmupFrom: 0.02 };
    const target = 0.5 * 0.5 * (1 + Math.cos((Math.PI * 10) / 100));
    assert.ok(Math.abs(learningRateAt(s, 0.5, 0, 0, 4, 100) - 0.01) < 1e-12);
    assert.ok(Math.abs(learningRateAt(s, 0.5, 5, 0, 4, 100) - (0.01 + 0.5 * (target - 0.01))) < 1e-12);
    assert.ok(Math.abs(learningRateAt(s, 0.5, 10, 0, 4, 100) - target) < 1e-12);
  });
});
