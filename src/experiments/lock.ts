/**
 * One process per run folder. `run.lock` holds {pid, host, startedAt, token} and is touched while
 * the run trains. A second process (a duplicate job-array task, a notebook cell run twice) fails
 * with a clear message instead of interleaving checkpoints.
 *
 * Exclusive under races, on a local disk and on a shared (NFS-like) filesystem:
 * - Creating: the full content is written to a private temporary file which is then hard-linked
 *   to `run.lock`. link(2) fails when the name exists, atomically, also over NFS (where O_EXCL
 *   was long unreliable), and a reader never sees a half-written lock.
 * - Taking over a stale lock (its process is gone on this host, or it has not been touched for
 *   `staleMs`: a requeued Slurm task on another node): the contender renames `run.lock` to a name
 *   of its own. rename(2) of one file succeeds for exactly one contender; the others get ENOENT.
 *   The winner reads what it moved: if it is not the lock it judged stale (someone else had
 *   already replaced it), it links it back and gives up. Then it creates its own lock as above,
 *   which can still fail if a newcomer got there first.
 * - Holding: `verify()` re-reads the lock and throws `LockLostError` when the token is not its
 *   own. The runner calls it before every checkpoint, metrics and summary write, so a trainer
 *   that lost the lock stops without writing.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface RunLock {
  file: string;
  /** Random id of this holder (in the lock file). */
  token: string;
  /** Throw LockLostError unless the lock file is still this holder's. */
  verify(): void;
  /** Whether the lock file is still this holder's. */
  held(): boolean;
  /** Mark the lock as alive (throttled); throws LockLostError when it is no longer held. */
  touch(): void;
  /** Remove the lock when it is still this holder's. */
  release(): void;
}

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  token?: string;
}

export class LockHeldError extends Error {
  constructor(
    message: string,
    readonly holder: LockInfo,
  ) {
    super(message);
    this.name = 'LockHeldError';
  }
}

export class LockLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockLostError';
  }
}

export const LOCK_FILE = 'run.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): { info?: LockInfo; ageMs: number } | undefined {
  let text: string;
  let ageMs: number;
  try {
    text = fs.readFileSync(file, 'utf8');
    ageMs = Date.now() - fs.statSync(file).mtimeMs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    if (typeof info.pid !== 'number' || typeof info.host !== 'string') return { ageMs };
    return { info, ageMs };
  } catch {
    return { ageMs }; // unreadable: written by hand or by an older version and cut short
  }
}

export interface LockState {
  /** Who holds the lock (undefined when the file is unreadable). */
  holder?: LockInfo;
  /** True when the holder is gone (dead pid on this host, untouched for staleMs elsewhere). */
  stale: boolean;
}

/** The lock of a run folder, or undefined when there is none. */
export function lockState(dir: string, staleMs = DEFAULT_STALE_MS): LockState | undefined {
  const cur = readLock(path.join(dir, LOCK_FILE));
  if (!cur) return undefined;
  return { holder: cur.info, stale: isStale(cur, staleMs) };
}

const DEFAULT_STALE_MS = 10 * 60_000;

function isStale(cur: { info?: LockInfo; ageMs: number }, staleMs: number): boolean {
  const h = cur.info;
  // An unreadable lock is stale only once it is old enough that no writer can be mid-way (the
  // lock is written whole through link(2), so this is a lock edited or truncated by hand).
  if (!h) return cur.ageMs > 2000;
  return h.host === os.hostname() ? !alive(h.pid) : cur.ageMs > staleMs;
}

function sameHolder(a: LockInfo | undefined, b: LockInfo | undefined): boolean {
  if (!a || !b) return a === b;
  return a.pid === b.pid && a.host === b.host && a.startedAt === b.startedAt && a.token === b.token;
}

function heldMessage(dir: string, file: string, h: LockInfo): string {
  return (
    `${dir} is being trained by process ${h.pid} on ${h.host} since ${h.startedAt} (lock ${file}); ` +
    `wait for it, or delete the lock if that process is gone`
  );
}

/** Create `file` with `content` atomically; false when it exists. */
function linkCreate(file: string, content: string, token: string): boolean {
  const tmp = `${file}.${token}.new`;
  fs.writeFileSync(tmp, content);
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

export interface LockOptions {
  /** A lock of another host untouched for this long is stale (default 10 min). */
  staleMs?: number;
  /** touch() updates the lock's mtime at most this often (default 30 s). */
  touchEveryMs?: number;
}

export function acquireRunLock(dir: string, opts: LockOptions = {}): RunLock {
  const staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
  const touchEveryMs = opts.touchEveryMs ?? 30_000;
  const file = path.join(dir, LOCK_FILE);
  const token = crypto.randomBytes(12).toString('hex');
  const me: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), token };
  const content = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (linkCreate(file, content, token)) return holderOf(dir, file, me, touchEveryMs);
    const cur = readLock(file);
    if (!cur) continue; // released meanwhile: try again
    if (!isStale(cur, staleMs)) {
      if (cur.info) throw new LockHeldError(heldMessage(dir, file, cur.info), cur.info);
      throw new Error(`${file} is being written or is unreadable; try again in a moment, or delete it if no run is using ${dir}`);
    }
    // Stale: move it away under a name of our own. Exactly one contender's rename succeeds.
    const moved = `${file}.${token}.stale`;
    try {
      fs.renameSync(file, moved);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // another contender moved it
      throw e;
    }
    const got = readLock(moved);
    if (!sameHolder(got?.info, cur.info)) {
      // Not the lock judged stale: another contender replaced it in between. Put it back.
      try {
        fs.linkSync(moved, file);
      } catch {
        /* a newcomer holds `file` now; the holder whose lock was moved finds out at its next verify() */
      }
      fs.rmSync(moved, { force: true });
      continue;
    }
    fs.rmSync(moved, { force: true });
  }
  const cur = readLock(file);
  if (cur?.info) throw new LockHeldError(heldMessage(dir, file, cur.info), cur.info);
  throw new Error(`could not take the lock ${file} (other processes keep taking it over)`);
}

function holderOf(dir: string, file: string, me: LockInfo, touchEveryMs: number): RunLock {
  let last = Date.now();
  let released = false;
  const held = (): boolean => {
    if (released) return false;
    try {
      return sameHolder(readLock(file)?.info, me);
    } catch {
      return false;
    }
  };
  const verify = (): void => {
    if (held()) return;
    const now = readLock(file)?.info;
    throw new LockLostError(
      `${dir}: this process (${me.pid} on ${me.host}) no longer holds the run lock` +
        (now ? `; process ${now.pid} on ${now.host} took it over at ${now.startedAt}` : ' (the lock file is gone)') +
        `; stopping without writing`,
    );
  };
  return {
    file,
    token: me.token as string,
    held,
    verify,
    touch() {
      const now = Date.now();
      if (released || now - last < touchEveryMs) return;
      verify();
      last = now;
      try {
        fs.utimesSync(file, now / 1000, now / 1000);
      } catch {
        /* removed meanwhile: the next verify() says so */
      }
    },
    release() {
      if (released) return;
      released = true;
      // Move it away first and check what was moved, so that a lock taken over meanwhile stays.
      const moved = `${file}.${me.token}.release`;
      try {
        fs.renameSync(file, moved);
      } catch {
        return; // already gone
      }
      if (!sameHolder(readLock(moved)?.info, me)) {
        try {
          fs.linkSync(moved, file);
        } catch {
          /* a newcomer holds `file` */
        }
      }
      fs.rmSync(moved, { force: true });
    },
  };
}
