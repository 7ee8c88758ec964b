import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireRunLock, LockHeldError, LockLostError, lockState } from '../src/experiments/lock';

const NODE_ARGS = ['--require', require.resolve('tsx/cjs')];
const CHILD = path.join(__dirname, 'helpers', 'lock-race-child.ts');

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cwb-${prefix}-`));
}

/** A pid that no process has (one that just exited). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid as number;
}

interface RoundResult {
  round: number;
  acquired: boolean;
  heldAtEnd: boolean;
  error: string;
  from: number;
  to: number;
}

describe('run lock', () => {
  it('is exclusive when 6 processes race to take over a stale lock (15 rounds)', async function () {
    this.timeout(120_000);
    const base = tmp('lock-race');
    const rounds = 15;
    const contenders = 6;
    const interval = 400;
    const dead = deadPid();
    for (let r = 0; r < rounds; r++) {
      const d = path.join(base, `round-${r}`);
      fs.mkdirSync(d);
      const f = path.join(d, 'run.lock');
      // Even rounds: a killed process on this host; odd rounds: another node's lock, untouched for an hour.
      const info = r % 2 === 0 ? { pid: dead, host: os.hostname(), startedAt: 'then' } : { pid: 1, host: 'gone-node', startedAt: 'then' };
      fs.writeFileSync(f, JSON.stringify(info));
      if (r % 2 === 1) fs.utimesSync(f, Date.now() / 1000 - 3600, Date.now() / 1000 - 3600);
    }
    const children = Array.from({ length: contenders }, () =>
      spawn(process.execPath, [...NODE_ARGS, CHILD, base], { stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    const outs = children.map((c) => {
      let out = '';
      let err = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (err += d));
      return {
        ready: new Promise<void>((resolve) => c.stdout.on('data', () => out.includes('READY') && resolve())),
        done: new Promise<{ out: string; err: string; code: number | null }>((resolve) => c.on('close', (code) => resolve({ out, err, code }))),
      };
    });
    await Promise.all(outs.map((o) => o.ready));
    const t0 = Date.now() + 300;
    for (const c of children) c.stdin.write(`${t0} ${rounds} ${interval}\n`);
    const results = await Promise.all(outs.map((o) => o.done));
    const perRound: RoundResult[][] = Array.from({ length: rounds }, () => []);
    for (const r of results) {
      assert.equal(r.code, 0, r.err);
      for (const line of r.out.split('\n').filter((l) => l.startsWith('{'))) {
        const x = JSON.parse(line) as RoundResult;
        perRound[x.round].push(x);
      }
    }
    // Exclusive: in each round at least one contender takes the stale lock, and no two hold it at the same
    // time. (On a loaded machine a contender may start its attempt only after the winner released the lock;
    // it then takes the free lock in turn, which is not a second holder.)
    const overlapping = perRound.map((rs) => {
      const held = rs.filter((x) => x.acquired).sort((a, b) => a.from - b.from);
      return held.some((x, i) => i > 0 && x.from < held[i - 1].to) ? held.length : held.length ? 1 : 0;
    });
    assert.deepEqual(overlapping, new Array(rounds).fill(1), `processes holding the lock at the same time, per round: ${overlapping.join(' ')}`);
    for (const rs of perRound) {
      assert.equal(rs.length, contenders);
      for (const winner of rs.filter((x) => x.acquired)) assert.ok(winner.heldAtEnd, 'a winner still holds the lock when it is done');
      for (const x of rs.filter((y) => !y.acquired)) assert.match(x.error, /is being trained by process \d+ on /);
    }
    for (let r = 0; r < rounds; r++) {
      assert.deepEqual(fs.readdirSync(path.join(base, `round-${r}`)), [], `round ${r}: released, no stray files`);
    }
  });

  it('verify() throws LockLostError once another process took the lock over; release() leaves that lock alone', () => {
    const dir = tmp('lock-lost');
    const lock = acquireRunLock(dir);
    assert.ok(lock.held());
    lock.verify();
    const other = { pid: process.pid, host: os.hostname(), startedAt: 'later', token: 'someone-else' };
    fs.writeFileSync(path.join(dir, 'run.lock'), JSON.stringify(other));
    assert.equal(lock.held(), false);
    assert.throws(
      () => lock.verify(),
      (e: Error) =>
        e instanceof LockLostError && /no longer holds the run lock; process \d+ .* took it over at later; stopping without writing/.test(e.message),
    );
    lock.release();
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'run.lock'), 'utf8')), other, "the other process's lock is kept");
  });

  it('a live holder refuses a second one (LockHeldError naming it); lockState tells live from stale', () => {
    const dir = tmp('lock-live');
    const lock = acquireRunLock(dir);
    assert.throws(
      () => acquireRunLock(dir),
      (e: Error) => e instanceof LockHeldError && e.message.includes(`process ${process.pid}`) && e.message.includes('run.lock'),
    );
    assert.deepEqual(lockState(dir)?.stale, false);
    lock.release();
    assert.equal(lockState(dir), undefined);
    fs.writeFileSync(path.join(dir, 'run.lock'), JSON.stringify({ pid: deadPid(), host: os.hostname(), startedAt: 'then' }));
    assert.equal(lockState(dir)?.stale, true);
    const again = acquireRunLock(dir);
    assert.ok(again.held());
    again.release();
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
