/**
 * Small things of the command line: "did you mean" for a mistyped command, ablation or option,
 * `cwb train --template <method>` printing a starter config that validates and trains that
 * method, and the whole-sweep ETA.
 */
import { strict as assert } from 'node:assert';
import { main, templateConfig } from '../src/cli';
import { sweepEta, validateConfig } from '../src/experiments';
import { closest, didYouMean, editDistance } from '../src/util/suggest';

describe('cli: did you mean, --template, sweep ETA', () => {
  it('edit distance and the closest candidates', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.deepEqual(closest('swep', ['info', 'train', 'sweep', 'eval']), ['sweep']);
    assert.deepEqual(closest('rep', ['report', 'reproduce']), ['report', 'reproduce'], 'a prefix matches');
    assert.equal(didYouMean('zzzz', ['info', 'train']), '');
  });

  it('a mistyped command, ablation or option says what was meant', async () => {
    await assert.rejects(main(['trian']), /unknown command 'trian' \(did you mean 'train'\?\); commands: info, train/);
    await assert.rejects(main(['sweep', 'mocoqueue']), /unknown ablation 'mocoqueue' \(did you mean 'moco-queue'\?\)/);
    await assert.rejects(main(['train', '--confg', 'x.json']), /train: Unknown option '--confg' \(did you mean '--config'\?\)/);
    await assert.rejects(main(['report', '--frobnicate']), /report: Unknown option '--frobnicate'/);
  });

  it('--template prints a starter config of each method that validates', async () => {
    for (const m of ['moco', 'mochi', 'mixco', 'simclr', 'supcon', 'ce']) {
      const cfg = templateConfig(m, 'smoke');
      assert.equal(cfg.method.name, m);
      assert.equal(cfg.name, `my-${m}`);
      validateConfig(JSON.parse(JSON.stringify(cfg)));
    }
    assert.throws(() => templateConfig('mocco', 'quick'), /unknown method 'mocco' \(did you mean 'moco'\?\)/);
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    (process.stdout as unknown as { write: (s: string) => boolean }).write = (s: string) => {
      out.push(s);
      return true;
    };
    try {
      assert.equal(await main(['train', '--template', 'mochi', '--budget', 'quick']), 0);
    } finally {
      (process.stdout as unknown as { write: typeof write }).write = write;
    }
    const cfg = JSON.parse(out.join(''));
    assert.equal(cfg.method.name, 'mochi');
    assert.equal(cfg.dataset.name, 'cifar10');
  });

  it('the sweep ETA counts trained points only', () => {
    let t = 0;
    const eta = sweepEta(() => t);
    assert.match(eta.start(0, 4), /point 1\/4, no ETA yet/);
    t += 60_000; // point 1 trained in 60 s
    assert.match(eta.start(1, 4), /point 2\/4, about 3\.0 min left \(3 points at 60 s each, from 1 trained\)/);
    t += 500; // point 2 was complete on disk
    assert.match(eta.start(2, 4), /about 2\.0 min left \(2 points at 60 s each, from 1 trained\)/);
  });
});
