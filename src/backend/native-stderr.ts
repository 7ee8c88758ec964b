/**
 * Dawn (the `webgpu` package) and the Vulkan loader print warnings from native code straight to
 * the process's stderr ("Warning: maxDynamicUniformBuffersPerPipelineLayout artificially
 * reduced ...", "vkCreateInstance: Found no drivers!"), which JavaScript cannot intercept. When the
 * command line is asked for webgpu, it therefore runs itself as a child whose stderr passes through
 * a filter that drops those lines; CWB_VERBOSE=1 shows them. (With `auto`, the adapter is probed in
 * a child process by initBackend and Dawn is loaded here only for a hardware GPU.)
 */
import { spawn } from 'node:child_process';
import * as readline from 'node:readline';

const FILTERED_ENV = 'CWB_NATIVE_STDERR';

/** Lines written by Dawn or the Vulkan loader, not by the workbench or Node. */
export const NATIVE_NOISE = /^Warning: |^\s+at \S+ \(.*[\\/]dawn[\\/]|^Failed to detect any valid GPUs/;

/** The backend the command line asks for: --backend <b>, --backend=<b>, else $CWB_BACKEND. */
export function requestedBackend(argv: string[], env: NodeJS.ProcessEnv): string {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--backend' && i + 1 < argv.length) return argv[i + 1].toLowerCase();
    if (argv[i].startsWith('--backend=')) return argv[i].slice('--backend='.length).toLowerCase();
  }
  return (env.CWB_BACKEND || 'auto').toLowerCase();
}

export function shouldFilterNativeStderr(argv: string[], env: NodeJS.ProcessEnv): boolean {
  const verbose = Boolean(env.CWB_VERBOSE) && env.CWB_VERBOSE !== '0';
  return !verbose && env[FILTERED_ENV] !== 'filtered' && requestedBackend(argv, env) === 'webgpu';
}

/**
 * Runs this same command again as a child with its stderr filtered, and resolves with its exit
 * code. Ctrl-C reaches the child from the terminal directly; SIGTERM and SIGHUP (a scheduler's or
 * a shell's) are passed on to it.
 */
export function relaunchWithFilteredStderr(): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...process.env, [FILTERED_ENV]: 'filtered' },
  });
  const lines = readline.createInterface({ input: child.stderr! });
  lines.on('line', (line) => {
    if (!NATIVE_NOISE.test(line)) process.stderr.write(`${line}\n`);
  });
  const onInt = () => undefined;
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  process.on('SIGINT', onInt);
  const term = forward('SIGTERM');
  const hup = forward('SIGHUP');
  process.on('SIGTERM', term);
  process.on('SIGHUP', hup);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', term);
      process.off('SIGHUP', hup);
      resolve(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1));
    });
  });
}
