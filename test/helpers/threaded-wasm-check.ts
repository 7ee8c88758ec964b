/**
 * Run in a child process by test/wasm-threads.test.ts (the threaded backend must be chosen before
 * the wasm backend first starts): starts wasm with 2 XNNPACK threads, runs initBackend's self-test,
 * compares conv2d value and gradients with the cpu backend, prints one JSON line.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/init';
import { useThreadedWasm } from '../../src/backend/wasm-threads';

async function grads(): Promise<Float32Array[]> {
  return tf.tidy(() => {
    const x = tf.randomNormal([8, 15, 17, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 8, 16], 0, 1, 'float32', 2) as tf.Tensor4D;
    const r = tf.randomNormal([8, 8, 9, 16], 0, 1, 'float32', 3);
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf
        .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')
        .mul(r)
        .sum(),
    )([x, w]);
    return [tf.conv2d(x, w, 2, 'same'), gx, gw].map((t) => t.dataSync() as Float32Array);
  });
}

async function main(): Promise<void> {
  await useThreadedWasm(2);
  const report = await initBackend('wasm', { quiet: true });
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  const threads = wasm.getThreadsCount();
  const onWasm = await grads();
  await tf.setBackend('cpu');
  const onCpu = await grads();
  const relErr = onCpu.map((ref, i) => {
    let d = 0;
    let m = 1e-6;
    for (let j = 0; j < ref.length; j++) {
      d = Math.max(d, Math.abs(onWasm[i][j] - ref[j]));
      m = Math.max(m, Math.abs(ref[j]));
    }
    return d / m;
  });
  process.stdout.write(`${JSON.stringify({ backend: report.backend, threads, relErr })}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
    process.exit(1);
  },
);
