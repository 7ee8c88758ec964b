import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/init';
import { createMethod } from '../src/methods/factory';
import { disposeBatch, randomBatch, SGD, TINY_DATA, TINY_ENCODER, tinyConfigs } from './methods-helpers';

describe('methods: tensor count stays constant over 50 training steps', function () {
  this.timeout(600000);
  before(async () => {
    await initBackend('wasm', { quiet: true });
  });

  for (const { label, method } of tinyConfigs()) {
    it(label, () => {
      const start = tf.memory().numTensors;
      const m = createMethod({ method, encoder: TINY_ENCODER, optimizer: SGD }, TINY_DATA, 1);
      const batches = [randomBatch(8, 1), randomBatch(8, 2)];
      m.trainStep(batches[0]);
      const n = tf.memory().numTensors;
      let last = 0;
      for (let i = 0; i < 50; i++) {
        const r = m.trainStep(batches[i % 2]);
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
