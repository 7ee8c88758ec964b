/**
 * report.html at a glance, checked on a report generated from run folders written here (a MoCo
 * K/m sweep and a MoCHi comparison, one seed each): log axes chosen from all the values drawn
 * (K, and 1 - m), labels in the papers' notation, no error bars or std columns with one seed,
 * reference numbers in every section, the whole-sweep summary at the top, tables that scroll
 * inside a page that fits 1400 px.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listRuns, writeReport } from '../src';
import type { PlotlyFigure } from '../src/plots';
import { experimentSection, groupLabel, sweepAxis } from '../src/results';

function writeRun(root: string, exp: string, id: string, params: Record<string, string | number | boolean>, knn: number, linear: number): void {
  const dir = path.join(root, exp, id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ name: id, experiment: exp, method: { name: 'moco' }, params: { ...params, seed: 0 }, seed: 0, epochs: 3 }),
  );
  fs.writeFileSync(
    path.join(dir, 'summary.json'),
    JSON.stringify({
      runId: id,
      experiment: exp,
      name: id,
      params,
      method: 'moco',
      epochs: 3,
      completedEpochs: 3,
      seed: 0,
      finalLoss: 4,
      proxyAcc: 0.5,
      knnAcc: knn,
      knnAccMax: knn,
      linearAcc: linear,
      alignment: 0.5,
      uniformity: -1.5,
      imagesPerSec: 100,
      trainSeconds: 10,
      evalSeconds: 1,
      sessions: 1,
      diverged: false,
      backend: 'cpu',
      device: 'cpu',
      completedAt: '2026-01-01',
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'metrics.jsonl'),
    `${[1, 2, 3].map((e) => JSON.stringify({ type: 'epoch', epoch: e, loss: 5 - e, knnAcc: knn - 0.01 * (3 - e) })).join('\n')}\n`,
  );
}

describe('experiments: report.html at a glance', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-report-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  [128, 512, 2048].forEach((K, i) => {
    writeRun(root, 'moco-queue-quick', `moco-K${K}`, { sweep: 'K', K, m: 0.99 }, 0.3 + 0.01 * i, 0.32 + 0.01 * i);
  });
  [0, 0.9, 0.99, 0.999].forEach((m, i) => {
    writeRun(root, 'moco-queue-quick', `moco-m${m}`, { sweep: 'm', K: 512, m }, 0.25 + 0.02 * i, 0.27 + 0.02 * i);
  });
  writeRun(root, 'mochi-quick', 'mocov2', { variant: 'MoCo v2', N: 0, s: 0, sPrime: 0, oracle: false }, 0.4, 0.42);
  writeRun(root, 'mochi-quick', 'mochi', { variant: 'MoCHi', N: 256, s: 256, sPrime: 64, oracle: false }, 0.41, 0.43);
  writeRun(root, 'mochi-quick', 'mochi-oracle', { variant: 'MoCHi + oracle', N: 256, s: 256, sPrime: 64, oracle: true }, 0.45, 0.46);

  const sectionOf = (exp: string) => {
    const recs = listRuns(root, exp);
    return experimentSection(exp, recs, path.join(root, exp, 'results.csv'), root);
  };
  const title = (f: PlotlyFigure) => String((f.layout?.title as { text?: string })?.text ?? '');

  it("labels in the papers' notation", () => {
    assert.equal(groupLabel({ variant: 'MoCHi', N: 256, s: 256, sPrime: 64, oracle: false }), 'MoCHi (256, 256, 64)');
    assert.equal(groupLabel({ variant: 'MoCHi + oracle', N: 256, s: 256, sPrime: 64, oracle: true }), 'MoCHi (256, 256, 64) + oracle');
    assert.equal(groupLabel({ variant: 'MoCo v2', N: 0, s: 0, sPrime: 0, oracle: false }), 'MoCo v2');
    assert.equal(groupLabel({ base: 'moco', beta: 1, encoder: 'small', arch: 'convnetx0.125' }, ['base', 'beta']), 'MixCo beta=1 / MoCo');
    assert.equal(groupLabel({ base: 'simclr', beta: 0, encoder: 'larger', arch: 'convnetx0.25' }), 'SimCLR, larger (convnetx0.25)');
    assert.equal(groupLabel({ loss: 'SupCon', T: 0.1 }), 'SupCon T=0.1');
    assert.equal(groupLabel({ loss: 'CE', T: 0 }), 'CE');
    assert.equal(groupLabel({ sweep: 'K', K: 4096, m: 0.99 }), 'MoCo K=4096, m=0.99');
  });

  it("K on a log axis from all values drawn (ours 128-2048 with the paper's 4096-65536); m as 1 - m on a log axis", () => {
    const figs = sectionOf('moco-queue-quick').figures;
    const k = figs.find((f) => title(f).includes('K sweep: final linearAcc')) as PlotlyFigure;
    assert.ok(k, figs.map(title).join(' | '));
    assert.equal((k.layout?.xaxis as { type?: string } | undefined)?.type, 'log');
    const xs = k.data.flatMap((t) => t.x as number[]);
    assert.ok(xs.includes(128) && xs.includes(65536), `ours and the paper on one axis: ${xs}`);
    const m = figs.find((f) => title(f).includes('m sweep: final linearAcc')) as PlotlyFigure;
    assert.equal((m.layout?.xaxis as { type?: string } | undefined)?.type, 'log');
    const mx = m.data.flatMap((t) => t.x as number[]).map((v) => Number(v.toPrecision(6)));
    assert.ok(mx.includes(0.1) && mx.includes(0.0001) && mx.includes(1), `1 - m values: ${mx}`);
    assert.match(String((m.layout?.xaxis as { title?: { text?: string } } | undefined)?.title?.text), /1 - m/);
    assert.deepEqual(sweepAxis('K', [32, 64]).log, false, 'a narrow range stays linear');
    const shape = figs.find((f) => title(f).includes('trend as a shape'));
    assert.ok(shape, "the paper's trend drawn as a shape");
    assert.ok(
      shape!.data.every((t) => Math.max(...(t.y as number[])) === 0),
      'each curve relative to its best point',
    );
  });

  it('one seed: no error bars, no std columns; short labels on the bars; references in every section', () => {
    for (const exp of ['moco-queue-quick', 'mochi-quick']) {
      const sec = sectionOf(exp);
      assert.ok(
        sec.figures.every((f) => f.data.every((t) => t.error_y === undefined)),
        `${exp}: error bars with one seed`,
      );
      const html = sec.parts.join('\n');
      assert.ok(!/ std</.test(html), `${exp}: a std column with one seed`);
      assert.match(html, /reference numbers/, `${exp}: no reference numbers`);
      assert.match(html, /lightly/, `${exp}: the CIFAR-scale MoCo references (lightly) are missing`);
    }
    const bars = sectionOf('mochi-quick').figures.find((f) => f.data[0].type === 'bar') as PlotlyFigure;
    assert.deepEqual([...(bars.data[0].x as string[])].sort(), ['MoCHi (256, 256, 64)', 'MoCHi (256, 256, 64) + oracle', 'MoCo v2']);
  });

  it('the page: summary first, tables scroll, width for a 1400 px window', () => {
    const { html } = writeReport(root);
    const page = fs.readFileSync(html, 'utf8');
    const body = page.slice(page.indexOf('<body>'));
    assert.ok(body.indexOf('<h2>Summary</h2>') < body.indexOf('<h2 id="mochi-quick">'), 'summary at the top');
    assert.match(body, /moco-queue-quick<\/a>: K sweep: best MoCo K=2048 \(linearAcc 34\.0%\)/);
    assert.match(body, /one seed, so no run-to-run spread is measured/);
    assert.ok(!body.includes(root), 'no machine path in the page');
    assert.match(page, /max-width:1300px/);
    const tables = body.match(/<table/g)?.length ?? 0;
    const wrapped = body.match(/<div class="cwb-scroll"><table/g)?.length ?? 0;
    assert.equal(wrapped, tables, 'every table scrolls inside its box');
  });
});
