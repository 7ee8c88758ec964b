import { strict as assert } from 'node:assert';
import {
  plotlyFigureHtml,
  standaloneHtml,
  plotlyLibrarySource,
  lineFigure,
  ablationFigure,
  curvesFigure,
  scatterByClassFigure,
  tableHtml,
  toCsv,
  dataFrameHtml,
  tableText,
  showFigure,
  showTable,
  progressDisplay,
  setDisplaySink,
  writeCsv,
  figureSvg,
  barFigure,
  writeFigureHtml,
  type MimeBundle,
} from '../src/plots';
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';

/** Removes the inlined plotly.js (which carries URLs as data strings) to inspect the rest of a page. */
function withoutLibrary(html: string): string {
  const lib = plotlyLibrarySource();
  return html.split(lib).join('');
}

describe('plots: offline HTML', () => {
  const fig = lineFigure([{ name: 'knn', x: [1, 2, 3], y: [0.31, 0.42, 0.4375] }], { title: 'kNN <acc>' });

  it('a figure div holds its data and draws with Plotly.newPlot, no library unless asked', () => {
    const html = plotlyFigureHtml(fig, { divId: 'fig-a' });
    assert.match(html, /<div id="fig-a"/);
    assert.match(html, /Plotly\.newPlot/);
    assert.ok(html.includes('[0.31,0.42,0.4375]'), 'y values are in the HTML');
    assert.ok(html.includes('kNN \\u003cacc\\u003e'), 'the title is script-escaped');
    assert.ok(!html.includes('plotly.js v'), 'no library without includeLib');
    assert.ok(!/https?:\/\//.test(html), 'no URL in the figure HTML');
  });

  it('includeLib inlines plotly.js from node_modules, never a CDN <script src>', () => {
    const html = plotlyFigureHtml(fig, { includeLib: true, divId: 'fig-b' });
    assert.ok(html.length > 4_000_000, `library inlined (${html.length} chars)`);
    assert.ok(html.includes('plotly.js v4.'), 'plotly.js banner present');
    assert.ok(!/<script[^>]*\bsrc=/i.test(html), 'no external script');
    assert.ok(!/https?:\/\//.test(withoutLibrary(html)), 'no URL outside the library text');
  });

  it('standaloneHtml is a full page with the library exactly once and all parts', () => {
    const page = standaloneHtml('Report & <co>', [plotlyFigureHtml(fig), plotlyFigureHtml(fig), tableHtml([{ a: 1 }])]);
    assert.match(page, /^<!DOCTYPE html>/);
    assert.equal(page.split('plotly.js v4.').length - 1, 1, 'library inlined once');
    assert.equal((page.match(/Plotly\.newPlot/g) ?? []).length, 2);
    assert.ok(page.includes('<title>Report &amp; &lt;co&gt;</title>'));
    assert.ok(!/https?:\/\//.test(withoutLibrary(page)), 'no URL outside the library text');
    assert.ok(!/<(script|link)[^>]*\b(src|href)=/i.test(page), 'no external resources');
  });

  it('rejects a bad figure and a bad div id', () => {
    assert.throws(() => plotlyFigureHtml({} as never), /data/);
    assert.throws(() => plotlyFigureHtml(fig, { divId: '1 bad"' }), /divId/);
  });

  it('figure builders: error bars, log-x, subplots, scatter by class, and shape errors', () => {
    const ab = ablationFigure(
      [
        { value: 4096, mean: 0.5, std: 0.02 },
        { value: 256, mean: 0.4, std: 0.01 },
      ],
      { logX: true, paper: [{ value: 4096, score: 59 }] },
    );
    assert.deepEqual(ab.data[0].x, [256, 4096], 'sorted by the swept value');
    assert.deepEqual((ab.data[0].error_y as { array: number[] }).array, [0.01, 0.02]);
    assert.equal((ab.layout!.xaxis as { type: string }).type, 'log');
    assert.equal(ab.data[1].yaxis, 'y2');
    const cv = curvesFigure(
      [
        {
          name: 'run',
          history: [
            { epoch: 0, loss: 2 },
            { epoch: 1, loss: 1.5, knn: 0.3 },
          ],
        },
      ],
      ['loss', 'knn'],
    );
    assert.equal(cv.data.length, 2);
    assert.deepEqual(cv.data[1].x, [1], 'missing values are skipped, not drawn as 0');
    const sc = scatterByClassFigure(
      [
        [0, 0],
        [1, 1],
        [2, 2],
      ],
      [1, 0, 1],
      ['cat', 'dog'],
    );
    assert.deepEqual(
      sc.data.map((d) => d.name),
      ['cat', 'dog'],
    );
    assert.deepEqual(sc.data[1].x, [0, 2]);
    assert.throws(() => lineFigure([{ name: 's', x: [1, 2], y: [1] }]), /x of length 2 but y of length 1/);
    assert.throws(() => scatterByClassFigure([[0, 0]], [0, 1], ['a']), /1 points but 2 labels/);
  });
});

describe('plots: tables and CSV', () => {
  const rows = [
    { method: 'MoCo, v2', K: 4096, knn: 0.8258333, note: 'said "hi"\nthen left' },
    { method: '<b>x</b>', K: 256, knn: NaN },
  ];

  it('toCsv quotes commas, quotes and newlines (RFC 4180) and keeps full precision', () => {
    const csv = toCsv(rows);
    assert.equal(csv.split('\n')[0], 'method,K,knn,note');
    assert.ok(csv.includes('"MoCo, v2",4096,0.8258333,"said ""hi""\nthen left"'));
    assert.ok(csv.includes('<b>x</b>,256,,'), 'NaN and missing cells are empty');
  });

  it('tableHtml escapes text and rounds numbers; tableText aligns columns', () => {
    const html = tableHtml(rows, { caption: 'ours' });
    assert.ok(html.includes('&lt;b&gt;x&lt;/b&gt;'));
    assert.ok(html.includes('<td>0.8258</td>'));
    assert.ok(html.includes('<caption>ours</caption>'));
    const text = tableText(rows, { columns: ['method', 'K'] });
    assert.equal(text.split('\n')[2], 'MoCo, v2  4096');
  });

  it('dataFrameOf loads danfojs without replacing our TF.js kernels; dataFrameHtml and toCsv read its frames (child process)', function () {
    this.timeout(120_000);
    // danfojs-node carries its own tfjs copy whose kernels overwrite @tensorflow/tfjs's cpu kernels
    // in the shared registry, so it must not be loaded into the test runner's process.
    const script = [
      "const tf = require('@tensorflow/tfjs');",
      "const p = require('./src/plots');",
      "const before = tf.getKernel('UnsortedSegmentSum', 'cpu').kernelFunc;",
      "const df = p.dataFrameOf([{ a: 1, b: 'x,y' }, { a: 2.5, b: 'z' }]);",
      "const same = tf.getKernel('UnsortedSegmentSum', 'cpu').kernelFunc === before;",
      'process.stdout.write(JSON.stringify({ html: p.dataFrameHtml(df), csv: p.toCsv(df), same }));',
    ].join('\n');
    const child = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const { html, csv, same } = JSON.parse(child.stdout) as { html: string; csv: string; same: boolean };
    assert.ok(html.includes('<td class="cwb-text" style="text-align:left">x,y</td>'));
    assert.equal(csv, 'a,b\n1,"x,y"\n2.5,z\n');
    assert.ok(same, 'our cpu kernels survive loading danfojs');
    assert.doesNotMatch(child.stderr, /already registered/, 'no kernel re-registration warnings');
    assert.throws(() => dataFrameHtml({ columns: ['a', 'b'], values: [[1]] }), /row 0 has 1 cells but the frame has 2 columns/);
    assert.ok(dataFrameHtml({ columns: ['a'], values: [[3]] }).includes('<td>3</td>'));
  });

  it('writeCsv and writeFigureHtml write files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-plots-'));
    writeCsv(path.join(dir, 't.csv'), rows);
    assert.ok(fs.readFileSync(path.join(dir, 't.csv'), 'utf8').startsWith('method,K,knn,note\n'));
    writeFigureHtml(path.join(dir, 'f.html'), 'F', [lineFigure([{ name: 'a', x: [1], y: [2] }])], { tables: [{ rows }] });
    const page = fs.readFileSync(path.join(dir, 'f.html'), 'utf8');
    assert.ok(page.includes('Plotly.newPlot') && page.includes('<table'));
    fs.rmSync(dir, { recursive: true });
  });
});

describe('plots: notebook display helpers', () => {
  const sent: { bundle: MimeBundle; id?: string; update: boolean }[] = [];
  before(() => setDisplaySink((bundle, id, update) => sent.push({ bundle, id, update })));
  after(() => setDisplaySink(undefined));
  beforeEach(() => {
    sent.length = 0;
  });

  it('showFigure sends the plotly JSON object, a static SVG and text; no script, no plotly.js', () => {
    const fig = lineFigure([{ name: 'loss', x: [0, 1], y: [2, 1] }]);
    showFigure(fig);
    showFigure(fig);
    assert.equal(sent.length, 2);
    const b = sent[0].bundle;
    assert.deepEqual(Object.keys(b).sort(), ['application/vnd.plotly.v1+json', 'image/svg+xml', 'text/plain']);
    const json = b['application/vnd.plotly.v1+json'] as { data: { y: number[] }[] };
    assert.equal(typeof json, 'object', 'JSON MIME carries an object, not a string');
    assert.deepEqual(json.data[0].y, [2, 1]);
    const svg = b['image/svg+xml'] as string;
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(!svg.includes('<script') && !JSON.stringify(b).includes('plotly.js v'), 'no script and no library in the bundle');
    assert.ok(JSON.stringify(b).length < 20_000, `bundle is small (${JSON.stringify(b).length} chars)`);
    assert.match(b['text/plain'] as string, /1 trace/);
  });

  it('showTable sends HTML and a text table', () => {
    showTable([{ a: 1, b: 'x' }], { caption: 'cap' });
    assert.ok((sent[0].bundle['text/html'] as string).includes('<table'));
    assert.match(sent[0].bundle['text/plain'] as string, /^cap\na\s+b/);
  });

  it('progressDisplay updates one display in place and records the metrics', () => {
    const pd = progressDisplay({ title: 'train', minIntervalMs: 0 });
    pd.onProgress({ epoch: 0, epochs: 2, step: 1, steps: 4, loss: 2.5 });
    pd.onProgress({ epoch: 1, epochs: 2, step: 4, steps: 4, loss: 2.0, metrics: { knn: 0.3 } });
    pd.finish();
    assert.equal(sent.length, 3);
    assert.equal(sent[0].update, false);
    assert.ok(
      sent.slice(1).every((s) => s.update && s.id === sent[0].id),
      'later sends update the same display',
    );
    assert.deepEqual(
      pd.history.loss.map((p) => p.y),
      [2.5, 2.0],
    );
    assert.deepEqual(
      pd.history.knn.map((p) => p.y),
      [0.3],
    );
    assert.ok((sent[2].bundle['text/html'] as string).includes('<svg'), 'sparkline drawn');
    assert.match(sent[2].bundle['text/plain'] as string, /epoch 1\/2.*loss=2 .*knn=0\.3000.*done/);
  });

  it('progressDisplay reads the runner events (1-based epochs, phase, metrics) and throttles train steps', () => {
    const pd = progressDisplay({ minIntervalMs: 60_000 });
    const ev = (phase: string, epoch: number, step: number, loss: number, metrics: Record<string, number> = {}) =>
      pd.onProgress({ phase, runId: 'moco-k256', epoch, epochs: 2, step, steps: 4, loss, lr: 0.06, imagesPerSec: 100, etaSec: 5, metrics });
    ev('train', 1, 2, 3.0);
    ev('train', 1, 4, 2.8); // throttled
    ev('epoch', 1, 4, 2.8, { knnAcc: 0.25 });
    ev('train', 2, 2, 2.5); // throttled
    ev('done', 2, 4, 2.4, { knnAcc: 0.3 });
    assert.equal(sent.length, 3, 'first event, epoch end and done are drawn');
    assert.deepEqual(
      pd.history.loss.map((p) => p.x),
      [0.5, 1, 1.5, 2],
    );
    assert.deepEqual(pd.history.knnAcc, [
      { x: 1, y: 0.25 },
      { x: 2, y: 0.3 },
    ]);
    const html = sent[2].bundle['text/html'] as string;
    assert.ok(html.includes('width:100.0%'), 'bar full at the end');
    assert.ok(!html.includes('imagesPerSec <svg'), 'throughput is text only');
    assert.match(sent[2].bundle['text/plain'] as string, /moco-k256 epoch 2\/2 step 4\/4.*knnAcc=0\.3000/);
  });
});

describe('plots: static SVG of a figure', () => {
  const paths = (svg: string) => (svg.match(/<path d="/g) ?? []).length;
  const circles = (svg: string) => (svg.match(/<circle /g) ?? []).length;

  it('draws every line trace and marker, with title, axis titles and legend', () => {
    const svg = figureSvg(
      lineFigure(
        [
          { name: 'a', x: [1, 2, 3], y: [1, 4, 9] },
          { name: 'b', x: [1, 2, 3], y: [2, 3, 4] },
        ],
        { title: 'K & m', x: { title: 'epoch' }, y: { title: 'kNN' } },
      ),
    );
    assert.equal(paths(svg), 2);
    assert.equal(circles(svg), 6 + 2, '3 markers per trace + 2 legend swatches');
    for (const t of ['K &amp; m', '>epoch<', '>kNN<', '>a<', '>b<']) assert.ok(svg.includes(t), `missing ${t}`);
  });

  it('places points on a log axis by their logarithm (K = 32 ... 65536 spread out, not a stroke)', () => {
    const fig = lineFigure([{ name: 'K', x: [32, 1024, 32768], y: [1, 2, 3] }], { x: { type: 'log' } });
    const svg = figureSvg(fig, { width: 800, height: 400 });
    const xs = [...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1])).slice(0, 3);
    const d1 = xs[1] - xs[0];
    const d2 = xs[2] - xs[1];
    assert.ok(Math.abs(d1 - d2) < 1, `equal log steps are equal in pixels (${d1} vs ${d2})`);
    assert.ok(xs[2] - xs[0] > 500, 'the points span the plot');
    assert.ok(svg.includes('>1k<') || svg.includes('>1000<') || svg.includes('>10k<'), 'log tick labels');
  });

  it('stacked subplots, a right-hand axis, bars on categories and heatmaps', () => {
    const curves = curvesFigure(
      [
        {
          name: 'r',
          history: [
            { epoch: 1, loss: 3, knnAcc: 0.2 },
            { epoch: 2, loss: 2, knnAcc: 0.3 },
          ],
        },
      ],
      ['loss', 'knnAcc'],
    );
    assert.equal(paths(figureSvg(curves)), 2, 'one line per subplot');
    const ab = ablationFigure(
      [
        { value: 0.1, mean: 0.3 },
        { value: 0.2, mean: 0.4 },
      ],
      {
        paper: [
          { value: 0.1, score: 60 },
          { value: 0.2, score: 61 },
        ],
      },
    );
    const abSvg = figureSvg(ab);
    assert.equal(paths(abSvg), 2);
    assert.ok(abSvg.includes('>60<') || abSvg.includes('>60.5<') || abSvg.includes('>61<'), 'right axis ticks in the paper units');
    const bars = figureSvg(
      barFigure([
        { name: 'MoCo', value: 0.5 },
        { name: 'MoCHi', value: 0.6 },
      ]),
    );
    assert.equal((bars.match(/<rect x=/g) ?? []).length, 2);
    assert.ok(bars.includes('>MoCo<') && bars.includes('>MoCHi<'));
    const heat = figureSvg({
      data: [
        {
          type: 'heatmap',
          z: [
            [1, 2],
            [3, 4],
          ],
          x: ['a', 'b'],
          y: ['a', 'b'],
        },
      ],
    });
    assert.equal((heat.match(/<rect x=/g) ?? []).length, 4);
    const rowY = (svg: string) => [...svg.matchAll(/<rect x="[\d.]+" y="([\d.]+)"/g)].map((m) => Number(m[1]));
    const down = figureSvg({
      data: [
        {
          type: 'heatmap',
          z: [
            [1, 2],
            [3, 4],
          ],
          x: ['a', 'b'],
          y: ['a', 'b'],
        },
      ],
      layout: { yaxis: { autorange: 'reversed' } },
    });
    assert.ok(rowY(heat)[0] > rowY(heat)[2] && rowY(down)[0] < rowY(down)[2], 'autorange reversed puts the first row on top');
  });

  it('rejects a figure without traces, naming the field', () => {
    assert.throws(() => figureSvg({} as never), /`data` array/);
  });
});
