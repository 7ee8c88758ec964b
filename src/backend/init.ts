/**
 * Backend selection. `initBackend('auto')` tries, fastest first: `tensorflow` on CUDA
 * (tfjs-node-gpu), `webgpu` on a hardware GPU adapter, `tensorflow` on the CPU (tfjs-node), `wasm`
 * (with this project's training kernels), `cpu`; each candidate must load and pass a tiny
 * self-test (a conv + matmul forward and backward against known values). Auto never takes a
 * software WebGPU adapter (llvmpipe/lavapipe, SwiftShader, a fallback adapter): that is a CPU, far
 * slower than the CPU backends; asking for `webgpu` by name still allows one (CI tests the GPU code
 * paths on lavapipe that way). A backend asked for by name that cannot load is an error that says
 * why and how to install it.
 *
 * The WebGPU adapter is first probed in a child process, so that Dawn's and the Vulkan loader's
 * messages (printed by native code) stay out of this process's output unless CWB_VERBOSE is set,
 * and a machine without a usable GPU never loads Dawn at all. TensorFlow's own C++ logging is
 * likewise held at warnings-and-above unless CWB_VERBOSE is set.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from './wasm-kernels';

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';
export const BACKEND_ORDER: BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

interface Candidate {
  backend: BackendName;
  /** For 'tensorflow': which tfjs-node packages this step tries. */
  tfPackages?: readonly TfjsNodePackage[];
}

/** Auto's order: a GPU first (CUDA, then a hardware WebGPU adapter), then the CPU backends, fastest first. */
const AUTO_ORDER: Candidate[] = [
  { backend: 'tensorflow', tfPackages: ['@tensorflow/tfjs-node-gpu'] },
  { backend: 'webgpu' },
  { backend: 'tensorflow', tfPackages: ['@tensorflow/tfjs-node'] },
  { backend: 'wasm' },
  { backend: 'cpu' },
];

export interface BackendReport {
  /** The backend now active. */
  backend: BackendName;
  /** Device name where known (GPU adapter, 'CPU (wasm SIMD, 1 thread)', ...). */
  device: string;
  /** Why each faster candidate was not used (auto only). */
  skipped: { backend: BackendName; reason: string }[];
  /** How it was chosen: 'auto', 'CWB_BACKEND', or 'argument'. */
  chosenBy: string;
}

const INSTALL_HINT: Record<BackendName, string> = {
  tensorflow:
    'install the native binding: `npm install @tensorflow/tfjs-node-gpu` (CUDA 11.2 + cuDNN 8.1) or ' +
    '`npm install @tensorflow/tfjs-node` (CPU); both download libtensorflow from storage.googleapis.com ' +
    'during install, so they need that host to be reachable',
  webgpu:
    'WebGPU needs a GPU with a Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver and the `webgpu` ' +
    "npm package (installed with this project); on Linux make sure libvulkan1 and the GPU vendor's ICD " +
    'are installed (`vulkaninfo` lists the device)',
  wasm: 'reinstall @tensorflow/tfjs-backend-wasm (`npm ci`)',
  cpu: 'reinstall @tensorflow/tfjs (`npm ci`)',
};

let current: BackendReport | undefined;
/** The adapter the webgpu backend runs on, once it has been set up in this process. */
let webgpuDevice: string | undefined;

/** Why a tfjs-node package cannot load (not installed, or installed without its binding); '' when it can. */
function missingNativeBinding(pkg: string): string {
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${pkg}/package.json`);
  } catch {
    return 'not installed';
  }
  const dir = path.join(path.dirname(pkgJson), 'lib');
  const found = fs.existsSync(dir) && fs.readdirSync(dir).some((d) => fs.existsSync(path.join(dir, d, 'tfjs_binding.node')));
  return found
    ? ''
    : 'installed without its native binding (its install script could not download libtensorflow); ' +
        '`npm run setup:tensorflow` builds it against the TensorFlow wheel from PyPI';
}

function describeError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].slice(0, 300);
}

const TFJS_NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
type TfjsNodePackage = (typeof TFJS_NODE_PACKAGES)[number];

const verbose = (): boolean => Boolean(process.env.CWB_VERBOSE) && process.env.CWB_VERBOSE !== '0';

/** Loads tfjs-node(-gpu) and makes the tensorflow backend active; throws with the reason when it cannot. */
async function activateTensorflow(pkg: TfjsNodePackage): Promise<string> {
  // A package whose install script failed has no native binding, and requiring it would still
  // register its kernels before failing (then the next package's registration warns about every
  // kernel): look for the binding first.
  const missing = missingNativeBinding(pkg);
  if (missing) throw new Error(missing);
  // libtensorflow logs its CPU-feature notice and absl's start-up warning at INFO level.
  if (!verbose() && process.env.TF_CPP_MIN_LOG_LEVEL === undefined) process.env.TF_CPP_MIN_LOG_LEVEL = '2';
  // TensorFlow turns its oneDNN kernels on by itself only on CPUs with AVX512-VNNI, AVX512-BF16 or
  // AMX; elsewhere (AVX2 machines) the eager convolutions fall back to Eigen, whose input gradient is
  // 2-4x slower than oneDNN's (bench/README.md). libtensorflow reads this when it first runs an op.
  if (pkg === '@tensorflow/tfjs-node' && process.env.TF_ENABLE_ONEDNN_OPTS === undefined) process.env.TF_ENABLE_ONEDNN_OPTS = '1';
  try {
    require(pkg);
  } catch (e) {
    const m = describeError(e);
    throw new Error(/Cannot find module/.test(m) ? 'not installed' : m);
  }
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend failed to initialise`);
  if (pkg === '@tensorflow/tfjs-node') return process.env.TF_ENABLE_ONEDNN_OPTS === '1' ? 'libtensorflow (CPU, oneDNN)' : 'libtensorflow (CPU)';
  // The CUDA build runs on the CPU when libtensorflow finds no CUDA device or driver.
  const onGpu = (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice;
  return onGpu ? 'libtensorflow (CUDA)' : 'libtensorflow (CUDA build; no CUDA GPU found, running on the CPU)';
}

/** What Dawn reports of the adapter it would use. */
export interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** Why an adapter is a software (CPU) implementation, or '' for a hardware GPU. */
export function softwareAdapterReason(info: AdapterInfo): string {
  if (info.isFallbackAdapter) return 'it is a fallback adapter';
  if ((info.architecture ?? '').toLowerCase() === 'software') return "its architecture is 'software'";
  const text = [info.vendor, info.device, info.description].filter(Boolean).join(' ');
  const m = /llvmpipe|lavapipe|swiftshader|softpipe|software rasterizer|microsoft basic render/i.exec(text);
  return m ? `it is the ${m[0]} CPU renderer` : '';
}

export function describeAdapter(info: AdapterInfo): string {
  return [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'WebGPU adapter';
}

/** Dawn options, ';'-separated (an option can hold commas), e.g. 'enable-dawn-features=disable_robustness;backend=vulkan'. */
function dawnFlags(): string[] {
  return (process.env.CWB_DAWN_FLAGS ?? '')
    .split(';')
    .map((f) => f.trim())
    .filter(Boolean);
}

/**
 * Asks Dawn for an adapter in a child process and returns its description; the child's output
 * (Dawn and the Vulkan loader write to the native stderr) is kept for the error message and shown
 * only with CWB_VERBOSE. Throws when Dawn does not load or finds no adapter.
 */
export function probeWebgpuAdapter(): AdapterInfo {
  let webgpuMain: string;
  try {
    webgpuMain = require.resolve('webgpu');
  } catch (e) {
    throw new Error(`the 'webgpu' package (Dawn for Node) is not installed: ${describeError(e)}`);
  }
  const script = `
    const m = require(${JSON.stringify(webgpuMain)});
    const gpu = m.create(JSON.parse(process.argv[1]));
    gpu.requestAdapter({ powerPreference: 'high-performance' }).then((a) => {
      const i = (a && a.info) || {};
      const out = a ? { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description,
        isFallbackAdapter: Boolean(a.isFallbackAdapter || i.isFallbackAdapter) } : null;
      process.stdout.write('\\n@@adapter ' + JSON.stringify(out) + '\\n');
      process.exit(0);
    }, (e) => { process.stdout.write('\\n@@error ' + JSON.stringify(String(e && e.message || e)) + '\\n'); process.exit(0); });`;
  const r = spawnSync(process.execPath, ['-e', script, JSON.stringify(dawnFlags())], { encoding: 'utf8', timeout: 60000 });
  const out = r.stdout ?? '';
  const noise = [(r.stderr ?? '').trim(), out.replace(/\n@@(adapter|error) .*/g, '').trim()].filter(Boolean).join('\n');
  if (verbose() && noise) process.stderr.write(`[cwb] Dawn (webgpu probe):\n${noise}\n`);
  const adapter = /@@adapter (.*)/.exec(out);
  if (adapter) {
    const info = JSON.parse(adapter[1]) as AdapterInfo | null;
    if (info) return info;
    const hint = noise.split('\n').find((l) => /driver|vkCreateInstance|libvulkan|GPU/i.test(l));
    throw new Error(`no WebGPU adapter found (Dawn found no Vulkan/Metal/D3D12 GPU${hint ? `: ${hint.replace(/^Warning:\s*/, '').trim()}` : ''})`);
  }
  const err = /@@error (.*)/.exec(out);
  if (err) throw new Error(`Dawn could not look for an adapter: ${JSON.parse(err[1])}`);
  const why = r.error ? r.error.message : r.signal ? `it was killed by ${r.signal}` : `it exited with code ${r.status}`;
  throw new Error(`the 'webgpu' package (Dawn for Node) did not load in a probe process (${why})${noise ? `: ${noise.split('\n')[0]}` : ''}`);
}

/** Loads a backend's package and makes it active; throws with the reason when it cannot. */
async function activate(name: BackendName, opts: { allowSoftware: boolean; tfPackages?: readonly TfjsNodePackage[] }): Promise<string> {
  switch (name) {
    case 'tensorflow': {
      const errors: string[] = [];
      for (const pkg of opts.tfPackages ?? TFJS_NODE_PACKAGES) {
        try {
          return await activateTensorflow(pkg);
        } catch (e) {
          errors.push(`${pkg}: ${describeError(e)}`);
        }
      }
      throw new Error(errors.join('; '));
    }
    case 'webgpu': {
      // Dawn and the backend are set up once per process; later calls only switch back to it.
      if (webgpuDevice && tf.findBackend('webgpu')) {
        if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs-backend-webgpu failed to initialise on the adapter');
        return webgpuDevice;
      }
      const probed = probeWebgpuAdapter();
      const software = softwareAdapterReason(probed);
      if (software && !opts.allowSoftware) {
        throw new Error(
          `the only adapter is ${describeAdapter(probed)}, a software (CPU) renderer (${software}); auto never takes one ` +
            `(ask for it with --backend webgpu / CWB_BACKEND=webgpu)`,
        );
      }
      let gpuModule: { create: (opts: string[]) => unknown; globals?: Record<string, unknown> };
      try {
        gpuModule = require('webgpu');
      } catch (e) {
        throw new Error(`the 'webgpu' package (Dawn for Node) did not load: ${describeError(e)}`);
      }
      const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
      if (gpuModule.globals) Object.assign(globalThis, gpuModule.globals);
      const gpu = gpuModule.create(dawnFlags()) as { requestAdapter: (o?: unknown) => Promise<unknown> };
      const adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' })) as { info?: AdapterInfo } | null;
      if (!adapter) throw new Error('no WebGPU adapter found (Dawn found no Vulkan/Metal/D3D12 GPU)');
      if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
      (g.navigator as { gpu?: unknown }).gpu = gpu;
      require('@tensorflow/tfjs-backend-webgpu');
      if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs-backend-webgpu failed to initialise on the adapter');
      explainReadSyncInNode();
      webgpuDevice = describeAdapter(adapter.info ?? probed);
      return webgpuDevice;
    }
    case 'wasm': {
      require('@tensorflow/tfjs-backend-wasm');
      registerWasmTrainingKernels();
      if (!(await tf.setBackend('wasm'))) throw new Error('tfjs-backend-wasm failed to initialise');
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      return `CPU (wasm${simd ? ' SIMD' : ''}, 1 thread)`;
    }
    case 'cpu': {
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
      return 'CPU (pure JavaScript)';
    }
  }
}

/**
 * tfjs-backend-webgpu reads a GPU tensor synchronously (dataSync, arraySync) through an
 * OffscreenCanvas, which Node lacks: the call dies with "OffscreenCanvas is not defined". Say
 * instead what to do. Values already on the CPU still read synchronously.
 */
function explainReadSyncInNode(): void {
  if (typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== 'undefined') return;
  const backend = tf.backend() as unknown as {
    readSync: (dataId: object) => unknown;
    tensorMap: { get: (dataId: object) => { values?: unknown; dtype: string } | undefined };
  };
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId: object) => {
    const d = backend.tensorMap.get(dataId);
    if (!d || d.values != null || d.dtype === 'string') return readSync(dataId);
    throw new Error(
      'dataSync()/arraySync() cannot read a GPU tensor on the webgpu backend in Node (tfjs-backend-webgpu reads ' +
        'synchronously through an OffscreenCanvas, which Dawn for Node lacks); use `await tensor.data()`',
    );
  };
}

interface SelfTestCase {
  what: string;
  tensor: tf.Tensor;
  expected: ArrayLike<number>;
}

/**
 * The self-test's tensors and their reference values: conv2d (stride 2, same padding) forward and
 * both gradients, and a matMul, with the expected values computed in plain JavaScript.
 * The caller disposes the tensors.
 */
function selfTestCases(): SelfTestCase[] {
  const xv = Array.from({ length: 1 * 4 * 4 * 2 }, (_, i) => ((i * 7) % 5) / 5 - 0.4);
  const wv = Array.from({ length: 3 * 3 * 2 * 2 }, (_, i) => ((i * 3) % 7) / 7 - 0.5);
  // Reference in plain JS: 'same' with stride 2 on 4x4 -> 2x2, pad top/left 0, bottom/right 1.
  const ref = new Float64Array(2 * 2 * 2);
  const refGw = new Float64Array(3 * 3 * 2 * 2);
  const refGx = new Float64Array(4 * 4 * 2);
  const X = (r: number, c: number, ch: number) => (r < 4 && c < 4 ? xv[(r * 4 + c) * 2 + ch] : 0);
  const W = (r: number, c: number, ci: number, co: number) => wv[((r * 3 + c) * 2 + ci) * 2 + co];
  for (let oy = 0; oy < 2; oy++)
    for (let ox = 0; ox < 2; ox++)
      for (let co = 0; co < 2; co++) {
        let s = 0;
        for (let ky = 0; ky < 3; ky++)
          for (let kx = 0; kx < 3; kx++) for (let ci = 0; ci < 2; ci++) s += X(oy * 2 + ky, ox * 2 + kx, ci) * W(ky, kx, ci, co);
        ref[(oy * 2 + ox) * 2 + co] = s;
      }
  for (let oy = 0; oy < 2; oy++)
    for (let ox = 0; ox < 2; ox++)
      for (let co = 0; co < 2; co++) {
        const dy = 2 * ref[(oy * 2 + ox) * 2 + co];
        for (let ky = 0; ky < 3; ky++)
          for (let kx = 0; kx < 3; kx++)
            for (let ci = 0; ci < 2; ci++) {
              const r = oy * 2 + ky;
              const c = ox * 2 + kx;
              if (r < 4 && c < 4) {
                refGw[((ky * 3 + kx) * 2 + ci) * 2 + co] += dy * X(r, c, ci);
                refGx[(r * 4 + c) * 2 + ci] += dy * W(ky, kx, ci, co);
              }
            }
      }
  const [y, gx, gw, m] = tf.tidy(() => {
    const x = tf.tensor4d(xv, [1, 4, 4, 2]);
    const w = tf.tensor4d(wv, [3, 3, 2, 2]);
    const f = (xx: tf.Tensor4D, ww: tf.Tensor4D) => tf.conv2d(xx, ww, 2, 'same').square().sum() as tf.Scalar;
    const [dx, dw] = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([x, w]);
    const mm = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]));
    return [tf.conv2d(x, w, 2, 'same'), dx, dw, mm];
  });
  return [
    { what: 'conv2d', tensor: y, expected: ref },
    { what: 'conv2d input gradient', tensor: gx, expected: refGx },
    { what: 'conv2d filter gradient', tensor: gw, expected: refGw },
    { what: 'matMul', tensor: m, expected: [19, 22, 43, 50] },
  ];
}

function checkClose(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  for (let i = 0; i < b.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= 1e-3 * (1 + Math.abs(b[i])))) {
      throw new Error(`self-test: ${what}[${i}] = ${a[i]}, expected ${b[i]}`);
    }
  }
}

/**
 * A tiny training self-test: conv2d (stride 2, same padding) + matMul, forward and backward,
 * compared with values computed in plain JavaScript. Catches backends that load but compute
 * nothing (e.g. a null WebGPU adapter) or lack a training kernel. Reads with `await data()`, the
 * only way to read a GPU tensor on webgpu in Node (dataSync() needs an OffscreenCanvas that Dawn
 * does not provide).
 */
export async function selfTestAsync(): Promise<void> {
  const cases = selfTestCases();
  try {
    for (const c of cases) checkClose(await c.tensor.data(), c.expected, c.what);
  } finally {
    tf.dispose(cases.map((c) => c.tensor));
  }
}

function log(line: string, quiet: boolean): void {
  if (!quiet) process.stderr.write(`[cwb] ${line}\n`);
}

export interface InitOptions {
  /** Do not print the choice and the skipped backends to stderr. */
  quiet?: boolean;
}

/**
 * Choose and activate a backend. `choice` defaults to $CWB_BACKEND, then 'auto'.
 * Returns (and logs) what was chosen, the device, and why faster backends were skipped.
 */
export async function initBackend(choice?: BackendChoice | string, opts: InitOptions = {}): Promise<BackendReport> {
  const env = process.env.CWB_BACKEND || undefined;
  const fromEnv = choice === undefined && env;
  const want = (choice ?? env ?? 'auto').toLowerCase();
  const chosenBy = choice !== undefined ? 'argument' : fromEnv ? 'CWB_BACKEND' : 'auto';
  const quiet = opts.quiet ?? false;
  if (want !== 'auto' && !BACKEND_ORDER.includes(want as BackendName)) {
    throw new Error(`unknown backend '${want}' (from ${chosenBy}); choose one of auto, ${BACKEND_ORDER.join(', ')}`);
  }
  if (current && (want === 'auto' || current.backend === want) && tf.getBackend() === current.backend) {
    return current;
  }
  const candidates: Candidate[] = want === 'auto' ? AUTO_ORDER : [{ backend: want as BackendName }];
  const reasons = new Map<BackendName, string[]>();
  for (const c of candidates) {
    try {
      const device = await activate(c.backend, { allowSoftware: want !== 'auto', tfPackages: c.tfPackages });
      await selfTestAsync();
      const skipped = [...reasons].filter(([b]) => b !== c.backend).map(([backend, r]) => ({ backend, reason: r.join('; ') }));
      current = { backend: c.backend, device, skipped, chosenBy };
      log(`backend: ${c.backend} (${device}), chosen by ${chosenBy}`, quiet);
      for (const s of skipped) log(`  skipped ${s.backend}: ${s.reason}`, quiet);
      return current;
    } catch (e) {
      const reason = describeError(e);
      if (want !== 'auto') {
        throw new Error(`backend '${c.backend}' requested (${chosenBy}) but it cannot be used: ${reason}. To get it: ${INSTALL_HINT[c.backend]}.`);
      }
      reasons.set(c.backend, [...(reasons.get(c.backend) ?? []), reason]);
    }
  }
  throw new Error(`no backend could be initialised: ${[...reasons].map(([b, r]) => `${b}: ${r.join('; ')}`).join('; ')}`);
}

/** The report of the last successful initBackend, if any. */
export function backendReport(): BackendReport | undefined {
  return current;
}
