/**
 * One process per run folder: `run.lock` holds {pid, host, startedAt} and is touched while the
 * run trains. A second process (a duplicate job-array task, a notebook cell run twice) fails with
 * a clear message instead of interleaving checkpoints. A lock left by a killed process is taken
 * over: on the same host when its pid is gone, on another host when it has not been touched for
 * `staleMs` (a requeued Slurm task on another node).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface RunLock {
  file: string;
  /** Mark the lock as alive (throttled). */
  touch(): void;
  release(): void;
}

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireRunLock(dir: string, opts: { staleMs?: number; touchEveryMs?: number } = {}): RunLock {
  const staleMs = opts.staleMs ?? 10 * 60_000;
  const touchEveryMs = opts.touchEveryMs ?? 30_000;
  const file = path.join(dir, 'run.lock');
  const me: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me) + '\n', { flag: 'wx' });
      let last = Date.now();
      let released = false;
      return {
        file,
        touch() {
          const now = Date.now();
          if (released || now - last < touchEveryMs) return;
          last = now;
          try {
            fs.utimesSync(file, now / 1000, now / 1000);
          } catch {
            /* the lock was removed by hand: keep going */
          }
        },
        release() {
          if (released) return;
          released = true;
          try {
            const held = JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
            if (held.pid === me.pid && held.host === me.host) fs.rmSync(file, { force: true });
          } catch {
            /* already gone */
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let held: LockInfo | undefined;
    let age = Infinity;
    try {
      held = JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
      age = Date.now() - fs.statSync(file).mtimeMs;
    } catch {
      held = undefined; // unreadable or half-written: stale
    }
    const stale = !held || (held.host === me.host ? !alive(held.pid) : age > staleMs);
    if (!stale && held) {
      throw new Error(
        `${dir} is being trained by process ${held.pid} on ${held.host} since ${held.startedAt} (lock ${file}); ` +
          `wait for it, or delete the lock if that process is gone`,
      );
    }
    fs.rmSync(file, { force: true });
  }
  throw new Error(`could not take the lock ${file}`);
}
