/**
 * Executes the six tslab notebooks headless at the `smoke` budget (notebooks/run.sh: build if
 * needed, tslab kernel under .cache/jupyter, injected parameters, nbclient) and checks each
 * executed notebook: no error output, at least one interactive plotly figure and one table, the
 * budget taken from the environment (no injected cell), and the CSV/HTML files it writes under the results folder.
 * Needs Python with requirements.txt installed (CI: .ci/run does it).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const NOTEBOOKS: [string, string][] = [
  ['00_quickstart', 'quickstart-smoke'],
  ['01_moco_queue_size', 'moco-queue-smoke'],
  ['02_mochi', 'mochi-smoke'],
  ['03_mixco_beta', 'mixco-smoke'],
  ['04_supcon_temperature', 'supcon-smoke'],
  ['05_explore', 'explore-smoke'],
];

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
}
interface Cell {
  cell_type: string;
  source: string | string[];
  metadata: { tags?: string[] };
  outputs?: Output[];
}
interface Notebook {
  cells: Cell[];
  metadata: { cwb?: { executed?: { ok: boolean; seconds: number } }; papermill?: { parameters?: Record<string, unknown> } };
}

const join = (x: string | string[] | undefined) => (Array.isArray(x) ? x.join('') : (x ?? ''));

describe('notebooks: all six execute headless at the smoke budget', function () {
  this.timeout(30 * 60_000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-notebooks-'));
  const outDir = path.join(work, 'executed');
  const resultsDir = path.join(work, 'results');
  let log = '';
  let status: number | null = null;

  before(() => {
    const t0 = Date.now();
    const r = spawnSync('bash', [path.join(ROOT, 'notebooks', 'run.sh')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CWB_BUDGET: 'smoke', CWB_BACKEND: 'wasm', CWB_NB_OUT: outDir, CWB_RESULTS_DIR: resultsDir, CWB_CELL_TIMEOUT: '600' },
      maxBuffer: 64 * 1024 * 1024,
    });
    status = r.status;
    log = `${r.stdout}\n${r.stderr}`;
    // eslint-disable-next-line no-console
    console.log(`      notebooks/run.sh (smoke, 6 notebooks): exit ${r.status} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  });

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('run.sh exits 0', () => {
    assert.equal(
      status,
      0,
      `notebooks/run.sh failed:\n${log
        .split('\n')
        .filter((l) => /run\.sh|ipynb|Error|error/.test(l))
        .slice(-40)
        .join('\n')}`,
    );
  });

  for (const [name, experiment] of NOTEBOOKS) {
    it(`${name}: no error output, a plotly figure with its SVG, a table, budget from the env, CSV + HTML written`, () => {
      const file = path.join(outDir, `${name}.ipynb`);
      assert.ok(fs.existsSync(file), `${file} was not written:\n${log.slice(-3000)}`);
      const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook;
      assert.equal(nb.metadata.cwb?.executed?.ok, true, `${name} did not finish`);
      const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
      const errors = outputs.filter(
        (o) => o.output_type === 'error' || (o.name === 'stderr' && /(^|\n)\s*(\d+:\d+ - |[A-Za-z]*Error: )/.test(join(o.text))),
      );
      assert.deepEqual(
        errors.map((o) => join(o.text).slice(0, 300)),
        [],
        `${name} has error output`,
      );

      const figures = outputs.filter((o) => o.data && typeof o.data['application/vnd.plotly.v1+json'] === 'object');
      assert.ok(figures.length >= 1, `${name}: no plotly figure`);
      const fig = figures[0].data!['application/vnd.plotly.v1+json'] as { data: unknown[] };
      assert.ok(Array.isArray(fig.data) && fig.data.length > 0, `${name}: the figure has no traces`);
      assert.ok(
        figures.every((o) => join(o.data!['image/svg+xml'] as string[]).includes('<svg')),
        `${name}: a figure lacks its static SVG`,
      );
      assert.ok(
        !outputs.some((o) => o.data && /<script/i.test(join(o.data['text/html'] as string[]))),
        `${name}: an output holds a <script> (needs trust)`,
      );

      const tables = outputs.filter((o) => o.data && join(o.data['text/html'] as string[]).includes('<table'));
      assert.ok(tables.length >= 1, `${name}: no table`);

      // The budget came from the environment (CWB_BUDGET=smoke), not from an injected cell.
      assert.ok(!nb.cells.some((c) => (c.metadata.tags ?? []).includes('injected-parameters')), `${name}: an injected-parameters cell`);
      assert.equal(nb.metadata.papermill, undefined);
      assert.match(join(tables[0].data!['text/plain'] as string[]), /\bsmoke\b/, `${name}: the first table does not show budget smoke`);

      const expDir = path.join(resultsDir, experiment);
      const written = fs.existsSync(expDir) ? fs.readdirSync(expDir) : [];
      assert.ok(
        written.some((f) => f.endsWith('.csv')),
        `${name}: no CSV in ${expDir} (${written.join(', ')})`,
      );
      const html = written.filter((f) => f.endsWith('.html'));
      assert.ok(html.length >= 1, `${name}: no HTML page in ${expDir}`);
      const page = fs.readFileSync(path.join(expDir, html[0]), 'utf8');
      assert.ok(page.includes('Plotly.newPlot') && page.includes('plotly.js v4.'), `${name}: the HTML page does not carry plotly and a figure`);
    });
  }
  it('a papermill-style injected cell overrides the environment (BUDGET="smoke" injected over CWB_BUDGET=quick)', () => {
    const k = spawnSync('bash', [path.join(ROOT, 'notebooks', 'run.sh'), '--kernel-only'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(k.status, 0, k.stderr);
    const python =
      process.env.PYTHON ??
      (fs.existsSync(path.join(ROOT, '.cache', 'nbenv', 'bin', 'python')) ? path.join(ROOT, '.cache', 'nbenv', 'bin', 'python') : 'python3');
    const out = path.join(work, 'injected', '05_explore.ipynb');
    const r = spawnSync(
      python,
      [
        path.join(ROOT, 'notebooks', 'execute.py'),
        path.join(ROOT, 'notebooks', '05_explore.ipynb'),
        out,
        '--timeout',
        '600',
        '--cwd',
        path.join(ROOT, 'notebooks'),
        'BUDGET="smoke"',
        'BACKEND="wasm"',
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        env: {
          ...process.env,
          JUPYTER_PATH: k.stdout.trim().split('\n').pop(),
          CWB_BUDGET: 'quick',
          CWB_BACKEND: 'wasm',
          CWB_RESULTS_DIR: resultsDir,
        },
      },
    );
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const nb = JSON.parse(fs.readFileSync(out, 'utf8')) as Notebook;
    const tags = nb.cells.map((c) => (c.metadata.tags ?? []).join(','));
    assert.equal(tags.indexOf('injected-parameters'), tags.indexOf('parameters') + 1, 'the injected cell follows the parameters cell');
    assert.equal(nb.metadata.papermill?.parameters?.BUDGET, 'smoke');
    const first = nb.cells
      .flatMap((c) => c.outputs ?? [])
      .find((o) => o.data?.['text/plain'] && join(o.data['text/html'] as string[]).includes('<table'));
    assert.match(join(first!.data!['text/plain'] as string[]), /\bsmoke\b/, 'the injected budget won over CWB_BUDGET=quick');
  });
});
