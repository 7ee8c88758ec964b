import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPaperNumbers, paperAblation, paperRows, comparisonRows } from '../src/plots';

describe('plots: paper numbers', () => {
  it('every entry of data/paper-numbers.json has a source; missing values are marked NOT FOUND, not invented', () => {
    const all = loadPaperNumbers();
    for (const name of ['moco_queue_size', 'moco_momentum', 'mochi', 'mixco_beta', 'supcon_temperature']) assert.ok(all[name], name);
    const entries = Object.values(all).flatMap((a) => a.entries);
    assert.ok(entries.length >= 30);
    for (const e of entries) {
      assert.ok(e.source.paper.length > 10 && e.source.where.length > 3, e.setting);
      if (e.source.evidence === 'NOT FOUND') assert.equal(e.value, null, `${e.setting} is NOT FOUND but has a value`);
    }
    // Spot checks against the papers (docs/references.md#paper-numbers): MoCo's momentum table and SupCon's Table 2.
    const m = paperAblation('moco_momentum').entries;
    assert.deepEqual(
      m.map((e) => e.value),
      [null, 55.2, 57.8, 59.0, 58.9],
    );
    assert.equal(m[0].status, 'failed to converge');
    const s = paperAblation('supcon_temperature').entries.find((e) => e.setting.startsWith('SupCon CIFAR-10, R50'));
    assert.equal(s?.value, 96.0);
    assert.equal(paperAblation('moco_queue_size').entries.find((e) => e.params.K === 256)?.status, 'NOT FOUND');
  });

  it('comparisonRows puts ours beside the paper entry of the same parameter value, then the rest', () => {
    const rows = comparisonRows(
      'moco_queue_size',
      'K',
      [
        { value: 4096, mean: 0.41, std: 0.012, seeds: 2 },
        { value: 256, mean: 0.35, seeds: 1 },
      ],
      { ourMetric: 'kNN %', scale: 100 },
    );
    assert.deepEqual(rows[0], {
      K: 256,
      'kNN %': 35,
      'kNN % std': null,
      seeds: 1,
      paper: 'NOT FOUND',
      'paper setting': 'MoCo, K=256',
      source: rows[0].source,
    });
    assert.equal(rows[1].K, 4096);
    assert.equal(rows[1].paper, 59.0);
    assert.equal(rows[1]['kNN % std'], 1.2);
    assert.match(String(rows[1].source), /He et al\. 2020.*\[PAPER\]/);
    assert.ok(
      rows.slice(2).every((r) => r['kNN %'] === null),
      'remaining paper entries have no ours',
    );
    assert.equal(rows.length, 2 + paperAblation('moco_queue_size').entries.length - 2);
    assert.ok(paperRows('mixco_beta').some((r) => r.paper === 'NOT FOUND'));
  });

  it('names the file and field at fault', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-pn-'));
    const f = path.join(dir, 'p.json');
    fs.writeFileSync(
      f,
      JSON.stringify({
        ablations: {
          x: {
            claim: '',
            param: 'K',
            metric: '',
            entries: [{ setting: 's', params: {}, value: null, status: 'found', source: { paper: 'p', where: 'w', evidence: 'PAPER' } }],
          },
        },
      }),
    );
    assert.throws(() => loadPaperNumbers(f), /p\.json: ablations\.x\.entries\[0\]: status 'found' does not match value null/);
    assert.throws(() => paperAblation('nope'), /no paper numbers for 'nope'; known: moco_queue_size/);
    fs.rmSync(dir, { recursive: true });
  });
});
