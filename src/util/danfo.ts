/**
 * Loading danfojs-node without letting it damage TF.js. danfojs-node 1.2.0 brings its own TF.js
 * copy (4.21, through the package.json override of its tfjs-node dependency) whose backends
 * re-register every cpu/webgl kernel in the *shared* global kernel registry, replacing ours and
 * printing one warning per kernel. We snapshot the registry, load danfojs with console.warn
 * muted, and put our kernels back.
 */
import * as tf from '@tensorflow/tfjs';

let dfd: typeof import('danfojs-node') | undefined;

const BACKENDS = ['cpu', 'webgl', 'wasm', 'webgpu', 'tensorflow'];

/** danfojs-node, loaded once, with TF.js's kernel registry restored afterwards. */
export function loadDanfo(): typeof import('danfojs-node') {
  if (dfd) return dfd;
  const saved = BACKENDS.flatMap((b) => tf.getKernelsForBackend(b));
  const warn = console.warn;
  const log = console.log;
  console.warn = () => undefined;
  // tfjs prints "Platform node has already been set" through console.warn; backends through log.
  console.log = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && /already (been )?(set|registered)/.test(args[0])) return;
    log(...args);
  };
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    dfd = require('danfojs-node') as typeof import('danfojs-node');
  } finally {
    console.warn = warn;
    console.log = log;
  }
  for (const k of saved) {
    tf.unregisterKernel(k.kernelName, k.backendName);
    tf.registerKernel(k);
  }
  return dfd;
}
