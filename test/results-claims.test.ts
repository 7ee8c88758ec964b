/**
 * A paper's claim against groups of runs: the verdict follows the seeds' spread (the sum of the
 * groups' standard deviations), a one-seed group decides nothing, a missing group is named, and a
 * "gain larger than another gain" claim adds the four spreads.
 */
import { strict as assert } from 'node:assert';
import { ABLATIONS, ablation, BUDGETS } from '../src/experiments';
import { ablationClaims, type Claim, checkClaims, claimSentences, type GroupRow, matches } from '../src/results';

const g = (K: number, mean: number, std: number | null, seeds = 2): GroupRow => ({
  group: `K=${K}`,
  params: { sweep: 'K', K },
  seeds,
  linearAcc: mean,
  linearAccStd: std,
});

const claim = (better: number, worse: number): Claim => ({
  text: `K = ${better} over K = ${worse}`,
  better: { name: `K=${better}`, where: { K: better } },
  worse: { name: `K=${worse}`, where: { K: worse } },
});

describe('paper claims against the seeds spread', () => {
  it('holds, reversed or within the spread by the sum of the standard deviations', () => {
    const groups = [g(128, 0.3, 0.005), g(256, 0.33, 0.01), g(1024, 0.31, 0.004)];
    const [holds, reversed, within] = checkClaims(groups, [claim(256, 128), claim(128, 256), claim(1024, 128)]);
    assert.equal(holds.verdict, 'holds');
    assert.ok(Math.abs((holds.difference as number) - 3) < 1e-9 && Math.abs((holds.spread as number) - 1.5) < 1e-9);
    assert.equal(reversed.verdict, 'reversed');
    // 1.0 point apart with 0.9 of spread still holds; 0.9 apart would not.
    assert.equal(within.verdict, 'holds');
    const [tight] = checkClaims([g(128, 0.3, 0.005), g(1024, 0.309, 0.004)], [claim(1024, 128)]);
    assert.equal(tight.verdict, 'within spread');
    // 0.94 apart with 0.91 of spread prints as "+0.9 points, spread 0.9": decided as printed, within the spread.
    const [printed] = checkClaims([g(128, 0.3, 0.0046), g(1024, 0.3094, 0.0045)], [claim(1024, 128)]);
    assert.equal(printed.verdict, 'within spread');
    assert.match(claimSentences([printed])[0], /\(\+0\.9 points, spread 0\.9\)\.$/);
    assert.match(holds.ours, /^K=256 33\.0% ± 1\.0 vs K=128 30\.0% ± 0\.5$/);
  });

  it('decides nothing with one seed and names a missing group', () => {
    const [one, missing] = checkClaims([g(128, 0.3, null, 1), g(256, 0.4, null, 1)], [claim(256, 128), claim(4096, 128)]);
    assert.equal(one.verdict, 'one seed');
    assert.equal(one.spread, null);
    assert.equal(missing.verdict, 'missing');
    assert.match(missing.ours, /no result for K=4096/);
    const [s1, s2] = claimSentences([one, missing]);
    assert.match(s1, /^K = 256 over K = 128 is not decided \(one seed per point, no spread measured\) \(\+10\.0 points\)\.$/);
    assert.match(s2, /has no result yet\.$/);
  });

  it('compares two gains with the spread of all four groups', () => {
    const groups = [g(1, 0.4, 0.01), g(2, 0.3, 0.01), g(3, 0.35, 0.005), g(4, 0.33, 0.005)];
    const c: Claim = {
      ...claim(1, 2),
      text: 'gain 1-2 over gain 3-4',
      than: { better: { name: 'K=3', where: { K: 3 } }, worse: { name: 'K=4', where: { K: 4 } } },
    };
    const [r] = checkClaims(groups, [c]);
    assert.ok(Math.abs((r.difference as number) - 8) < 1e-9, `difference ${r.difference}`);
    assert.ok(Math.abs((r.spread as number) - 3) < 1e-9);
    assert.equal(r.verdict, 'holds');
    assert.match(r.ours, /\(\+10\.0\); .*\(\+2\.0\)$/);
  });

  it('every claim of every ablation names points its sweep has, at every budget', () => {
    for (const budget of BUDGETS) {
      for (const name of ABLATIONS) {
        const groups: GroupRow[] = ablation(name, budget).points.map((p) => ({ group: '', params: p.params ?? {}, seeds: 1 }));
        const claims = ablationClaims(name, budget);
        assert.ok(claims.length >= 2, `${name}/${budget}: ${claims.length} claims`);
        for (const c of claims) {
          for (const side of [c.better, c.worse, ...(c.than ? [c.than.better, c.than.worse] : [])]) {
            assert.ok(
              groups.some((g) => matches(g, side.where)),
              `${name}/${budget}: '${c.text}' names ${JSON.stringify(side.where)}, no point has it`,
            );
          }
        }
      }
    }
  });
});
