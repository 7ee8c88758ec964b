/**
 * The comparisons with the PyTorch twin that the notebooks quote travel with the repository:
 * data/parity/ is tracked (not ignored like the other folders of data/), every file there parses,
 * holds both sides for each of its seeds and no machine path, and the notebooks' statement reads it.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageParityDir, parityStatement, readParityResults } from '../src/results';

describe('saved parity comparisons (data/parity)', () => {
  const dir = packageParityDir();

  it('are tracked by git, parse, and name no machine path', () => {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 1, `no comparison in ${dir}`);
    for (const f of files) {
      const rel = path.relative(path.resolve(__dirname, '..'), path.join(dir, f));
      const ignored = spawnSync('git', ['check-ignore', '-q', rel], { cwd: path.resolve(__dirname, '..') });
      assert.notEqual(ignored.status, 0, `${rel} is ignored by git, so a clone would not have it`);
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      assert.doesNotMatch(text, /"\/(work|home|root|tmp)\//, `${f} holds a machine path`);
    }
    for (const r of readParityResults([dir])) {
      assert.equal(r.workbench.length, r.seeds.length, `${r.method}: workbench runs`);
      assert.equal(r.torch.length, r.seeds.length, `${r.method}: torch runs`);
    }
  });

  it('give the notebooks their parity line', () => {
    const saved = readParityResults([dir]);
    const m = saved[0];
    const line = parityStatement(saved, m.method, m.K);
    assert.match(line, /^At the parity budget \(cifar10 5000\/2000, convnet, 15 epochs\), the same /);
    assert.match(line, new RegExp(`over ${m.seeds.length} seeds`));
  });
});
