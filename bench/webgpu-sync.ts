/**
 * Timing and reading back on the webgpu backend in Node, for the bench (bench/run.ts) and the GPU
 * preflight (bench/gpu-preflight.ts).
 *
 * tfjs-backend-webgpu queues its work and submits it in batches, so a step's wall time means
 * nothing until the GPU has finished: `gpuIdle()` submits what is queued and waits for the queue.
 *
 * dataSync() on a GPU tensor does not work in Node: tfjs-backend-webgpu reads synchronously
 * through an OffscreenCanvas, which Dawn for Node lacks (src/backend/init.ts replaces the
 * ReferenceError with an explanation). The methods' trainStep reads its loss with dataSync()
 * (src/methods/base.ts, optimise). `deferSyncReads()` lets the bench time them anyway: a
 * synchronous read of a GPU tensor starts an asynchronous copy of it, queued behind the work
 * that made it, and returns NaN at once; `settle()` waits for those copies, so it also waits
 * for the step's GPU work, and gives the values the step should have read.
 * Only for timing: code that branches on the values it reads would go wrong.
 */
import * as tf from '@tensorflow/tfjs';

interface WebGPUBackendLike {
  device: { queue: { onSubmittedWorkDone: () => Promise<void> } };
  tensorMap: { get: (dataId: object) => { values?: unknown; dtype: string; shape: number[]; resource?: unknown } | undefined };
  readSync: (dataId: object) => unknown;
  getBufferData: (buffer: unknown) => Promise<ArrayBuffer>;
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

export interface DeferredReads {
  /** Waits for the GPU and for every deferred read since the last settle; returns their values. */
  settle(): Promise<Float32Array[]>;
  /** Puts the backend's readSync back. */
  restore(): void;
}

export function deferSyncReads(): DeferredReads {
  const b = webgpuBackend();
  const original = b.readSync;
  let pending: Promise<Float32Array>[] = [];
  b.readSync = (dataId: object) => {
    const d = b.tensorMap.get(dataId);
    if (!d || d.values != null || d.dtype === 'string' || d.dtype === 'complex64' || !d.resource) return original.call(b, dataId);
    const n = d.shape.reduce((a, x) => a * x, 1);
    // getBufferData records the copy before its first await, so the tensor may be disposed
    // right after this returns: the copy is already queued behind the work that wrote it.
    const dtype = d.dtype;
    pending.push(
      b.getBufferData(d.resource).then((buf) => {
        const vals = dtype === 'int32' || dtype === 'bool' ? Float32Array.from(new Int32Array(buf, 0, n)) : new Float32Array(buf, 0, n);
        return Float32Array.from(vals);
      }),
    );
    return dtype === 'int32' || dtype === 'bool' ? new Int32Array(n) : new Float32Array(n).fill(NaN);
  };
  return {
    async settle() {
      await gpuIdle();
      const p = pending;
      pending = [];
      return Promise.all(p);
    },
    restore() {
      b.readSync = original;
    },
  };
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
    if (first.length < keep) first.push(String(ev?.error?.message ?? ev).split('\n').slice(0, 3).join(' | ').slice(0, 300));
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
  const bm = (webgpuBackend() as unknown as {
    bufferManager: { freeBuffers: Map<string, { size: number; destroy: () => void }[]>; numFreeBuffers: number; numBytesAllocated: number };
  }).bufferManager;
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
