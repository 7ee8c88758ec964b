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
 *   `staleMs`: a requeued Slurm task on another node) happens under a second lock,
 *   `run.lock.takeover`, created the same way and held for the few milliseconds of the takeover.
 *   Its holder re-reads `run.lock`, removes it only if it is still stale, and creates its own.
 *   So a live lock is never moved away, not even for a moment in which a newcomer could create
 *   a second one; contenders that find the takeover lock taken wait for it and then see the new
 *   holder. A takeover lock left by a process that died in those milliseconds is itself stale
 *   (dead pid on this host, or older than a few seconds) and is broken by renaming it away.
 * - Releasing also holds the takeover lock, so a release never removes a lock taken over meanwhile.
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

/** A takeover lock is held for milliseconds; one older than this was left by a process that died. */
const TAKEOVER_STALE_MS = 5000;
/** How long acquire and release wait for a takeover lock held by another live process. */
const TAKEOVER_WAIT_MS = 5000;

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Move `file` away and remove it if it still holds `expected`; put it back otherwise. */
function removeIfHeldBy(file: string, expected: LockInfo | undefined, token: string): void {
  const moved = `${file}.${token}.stale`;
  try {
    fs.renameSync(file, moved);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!sameHolder(readLock(moved)?.info, expected)) {
    try {
      fs.linkSync(moved, file);
    } catch {
      /* a newcomer holds `file` now */
    }
  }
  fs.rmSync(moved, { force: true });
}

/** Take `<file>.takeover`; false when another live process holds it (a stale one is broken). */
function tryTakeover(file: string, me: LockInfo): boolean {
  const m = `${file}.takeover`;
  if (linkCreate(m, `${JSON.stringify(me)}\n`, me.token as string)) return true;
  const cur = readLock(m);
  if (cur && isStale(cur, TAKEOVER_STALE_MS)) removeIfHeldBy(m, cur.info, me.token as string);
  return false;
}

function waitTakeover(file: string, me: LockInfo, waitMs: number): boolean {
  const until = Date.now() + waitMs;
  for (;;) {
    if (tryTakeover(file, me)) return true;
    if (Date.now() > until) return false;
    pause(1 + Math.random() * 4);
  }
}

function dropTakeover(file: string, me: LockInfo): void {
  const m = `${file}.takeover`;
  if (sameHolder(readLock(m)?.info, me)) fs.rmSync(m, { force: true });
}

export function acquireRunLock(dir: string, opts: LockOptions = {}): RunLock {
  const staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
  const touchEveryMs = opts.touchEveryMs ?? 30_000;
  const file = path.join(dir, LOCK_FILE);
  const token = crypto.randomBytes(12).toString('hex');
  const me: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), token };
  const content = `${JSON.stringify(me)}\n`;
  const until = Date.now() + TAKEOVER_WAIT_MS;
  for (;;) {
    if (linkCreate(file, content, token)) return holderOf(dir, file, me, touchEveryMs);
    const cur = readLock(file);
    if (cur && !isStale(cur, staleMs)) {
      if (cur.info) throw new LockHeldError(heldMessage(dir, file, cur.info), cur.info);
      throw new Error(`${file} is being written or is unreadable; try again in a moment, or delete it if no run is using ${dir}`);
    }
    if (cur && tryTakeover(file, me)) {
      try {
        // No one else takes over while this process holds the takeover lock: the lock read now is
        // the one removed, and only if it is still stale (its holder may have released it and a
        // newcomer created a live one since the first read).
        const again = readLock(file);
        if (again && isStale(again, staleMs)) removeIfHeldBy(file, again.info, token);
        if (linkCreate(file, content, token)) return holderOf(dir, file, me, touchEveryMs);
      } finally {
        dropTakeover(file, me);
      }
      continue; // a newcomer created it first: the next round names it
    }
    if (Date.now() > until) break;
    pause(1 + Math.random() * 4); // another contender is taking over, or the lock was just released
  }
  const cur = readLock(file);
  if (cur?.info) throw new LockHeldError(heldMessage(dir, file, cur.info), cur.info);
  throw new Error(
    `could not take the lock ${file}: ${file}.takeover stayed held for ${TAKEOVER_WAIT_MS / 1000} s; delete it if no process is starting a run in ${dir}`,
  );
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
      // Under the takeover lock nothing replaces `file` between the read and the removal, so a
      // lock taken over meanwhile stays. Without it (held past the wait by a hung process) the
      // removal is still conditional on the content.
      const guarded = waitTakeover(file, me, TAKEOVER_WAIT_MS);
      try {
        if (sameHolder(readLock(file)?.info, me)) {
          if (guarded) fs.rmSync(file, { force: true });
          else removeIfHeldBy(file, me, me.token as string);
        }
      } finally {
        if (guarded) dropTakeover(file, me);
      }
    },
  };
}
