/**
 * tfjs-backend-webgpu cannot read a GPU tensor synchronously in Node (its dataSync() goes through an
 * OffscreenCanvas, which Dawn for Node lacks), so the library reads every tensor with
 * `await data()` / `await array()`. This test keeps it that way: a call of dataSync, arraySync or
 * bufferSync anywhere in src/ (comments aside) fails it, with the file and line.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.join(__dirname, '..', 'src');
const SYNC_READ = /\.(dataSync|arraySync|bufferSync)\s*\(/;

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The code of a file with its comments blanked out (line numbers kept). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:])\/\/.*$/gm, '$1');
}

describe('no synchronous tensor reads in the library', () => {
  it('src/ calls none of dataSync, arraySync, bufferSync', () => {
    const hits: string[] = [];
    for (const f of tsFiles(SRC)) {
      withoutComments(fs.readFileSync(f, 'utf8'))
        .split('\n')
        .forEach((line, i) => {
          if (SYNC_READ.test(line)) hits.push(`${path.relative(path.join(SRC, '..'), f)}:${i + 1}: ${line.trim()}`);
        });
    }
    assert.deepEqual(hits, [], `synchronous reads (use await t.data() / await t.array()):\n${hits.join('\n')}`);
  });

  it('the check sees a synchronous read when there is one', () => {
    assert.ok(SYNC_READ.test(withoutComments('const v = t.dataSync();')));
    assert.ok(SYNC_READ.test(withoutComments('return (cm.arraySync() as number[][]);')));
    assert.ok(!SYNC_READ.test(withoutComments('// t.dataSync() would fail on webgpu')));
    assert.ok(!SYNC_READ.test(withoutComments('/* x.arraySync() */ const y = 1;')));
  });
});
