import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { defaultMethodConfig } from '../src/methods/params';
import { createMethod } from '../src/methods/factory';
import type { Mochi } from '../src/methods/mochi';
import type { Moco } from '../src/methods/moco';
import { l2Normalize } from '../src/ops/normalize';
import type { Method } from '../src/types';
import { disposeBatch, randomBatch, SGD, TINY_DATA, TINY_ENCODER, tinyConfigs } from './methods-helpers';
import { initTestBackend } from './test-backend';

const snapshot = (vars: Map<string, tf.Variable>) => new Map([...vars].map(([n, v]) => [n, Float32Array.from(v.dataSync())]));

describe('methods: MoCo / MoCHi mechanics, checkpoint state', function () {
  this.timeout(600000);
  before(async function () {
    await initTestBackend(this);
  });

  const mocoBase = { K: 20, dim: 16, bnSplits: 2, mlp: true, T: 0.2, m: 0.99 };

  it("MoCHi with s = s' = 0 trains exactly as MoCo (same seed, same batches)", async () => {
    const moco = createMethod({ method: defaultMethodConfig('moco', mocoBase), encoder: TINY_ENCODER, optimizer: SGD }, TINY_DATA, 7) as Moco;
    const mochi = createMethod(
      { method: defaultMethodConfig('mochi', { ...mocoBase, N: 5, s: 0, sPrime: 0, warmupEpochs: 0 }), encoder: TINY_ENCODER, optimizer: SGD },
      TINY_DATA,
      7,
    ) as Mochi;
    for (let i = 0; i < 3; i++) {
      const b = randomBatch(8, i);
      const a = (await moco.trainStep(b)).loss;
      const c = (await mochi.trainStep(b)).loss;
      assert.equal(c, a, `step ${i}`);
      disposeBatch(b);
    }
    assert.deepEqual(moco.queue.keys.dataSync(), mochi.queue.keys.dataSync());
    assert.deepEqual(moco.net.params.get('fc.2.weight')!.dataSync(), mochi.net.params.get('fc.2.weight')!.dataSync());
    moco.dispose();
    mochi.dispose();
  });

  it('MoCHi during its warm-up epochs is MoCo; after it, it mixes', async () => {
    const cfg = defaultMethodConfig('mochi', { ...mocoBase, N: 5, s: 4, sPrime: 2, warmupEpochs: 1 });
    const moco = createMethod({ method: defaultMethodConfig('moco', mocoBase), encoder: TINY_ENCODER, optimizer: SGD }, TINY_DATA, 3);
    const mochi = createMethod({ method: cfg, encoder: TINY_ENCODER, optimizer: SGD }, TINY_DATA, 3) as Mochi;
    const b = randomBatch(8, 11);
    assert.equal(mochi.mixing, false);
    assert.equal((await mochi.trainStep(b)).loss, (await moco.trainStep(b)).loss);
    mochi.setEpoch(1);
    assert.equal(mochi.mixing, true);
    const r = await mochi.trainStep(b);
    assert.ok('proxyAccSynth' in r.metrics && 'hardNegSim' in r.metrics, JSON.stringify(r.metrics));
    assert.ok(r.metrics.proxyAccSynth <= r.metrics.proxyAcc + 1e-9, 'more negatives cannot make the proxy task easier');
    disposeBatch(b);
    moco.dispose();
    mochi.dispose();
  });

  for (const variant of ['moco', 'mochi'] as const) {
    it(`${variant}: no gradient reaches the key encoder or the queue (EMA and enqueue only)`, async () => {
      const cfg =
        variant === 'moco'
          ? defaultMethodConfig('moco', { ...mocoBase, bnSplits: 1 })
          : defaultMethodConfig('mochi', { ...mocoBase, bnSplits: 1, N: 6, s: 6, sPrime: 4, warmupEpochs: 0, classOracle: true });
      const m = createMethod({ method: cfg, encoder: TINY_ENCODER, optimizer: SGD }, TINY_DATA, 5) as Moco;
      const warm = randomBatch(8, 20);
      await m.trainStep(warm); // non-trivial optimiser state and queue
      const b = randomBatch(8, 21);
      const q0 = snapshot(m.net.params);
      const k0 = snapshot(m.keyNet.params);
      const queue0 = (m.queue.keys.arraySync() as number[][]).map((r) => r.slice());
      const ptr0 = m.queue.ptr;
      await m.trainStep(b);
      for (const [n, v] of m.keyNet.params) {
        const got = v.dataSync();
        const kOld = k0.get(n)!;
        const qOld = q0.get(n)!;
        for (let i = 0; i < got.length; i++) {
          assert.ok(Math.abs(got[i] - (0.99 * kOld[i] + 0.01 * qOld[i])) < 1e-6, `${n}[${i}] is not the EMA`);
        }
      }
      // The query encoder did move (it gets the gradient).
      assert.notDeepEqual(m.net.params.get('fc.2.weight')!.dataSync(), q0.get('fc.2.weight'));
      // Queue: the 8 written slots hold this batch's keys (recomputed with the key encoder; BN in training mode
      // with one split is permutation invariant), every other slot is unchanged.
      const keys = tf.tidy(() => l2Normalize(m.keyNet.project(m.keyNet.forward(b.views[1], { training: true })))).arraySync() as number[][];
      const queue1 = m.queue.keys.arraySync() as number[][];
      const written = new Map<number, number>();
      for (let i = 0; i < 8; i++) written.set((ptr0 + i) % 20, i);
      queue1.forEach((row, j) => {
        const ref = written.has(j) ? keys[written.get(j)!] : queue0[j];
        const err = Math.max(...row.map((x, c) => Math.abs(x - ref[c])));
        assert.ok(err < 1e-5, `queue row ${j} differs by ${err}`);
      });
      assert.equal(m.queue.ptr, (ptr0 + 8) % 20);
      assert.deepEqual(
        Array.from(m.queue.labels.dataSync())
          .filter((_, j) => written.has(j))
          .sort(),
        [0, 0, 1, 1, 2, 2, 3, 3],
      );
      disposeBatch(warm);
      disposeBatch(b);
      m.dispose();
    });
  }

  it('symmetric MoCo enqueues 2B keys per step (wrapping around K = 20)', async () => {
    const m = createMethod(
      { method: defaultMethodConfig('moco', { ...mocoBase, symmetric: true }), encoder: TINY_ENCODER, optimizer: SGD },
      TINY_DATA,
      1,
    ) as Moco;
    const b = randomBatch(8, 1);
    await m.trainStep(b);
    assert.equal(m.queue.ptr, 16);
    await m.trainStep(b);
    assert.equal(m.queue.ptr, 12);
    disposeBatch(b);
    m.dispose();
  });

  it('rejects a batch that bnSplits does not divide and a batch with too few views, naming the field', async () => {
    const m = createMethod(
      { method: defaultMethodConfig('moco', { ...mocoBase, bnSplits: 3 }), encoder: TINY_ENCODER, optimizer: SGD },
      TINY_DATA,
      1,
    );
    const b = randomBatch(8, 1);
    await assert.rejects(() => m.trainStep(b), /batch size 8 is not a multiple of bnSplits 3/);
    await assert.rejects(() => m.trainStep({ ...b, views: [b.views[0]] }), /batch has 1 views, the method needs 2/);
    disposeBatch(b);
    m.dispose();
    assert.throws(() => defaultMethodConfig('moco', { Q: 3 } as never), /unknown field 'Q'/);
  });

  for (const { label, method } of tinyConfigs()) {
    it(`${label}: getState/setState resumes bit-identically (params, buffers, key encoder, queue, optimiser, rng)`, async () => {
      const a = createMethod({ method, encoder: TINY_ENCODER, optimizer: SGD }, TINY_DATA, 1);
      const b1 = randomBatch(8, 1);
      const b2 = randomBatch(8, 2);
      await a.trainStep(b1);
      await a.trainStep(b2);
      a.setEpoch(3);
      a.setLearningRate(0.02);
      const st = a.getState();
      const other: Method = createMethod({ method, encoder: TINY_ENCODER, optimizer: SGD }, TINY_DATA, 999);
      other.setState(st);
      tf.dispose(Object.values(st.tensors));
      const ra = await a.trainStep(b1);
      const rb = await other.trainStep(b1);
      assert.deepEqual(rb, ra);
      const names = Object.keys(a.getState().tensors);
      if (method.name === 'moco') {
        for (const prefix of ['encoder_q.', 'encoder_k.', 'queue', 'optimizer.'])
          assert.ok(
            names.some((n) => n.startsWith(prefix)),
            prefix,
          );
        assert.ok(names.includes('encoder_q.stage0.0.bn.running_mean'));
      }
      [b1, b2].forEach(disposeBatch);
      a.dispose();
      other.dispose();
    });
  }
});

describe('methods: MoCo trainStep is one SGD step on the MoCo loss (independent recomputation)', function () {
  this.timeout(600000);
  before(async function () {
    await initTestBackend(this);
  });

  it('parameters after the first step equal theta - lr * (grad L + wd * theta) with L recomputed from a copy of the network', async () => {
    const T = 0.2;
    const lr = 0.5;
    const wd = 1e-3;
    const cfg = defaultMethodConfig('moco', { K: 20, dim: 16, bnSplits: 1, mlp: true, T, m: 0.9 });
    const m = createMethod(
      { method: cfg, encoder: TINY_ENCODER, optimizer: { name: 'sgd', lr, momentum: 0.9, weightDecay: wd } },
      TINY_DATA,
      2,
    ) as Moco;
    const b = randomBatch(8, 5);
    const copy = m.net.copy(true); // theta_0
    const queue0 = m.queue.keys.clone();
    await m.trainStep(b);
    // Keys: the key encoder after its EMA update (training-mode BN over the whole batch is permutation invariant).
    const k = tf.tidy(() => l2Normalize(m.keyNet.project(m.keyNet.forward(b.views[1], { training: true }))));
    const names = [...copy.params.keys()];
    const { grads } = tf.variableGrads(
      () => {
        const q = l2Normalize(copy.project(copy.forward(b.views[0], { training: true })));
        const logits = tf.concat([q.mul(k).sum(1, true), tf.matMul(q, queue0, false, true)], 1).div(T);
        return tf.logSoftmax(logits).slice([0, 0], [-1, 1]).mean().neg() as tf.Scalar;
      },
      names.map((n) => copy.params.get(n)!),
    );
    let worst = 0;
    for (const n of names) {
      const p0 = copy.params.get(n)!;
      const want = tf.tidy(() => p0.sub(grads[p0.name].add(p0.mul(wd)).mul(lr))).dataSync();
      const got = m.net.params.get(n)!.dataSync();
      const scale = Math.max(...Array.from(want, Math.abs), 1e-6);
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
    }
    assert.ok(worst < 1e-4, `parameters differ from the recomputed SGD step by ${worst} (relative)`);
    tf.dispose([k, queue0, ...Object.values(grads)]);
    copy.dispose();
    disposeBatch(b);
    m.dispose();
  });
});
