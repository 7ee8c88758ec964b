/**
 * Times the wasm training kernels of src/backend/wasm-kernels.ts beside the built-in ones:
 * forward Conv2D (wasm), Conv2DBackpropInput (ours vs the shipped wasm loop), Conv2DBackpropFilter
 * (ours vs the cpu backend's, on --cpu-batch images: the pure-JS loop is too slow for 128 on a
 * shared machine). Figures are the best of --reps runs, in CPU milliseconds of this process (wall
 * time is unreliable when other jobs share the cores; the wasm backend here is single-threaded).
 * Run: `npx tsx bench/kernels.ts [--batch 128] [--cpu-batch 16] [--reps 3] [--no-cpu]`.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { arg } from './args';

async function timeMs(f: () => tf.Tensor, reps: number): Promise<number> {
  f().dispose(); // warm-up (operator creation, weight packing)
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const y = f();
    await y.data();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000);
    y.dispose();
  }
  return best;
}

async function main(): Promise<void> {
  const batch = Number(arg('batch', '128'));
  const reps = Number(arg('reps', '3'));
  const withCpu = !process.argv.includes('--no-cpu');
  const cpuBatch = Number(arg('cpu-batch', '16'));
  const shippedInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (!shippedInput) throw new Error('the shipped wasm Conv2DBackpropInput kernel is missing');
  const { registerWasmTrainingKernels } = await import('../src/backend/wasm-kernels');
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
  const rows: Record<string, string | number>[] = [];
  for (const stride of [1, 2]) {
    const xShape: [number, number, number, number] = [batch, 32, 32, 32];
    const wShape: [number, number, number, number] = [3, 3, 32, 32];
    const x = tf.randomNormal(xShape, 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal(wShape, 0, 1, 'float32', 2) as tf.Tensor4D;
    const y = tf.conv2d(x, w, stride, 'same');
    const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 3) as tf.Tensor4D;
    const attrs = { strides: [stride, stride], pad: 'same', dataFormat: 'NHWC' } as tf.NamedAttrMap;
    const fwd = await timeMs(() => tf.conv2d(x, w, stride, 'same'), reps);
    const dxOurs = await timeMs(
      () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: xShape }) as tf.Tensor,
      reps,
    );
    const dwOurs = await timeMs(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: wShape }) as tf.Tensor, reps);
    // The shipped wasm kernel, run directly (it is no longer registered).
    const wasmBackend = tf.backend();
    shippedInput.setupFunc?.(wasmBackend); // its cwrap setup did not run: it was unregistered first
    const dxShipped = await timeMs(() => {
      const info = shippedInput.kernelFunc({
        inputs: { dy, filter: w },
        backend: wasmBackend,
        attrs: { ...attrs, inputShape: xShape } as unknown as tf.NamedAttrMap,
      }) as tf.TensorInfo;
      return tf.engine().makeTensorFromTensorInfo(info);
    }, reps);
    let dwCpu: number | string = 'skipped';
    let dwOursSmall: number | string = 'skipped';
    if (withCpu) {
      // Same layer on cpuBatch images, ours (wasm) and the cpu backend's.
      const xs = x.slice(0, cpuBatch);
      const dys = dy.slice(0, cpuBatch);
      const small = { ...attrs, filterShape: wShape };
      dwOursSmall = await timeMs(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: xs, dy: dys }, small) as tf.Tensor, reps);
      const xv = await xs.data();
      const dyv = await dys.data();
      await tf.setBackend('cpu');
      const xc = tf.tensor4d(xv, xs.shape);
      const dyc = tf.tensor4d(dyv, dys.shape);
      dwCpu = await timeMs(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: xc, dy: dyc }, small) as tf.Tensor, 1);
      tf.dispose([xc, dyc]);
      await tf.setBackend('wasm');
      tf.dispose([xs, dys]);
    }
    rows.push({
      input: `${xShape.join('x')}`,
      filter: wShape.join('x'),
      stride,
      forwardMs: +fwd.toFixed(1),
      dxOursMs: +dxOurs.toFixed(1),
      dxShippedWasmMs: +dxShipped.toFixed(1),
      dwOursMs: +dwOurs.toFixed(1),
      [`dwOursMs@${cpuBatch}`]: typeof dwOursSmall === 'number' ? +dwOursSmall.toFixed(1) : dwOursSmall,
      [`dwCpuBackendMs@${cpuBatch}`]: typeof dwCpu === 'number' ? +dwCpu.toFixed(1) : dwCpu,
    });
    tf.dispose([x, w, y, dy]);
  }
  console.table(rows);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
