/**
 * Timing and reading back on the webgpu backend in Node, for the bench (bench/run.ts) and the GPU
 * preflight (bench/gpu-preflight.ts).
 *
 * tfjs-backend-webgpu queues its work and submits it in batches, so a step's wall time means
 * nothing until the GPU has finished: `gpuIdle()` submits what is queued and waits for the queue.
 *
 * dataSync() on a GPU tensor does not work in Node: tfjs-backend-webgpu reads synchronously
 * through an OffscreenCanvas, which Dawn for Node lacks (src/backend/init.ts replaces the
 * ReferenceError with an explanation). The bench therefore reads each step's loss with
 * `await data()` (Method.trainStep): the read is queued behind the step's GPU work, so it
 * also waits for all of it.
 */
import * as tf from '@tensorflow/tfjs';

interface WebGPUBackendLike {
  device: { queue: { onSubmittedWorkDone: () => Promise<void> } };
  ensureCommandEncoderReady: () => void;
  endComputePassEncoder: () => void;
  submitQueue: () => void;
}

function webgpuBackend(): WebGPUBackendLike {
  if (tf.getBackend() !== 'webgpu') throw new Error(`webgpu-sync: the active backend is ${tf.getBackend()}, not webgpu`);
  return tf.backend() as unknown as WebGPUBackendLike;
}

/** Submits the queued commands and resolves when the GPU has run everything submitted. */
export async function gpuIdle(): Promise<void> {
  const b = webgpuBackend();
  b.ensureCommandEncoderReady();
  b.endComputePassEncoder();
  b.submitQueue();
  await b.device.queue.onSubmittedWorkDone();
}

export interface GpuErrors {
  /** The WebGPU errors since the last take (count, and the first few messages), and resets. */
  take(): { count: number; first: string[] };
}

/**
 * Counts the device's uncaptured errors (out of memory, validation). tfjs-backend-webgpu does not
 * watch for them: after one, the kernels that follow compute nothing and the step "succeeds" with
 * made-up values. The handler also stops Dawn printing every error (thousands of lines).
 */
export function watchGpuErrors(keep = 3): GpuErrors {
  const device = (webgpuBackend() as unknown as { device: { onuncapturederror: unknown } }).device;
  let count = 0;
  let first: string[] = [];
  device.onuncapturederror = (ev: { error?: { message?: string } }) => {
    count++;
    if (first.length < keep)
      first.push(
        String(ev?.error?.message ?? ev)
          .split('\n')
          .slice(0, 3)
          .join(' | ')
          .slice(0, 300),
      );
  };
  return {
    take() {
      const r = { count, first };
      count = 0;
      first = [];
      return r;
    },
  };
}

/**
 * Destroys the buffers tfjs-backend-webgpu keeps for reuse. Its buffer manager never frees a
 * released buffer, so every row (a new model, new shapes) would add to the pool until the GPU
 * runs out; call between rows, when nothing is in flight. Returns the bytes freed.
 */
export async function releaseFreeBuffers(): Promise<number> {
  await gpuIdle();
  const bm = (
    webgpuBackend() as unknown as {
      bufferManager: { freeBuffers: Map<string, { size: number; destroy: () => void }[]>; numFreeBuffers: number; numBytesAllocated: number };
    }
  ).bufferManager;
  let freed = 0;
  for (const [key, list] of bm.freeBuffers) {
    for (const b of list) {
      freed += b.size;
      b.destroy();
    }
    // Keep the key: releaseBuffer() does nothing while the map is empty.
    bm.freeBuffers.set(key, []);
  }
  bm.numFreeBuffers = 0;
  bm.numBytesAllocated -= freed;
  return freed;
}
