/**
 * The multi-threaded wasm backend (XNNPACK with a pthreads pool) in Node. tfjs-backend-wasm 4.22
 * ships the threaded SIMD build but never starts it in Node (WASM_HAS_MULTITHREAD_SUPPORT is false
 * there, and its loader hands Emscripten blob: URLs for the worker and main script, which Node's
 * worker_threads cannot load). This module starts that same build with file paths instead (the
 * worker script is written once to the OS temp folder) and re-registers the 'wasm' backend with it.
 *
 * Use before the wasm backend is first activated:
 *   await useThreadedWasm(2); await initBackend('wasm');
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

interface EmscriptenModule {
  cwrap: (name: string, ret: string | null, args: string[]) => (...a: unknown[]) => unknown;
  tfjs?: Record<string, unknown>;
}

let requested: number | undefined;

/** Threads asked for by the last useThreadedWasm call, if any. */
export function threadedWasmRequested(): number | undefined {
  return requested;
}

/**
 * Makes the 'wasm' backend the threaded SIMD build with `threads` XNNPACK threads (default: the
 * number of CPU cores). Throws if the wasm backend is already active (threads must be chosen
 * before it starts) or if this Node lacks wasm threads/SIMD.
 */
export async function useThreadedWasm(threads = os.cpus().length): Promise<void> {
  if (!(Number.isInteger(threads) && threads >= 1)) throw new Error(`useThreadedWasm: threads must be an integer >= 1, got ${threads}`);
  const wasmPkg = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  if (tf.engine().registryFactory.wasm && tf.engine().registry.wasm) {
    throw new Error('useThreadedWasm: the wasm backend is already initialised; call this before it is first used');
  }
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) throw new Error('useThreadedWasm: this Node has no wasm SIMD');
  if (typeof SharedArrayBuffer === 'undefined') throw new Error('useThreadedWasm: this Node has no SharedArrayBuffer (wasm threads)');
  const outDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const mainScript = path.join(outDir, 'tfjs-backend-wasm-threaded-simd.js');
  const wasmBinary = path.join(outDir, 'tfjs-backend-wasm-threaded-simd.wasm');
  const { wasmWorkerContents } = require(path.join(outDir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  // As the package's loader does for its Blob: the template literal turned "\n" escapes into newlines.
  const workerSource = wasmWorkerContents.replace(/\n/g, '\\n');
  const workerFile = path.join(os.tmpdir(), `cwb-tfjs-wasm-${wasmPkg.version_wasm}-${process.getuid?.() ?? 0}.worker.js`);
  if (!fs.existsSync(workerFile) || fs.readFileSync(workerFile, 'utf8') !== workerSource) {
    const tmp = `${workerFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, workerSource);
    fs.renameSync(tmp, workerFile);
  }
  const factory = require(mainScript) as (cfg: Record<string, unknown>) => Promise<EmscriptenModule>;

  tf.removeBackend('wasm');
  wasmPkg.setThreadsCount(threads);
  tf.registerBackend(
    'wasm',
    async () => {
      // The C++ side caps the pool at emscripten_num_logical_cores() / 2 (it assumes 2 hyper-threads
      // per core), read once at start-up from os.cpus() in Node: report 2 * threads while it starts.
      const osModule = require('node:os') as { cpus: () => os.CpuInfo[] }; // the object the Emscripten glue requires
      const realCpus = osModule.cpus;
      const fakeCpus = realCpus();
      while (fakeCpus.length < 2 * threads) fakeCpus.push(fakeCpus[0]);
      osModule.cpus = () => fakeCpus;
      const module = await new Promise<EmscriptenModule>((resolve, reject) => {
        const m = factory({
          locateFile: (p: string, prefix: string) => (p.endsWith('.worker.js') ? workerFile : p.endsWith('.wasm') ? wasmBinary : prefix + p),
          mainScriptUrlOrBlob: mainScript,
          onAbort: (what: unknown) => reject(new Error(`threaded wasm aborted: ${String(what)}`)),
        });
        // Emscripten's module is a thenable that resolves to itself: strip `then` to avoid a loop.
        m.then((mod) => {
          delete (mod as { then?: unknown }).then;
          resolve(mod);
        }, reject);
      }).finally(() => {
        osModule.cpus = realCpus;
      });
      module.tfjs = {
        init: module.cwrap('init', null, []),
        initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
        getThreadsCount: module.cwrap('get_threads_count', 'number', []),
        registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
        disposeData: module.cwrap('dispose_data', null, ['number']),
        dispose: module.cwrap('dispose', null, []),
      };
      return new wasmPkg.BackendWasm(module as unknown as ConstructorParameters<typeof wasmPkg.BackendWasm>[0]);
    },
    2,
  );
  requested = threads;
}
