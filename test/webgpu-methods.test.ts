/**
 * Every method variant trains on webgpu as on wasm: from the same seed (same initial weights) and
 * the same batches, three training steps give losses equal to wasm's to 1e-4, and the tensor count
 * stays constant from step to step (nothing leaks on the GPU path).
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/init';
import { createMethod } from '../src/methods/factory';
import { disposeBatch, randomBatch, SGD, TINY_DATA, TINY_ENCODER, tinyConfigs } from './methods-helpers';
import { requireWebgpu } from './webgpu-helpers';

const STEPS = 3;

async function losses(backend: 'wasm' | 'webgpu', method: ReturnType<typeof tinyConfigs>[number]['method']) {
  await initBackend(backend, { quiet: true });
  const m = createMethod({ method, encoder: TINY_ENCODER, optimizer: SGD }, TINY_DATA, 3);
  // Batch 16: at batch 8 the symmetric variant's split BN (4 samples a split, 1 x 1 maps deep in the
  // tiny ConvNet) amplifies float32 rounding so much that wasm and cpu already differ by 1e-4 at step 3.
  const batches = [1, 2, 3].map((s) => randomBatch(16, s));
  const out: number[] = [];
  const counts: number[] = [];
  try {
    for (let i = 0; i < STEPS; i++) {
      out.push((await m.trainStep(batches[i])).loss);
      counts.push(tf.memory().numTensors);
    }
  } finally {
    batches.forEach(disposeBatch);
    m.dispose();
  }
  return { losses: out, counts };
}

describe('webgpu: every method trains as on wasm', function () {
  this.timeout(600000);
  before(async function () {
    await requireWebgpu(this);
  });
  after(async () => {
    await initBackend('wasm', { quiet: true });
  });

  for (const { label, method } of tinyConfigs()) {
    it(`${label}: ${STEPS} steps, losses equal to wasm's to 1e-4, constant tensor count`, async () => {
      const ref = await losses('wasm', method);
      const gpu = await losses('webgpu', method);
      // eslint-disable-next-line no-console
      if (process.env.CWB_PRINT_DIFFS) console.log(`        ${label}: wasm ${ref.losses.join(', ')} / webgpu ${gpu.losses.join(', ')}`);
      gpu.losses.forEach((l, i) => {
        const e = Math.abs(l - ref.losses[i]) / (1 + Math.abs(ref.losses[i]));
        assert.ok(e <= 1e-4, `step ${i}: webgpu loss ${l}, wasm ${ref.losses[i]} (relative difference ${e.toExponential(2)})`);
      });
      assert.deepEqual(
        gpu.counts.slice(1),
        gpu.counts.slice(1).map(() => gpu.counts[1]),
        `tensor counts per step: ${gpu.counts}`,
      );
    });
  }
});
