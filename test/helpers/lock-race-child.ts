/**
 * One contender of the run-lock race: reads "<t0> <rounds> <intervalMs>" on stdin, then at
 * t0 + r * interval tries to take the lock of <dir>/round-<r>, holds it for half the interval,
 * and prints one JSON line per round: {round, acquired, heldAtEnd, error, from, to} (from/to: when it
 * held the lock, in ms since the epoch).
 */
import { acquireRunLock } from '../../src/experiments/lock';
import * as path from 'node:path';

const dir = process.argv[2];
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

async function main(): Promise<void> {
  process.stdout.write('READY\n');
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    process.stdin.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) resolve(buf.split('\n')[0]);
    });
  });
  const [t0, rounds, interval] = line.split(' ').map(Number);
  for (let r = 0; r < rounds; r++) {
    const start = t0 + r * interval;
    await sleep(start - Date.now() - 2);
    while (Date.now() < start) {
      /* spin to the same millisecond as the other contenders */
    }
    let acquired = false;
    let heldAtEnd = false;
    let error = '';
    let from = 0;
    let to = 0;
    try {
      const lock = acquireRunLock(path.join(dir, `round-${r}`), { staleMs: 60_000 });
      from = Date.now();
      acquired = true;
      await sleep(interval / 2);
      heldAtEnd = lock.held();
      to = Date.now();
      lock.release();
    } catch (e) {
      error = (e as Error).message.slice(0, 200);
    }
    process.stdout.write(`${JSON.stringify({ round: r, acquired, heldAtEnd, error, from, to })}\n`);
  }
  process.stdin.destroy();
}

main().catch((e) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
