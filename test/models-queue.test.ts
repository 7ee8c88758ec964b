import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { KeyQueue } from '../src/models/queue';

describe('models: KeyQueue (MoCo dictionary)', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('starts with K random unit keys and labels -1', () => {
    const q = new KeyQueue(10, 4, 1);
    const rows = q.keys.arraySync() as number[][];
    assert.equal(rows.length, 10);
    for (const r of rows) assert.ok(Math.abs(Math.hypot(...r) - 1) < 1e-5);
    assert.deepEqual(Array.from(q.labels.dataSync()), new Array(10).fill(-1));
    assert.notDeepEqual(rows[0], rows[1]);
    q.dispose();
  });

  it('K not a multiple of the batch: writes wrap around and ptr advances mod K (host simulation)', () => {
    const K = 10;
    const D = 3;
    const B = 4;
    const q = new KeyQueue(K, D, 2);
    const sim = (q.keys.arraySync() as number[][]).map((r) => r.slice());
    const simLabels = new Array(K).fill(-1);
    let ptr = 0;
    for (let step = 0; step < 5; step++) {
      const keys = Array.from({ length: B }, (_, i) => [step, i, step * 10 + i]);
      const labels = keys.map((_, i) => step * 100 + i);
      q.enqueue(tf.tensor2d(keys), tf.tensor1d(labels, 'int32'));
      keys.forEach((k, i) => {
        sim[(ptr + i) % K] = k;
        simLabels[(ptr + i) % K] = labels[i];
      });
      ptr = (ptr + B) % K;
      assert.equal(q.ptr, ptr);
      assert.deepEqual(q.keys.arraySync(), sim);
      assert.deepEqual(Array.from(q.labels.dataSync()), simLabels);
    }
    q.dispose();
  });

  it('a batch larger than K keeps its last K keys', () => {
    const q = new KeyQueue(3, 1, 3);
    q.enqueue(tf.tensor2d([[1], [2], [3], [4], [5]]));
    // Writes go to slots 0,1,2,0,1: slot 0 <- 4, slot 1 <- 5, slot 2 <- 3.
    assert.deepEqual((q.keys.arraySync() as number[][]).flat(), [4, 5, 3]);
    assert.equal(q.ptr, 2);
    q.dispose();
  });

  it('keeps its tensor count constant and rejects wrong shapes', () => {
    const q = new KeyQueue(8, 2, 4);
    const k = tf.ones([3, 2]) as tf.Tensor2D;
    q.enqueue(k);
    const n = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) q.enqueue(k);
    assert.equal(tf.memory().numTensors, n);
    assert.throws(() => q.enqueue(tf.ones([3, 5]) as tf.Tensor2D), /keys must be \[B, 2\]/);
    assert.throws(() => new KeyQueue(0, 2, 1), /K must be a positive integer/);
    q.dispose();
  });
});
