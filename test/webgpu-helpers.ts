/**
 * The webgpu test group runs the GPU code paths of the library on whatever WebGPU adapter Dawn
 * finds: in CI that is Mesa's lavapipe (a software Vulkan driver, installed by .ci/run), which
 * runs the same WGSL kernels a GPU would, on the CPU. Without an adapter the group is skipped with
 * the reason, except under CI=true, where a missing adapter is a failure (CI must test the GPU
 * path); CWB_SKIP_WEBGPU=1 skips it on purpose.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/init';

let availability: Promise<string> | undefined;

/** '' when webgpu initialises (by name, so a software adapter counts), else the reason it does not. */
export function webgpuUnavailable(): Promise<string> {
  if (process.env.CWB_SKIP_WEBGPU === '1') return Promise.resolve('CWB_SKIP_WEBGPU=1');
  availability ??= (async () => {
    const before = tf.getBackend();
    try {
      await initBackend('webgpu', { quiet: true });
      return '';
    } catch (e) {
      return (e as Error).message;
    } finally {
      if (before) await tf.setBackend(before);
    }
  })();
  return availability;
}

/** In a `before` hook: skips the suite without an adapter (fails under CI=true). */
export async function requireWebgpu(ctx: Mocha.Context): Promise<void> {
  const why = await webgpuUnavailable();
  if (!why) return;
  if (process.env.CI === 'true' && process.env.CWB_SKIP_WEBGPU !== '1')
    throw new Error(`CI runs the webgpu group, but webgpu is unavailable: ${why}`);
  // eslint-disable-next-line no-console
  console.log(`      skipped: webgpu unavailable (${why.slice(0, 200)})`);
  ctx.skip();
}

/** Runs fn on a backend and reads every returned tensor back (then disposes them). */
export async function readOn(backend: 'webgpu' | 'cpu' | 'wasm', fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  if (backend === 'webgpu') await initBackend('webgpu', { quiet: true });
  else await tf.setBackend(backend);
  const out = tf.tidy(fn);
  try {
    return await Promise.all(out.map(async (t) => Float32Array.from(await t.data())));
  } finally {
    tf.dispose(out);
  }
}

/** max |a - b| / (1 + |b|) over the elements. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}
