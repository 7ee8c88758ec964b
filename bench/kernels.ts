/**
 * Times the wasm training kernels of src/backend/wasm-kernels.ts beside the built-in ones:
 * forward Conv2D (wasm), Conv2DBackpropInput (ours vs the shipped wasm loop), Conv2DBackpropFilter
 * (ours vs the cpu backend's). Run: `npx tsx bench/kernels.ts [--batch 128] [--reps 3] [--no-cpu]`.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

async function timeMs(f: () => tf.Tensor, reps: number): Promise<number> {
  f().dispose(); // warm-up (operator creation, weight packing)
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const y = f();
    await y.data();
    best = Math.min(best, performance.now() - t0);
    y.dispose();
  }
  return best;
}

async function main(): Promise<void> {
  const batch = Number(arg('batch', '128'));
  const reps = Number(arg('reps', '3'));
  const withCpu = !process.argv.includes('--no-cpu');
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
    const dwOurs = await timeMs(
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: wShape }) as tf.Tensor,
      reps,
    );
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
    if (withCpu) {
      const xv = await x.data();
      const dyv = await dy.data();
      await tf.setBackend('cpu');
      const xc = tf.tensor4d(xv, xShape);
      const dyc = tf.tensor4d(dyv, dy.shape);
      dwCpu = await timeMs(
        () => tf.engine().runKernel('Conv2DBackpropFilter', { x: xc, dy: dyc }, { ...attrs, filterShape: wShape }) as tf.Tensor,
        1,
      );
      tf.dispose([xc, dyc]);
      await tf.setBackend('wasm');
    }
    rows.push({
      input: `${xShape.join('x')}`,
      filter: wShape.join('x'),
      stride,
      forwardMs: +fwd.toFixed(1),
      dxOursMs: +dxOurs.toFixed(1),
      dxShippedWasmMs: +dxShipped.toFixed(1),
      dwOursMs: +dwOurs.toFixed(1),
      dwCpuBackendMs: typeof dwCpu === 'number' ? +dwCpu.toFixed(1) : dwCpu,
    });
    tf.dispose([x, w, y, dy]);
  }
  console.table(rows);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
