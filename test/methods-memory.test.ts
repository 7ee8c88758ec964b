import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { createMethod } from '../src/methods/factory';
import { disposeBatch, randomBatch, SGD, TINY_DATA, TINY_ENCODER, tinyConfigs } from './methods-helpers';
import { initTestBackend } from './test-backend';

describe('methods: tensor count stays constant over 50 training steps', function () {
  this.timeout(600000);
  before(async function () {
    await initTestBackend(this);
  });

  for (const { label, method } of tinyConfigs()) {
    it(label, async () => {
      const start = tf.memory().numTensors;
      const m = createMethod({ method, encoder: TINY_ENCODER, optimizer: SGD }, TINY_DATA, 1);
      const batches = [randomBatch(8, 1), randomBatch(8, 2)];
      await m.trainStep(batches[0]);
      const n = tf.memory().numTensors;
      let last = 0;
      for (let i = 0; i < 50; i++) {
        const r = await m.trainStep(batches[i % 2]);
        assert.ok(Number.isFinite(r.loss), `step ${i}: loss ${r.loss}`);
        assert.ok(typeof r.metrics.proxyAcc === 'number' && r.metrics.proxyAcc >= 0 && r.metrics.proxyAcc <= 1);
        assert.equal(tf.memory().numTensors, n, `step ${i}: ${tf.memory().numTensors} tensors, ${n} after the first step`);
        last = r.loss;
      }
      const f = m.features(batches[0].views[0], 'projection');
      const b = m.features(batches[0].views[0], 'backbone');
      assert.equal(f.shape[0], 8);
      assert.equal(b.shape[1], 32);
      f.dispose();
      b.dispose();
      batches.forEach(disposeBatch);
      m.dispose();
      assert.equal(tf.memory().numTensors, start, 'dispose frees every tensor');
      void last;
    });
  }
});

describe('methods: two instances from one seed train bit-identically', function () {
  this.timeout(600000);
  before(async function () {
    await initTestBackend(this);
  });

  for (const { label, method } of tinyConfigs()) {
    it(`${label}: same losses, metrics and weights, no leaked tensors`, async () => {
      const start = tf.memory().numTensors;
      const a = createMethod({ method, encoder: TINY_ENCODER, optimizer: SGD }, TINY_DATA, 3);
      const b = createMethod({ method, encoder: TINY_ENCODER, optimizer: SGD }, TINY_DATA, 3);
      const batches = [randomBatch(8, 1), randomBatch(8, 2)];
      await a.trainStep(batches[0]);
      await b.trainStep(batches[0]);
      const n = tf.memory().numTensors;
      for (let i = 0; i < 4; i++) {
        const ra = await a.trainStep(batches[i % 2]);
        const rb = await b.trainStep(batches[i % 2]);
        assert.ok(Number.isFinite(ra.loss), `step ${i}: loss ${ra.loss}`);
        assert.deepEqual(ra, rb, `step ${i}`);
        assert.equal(tf.memory().numTensors, n, `step ${i}: ${tf.memory().numTensors} tensors, ${n} after the first step`);
      }
      const fa = a.features(batches[0].views[0], 'projection');
      const fb = b.features(batches[0].views[0], 'projection');
      assert.deepEqual(Array.from(await fa.data()), Array.from(await fb.data()));
      tf.dispose([fa, fb]);
      batches.forEach(disposeBatch);
      a.dispose();
      b.dispose();
      assert.equal(tf.memory().numTensors, start, 'dispose frees every tensor');
    });
  }
});
