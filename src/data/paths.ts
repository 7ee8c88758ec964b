/**
 * Where data and caches live. The data root is `cfg.dataRoot`, else $DATA_DIR, else `./data`
 * (relative paths resolve against the working directory). Caches of decoded images go next to the
 * data when that folder is writable, else to $CWB_CACHE_DIR, `<dataRoot>/.cache` or `./data/cache`,
 * so a read-only shared dataset folder still gets a cache.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** The data root for a config: `dataRoot`, then $DATA_DIR, then ./data, as an absolute path. */
export function resolveDataRoot(dataRoot?: string): string {
  return path.resolve(dataRoot ?? process.env.DATA_DIR ?? './data');
}

/**
 * True when we may write in `dir` (or create it): the nearest existing folder must be writable
 * and, since root ignores permissions, carry a write bit; a folder marked read-only
 * (dr-xr-xr-x, like a shared dataset folder) is left alone even by root.
 */
export function mayWrite(dir: string): boolean {
  let d = path.resolve(dir);
  while (!fs.existsSync(d)) {
    const up = path.dirname(d);
    if (up === d) return false;
    d = up;
  }
  try {
    fs.accessSync(d, fs.constants.W_OK);
    return (fs.statSync(d).mode & 0o222) !== 0;
  } catch {
    return false;
  }
}

/** True when `dir` exists (or can be created) and a file can be written in it. */
export function isWritableDir(dir: string): boolean {
  if (!mayWrite(dir)) return false;
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    const probe = path.join(dir, `.cwb-probe-${process.pid}-${Math.floor(Math.random() * 1e9)}`);
    fs.writeFileSync(probe, '');
    fs.unlinkSync(probe);
    return true;
  } catch {
    return false;
  }
}

/**
 * The folder for cache files derived from `sourceDir`: `<sourceDir>/.cwb-cache` when writable,
 * else `<base>/<name>-<hash of the absolute source path>` under the first writable of
 * $CWB_CACHE_DIR, `<dataRoot>/.cache`, `./data/cache`.
 */
export function cacheDirFor(sourceDir: string, dataRoot: string): string {
  const abs = path.resolve(sourceDir);
  const beside = path.join(abs, '.cwb-cache');
  if (mayWrite(abs) && isWritableDir(beside)) return beside;
  const tag = `${path.basename(abs)}-${crypto.createHash('sha1').update(abs).digest('hex').slice(0, 10)}`;
  const bases = [process.env.CWB_CACHE_DIR, path.join(dataRoot, '.cache'), path.resolve('data', 'cache')];
  for (const base of bases) {
    if (!base) continue;
    const dir = path.join(path.resolve(base), tag);
    if (isWritableDir(dir)) return dir;
  }
  throw new Error(
    `no writable cache folder for ${abs}: tried ${beside}, ${bases.filter(Boolean).join(', ')}; set CWB_CACHE_DIR to a writable folder`,
  );
}

/** The first existing path among `candidates`, or undefined. */
export function firstExisting(candidates: string[]): string | undefined {
  return candidates.find((p) => fs.existsSync(p));
}
