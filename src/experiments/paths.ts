/**
 * Where results live: <resultsDir>/<experiment>/<run-id>/ (root: option, $CWB_RESULTS_DIR,
 * ./results). Names that come from configs (experiment, run id) must be single path segments,
 * and every path built here is checked to stay inside the results root, so that no config,
 * report or notebook writes elsewhere.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function resultsRoot(dir?: string): string {
  return path.resolve(dir ?? process.env.CWB_RESULTS_DIR ?? 'results');
}

/**
 * Why `name` is not a usable single path segment, or undefined when it is: non-empty, no '/'
 * or '\', not '.' or '..', no NUL or other control character.
 */
export function segmentProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'must be a non-empty string';
  if (name === '.' || name === '..') return `must be a folder name, not '${name}'`;
  if (/[/\\]/.test(name)) return "must be one folder name (no '/' or '\\')";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the test is for control characters
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'must not hold control characters';
  if (name.length > 200) return 'must be at most 200 characters';
  return undefined;
}

/** Throws naming `field` unless `name` is a single path segment. */
export function assertSegment(field: string, name: unknown): string {
  const p = segmentProblem(name);
  if (p) throw new Error(`${field} ${p}, got ${JSON.stringify(name)}`);
  return name as string;
}

const escapes = (rel: string) => rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);

/**
 * `p` resolved, after checking that it lies inside `root` (or is `root`): lexically, and also
 * through symbolic links of the part that exists already.
 */
export function insideRoot(root: string, p: string, what = 'path'): string {
  const r = path.resolve(root);
  const full = path.resolve(r, p);
  const rel = path.relative(r, full);
  if (escapes(rel)) throw new Error(`${what} ${full} is outside the results folder ${r}`);
  // Follow links: the deepest existing ancestor must resolve inside the real root.
  let probe = full;
  while (!fs.existsSync(probe) && probe !== r && path.dirname(probe) !== probe) probe = path.dirname(probe);
  if (fs.existsSync(probe) && fs.existsSync(r)) {
    const realRoot = fs.realpathSync(r);
    const real = fs.realpathSync(probe);
    const relReal = path.relative(realRoot, real);
    if (escapes(relReal)) {
      throw new Error(`${what} ${full} leads outside the results folder ${r} (through a link to ${real})`);
    }
  }
  return full;
}

/** <root>/<experiment>, checked (the folder of a sweep's CSV and of notebook outputs). */
export function experimentDir(resultsDir: string | undefined, experiment: string): string {
  const root = resultsRoot(resultsDir);
  return insideRoot(root, path.join(root, assertSegment('experiment', experiment)), 'experiment folder');
}

export function runDirOf(resultsDir: string | undefined, experiment: string, id: string): string {
  const root = resultsRoot(resultsDir);
  return insideRoot(root, path.join(root, assertSegment('experiment', experiment), assertSegment('run id', id)), 'run folder');
}

/** `<experiment folder>/<file>` for an output file of a notebook or report, checked. */
export function outputFile(resultsDir: string | undefined, experiment: string, file: string): string {
  const dir = experimentDir(resultsDir, experiment);
  return insideRoot(resultsRoot(resultsDir), path.join(dir, assertSegment('output file', file)), 'output file');
}

export const FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  embeddings: 'embeddings.json',
  confusion: 'confusion.json',
} as const;
