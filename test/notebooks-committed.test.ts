/**
 * The committed notebooks as a fresh clone shows them: they must rerun wherever they are opened
 * and read without trust. No cell tagged `injected-parameters` (it would pin one machine's budget,
 * backend and data folder over the environment), no papermill parameter record, no absolute
 * machine path in a source, an output or the metadata, no script and no inlined plotly.js in an
 * output, and every plotly figure carries its static SVG. Reads the files only (no kernel).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';

const NB_DIR = path.join(__dirname, '..', 'notebooks');
/** The same pattern as notebooks/clean.py: an absolute path under a machine's usual roots. */
const ABS_PATH = /(?<![\w:/.])\/(?:work|home|root|tmp|Users|mnt|scratch|data|var|opt|srv)\/[\w.-]+/g;

interface Output {
  output_type: string;
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
  metadata: Record<string, unknown>;
}

const join = (x: unknown) => (Array.isArray(x) ? x.join('') : typeof x === 'string' ? x : '');

/** Problems that make a notebook unfit to commit (empty when it is fit). */
function committedNotebookProblems(nb: Notebook): string[] {
  const out: string[] = [];
  if (nb.metadata.papermill !== undefined) out.push('metadata.papermill is present');
  for (const m of JSON.stringify(nb.metadata).match(ABS_PATH) ?? []) out.push(`metadata: machine path ${m}`);
  nb.cells.forEach((c, i) => {
    if ((c.metadata.tags ?? []).includes('injected-parameters')) out.push(`cell ${i}: tagged injected-parameters`);
    const texts = [join(c.source)];
    for (const o of c.outputs ?? []) {
      texts.push(join(o.text));
      for (const [mime, v] of Object.entries(o.data ?? {})) {
        if (mime.startsWith('image/png') || mime.startsWith('image/jpeg')) continue;
        const s = typeof v === 'string' || Array.isArray(v) ? join(v) : JSON.stringify(v);
        if (mime !== 'image/svg+xml') texts.push(s);
        if (/<script/i.test(s)) out.push(`cell ${i}: ${mime} output holds a <script>`);
        if (s.includes('plotly.js v')) out.push(`cell ${i}: ${mime} output inlines plotly.js`);
      }
      if (o.data && o.data['application/vnd.plotly.v1+json'] !== undefined && !join(o.data['image/svg+xml']).includes('<svg')) {
        out.push(`cell ${i}: a plotly figure without its static image/svg+xml`);
      }
    }
    for (const t of texts) for (const m of t.match(ABS_PATH) ?? []) out.push(`cell ${i}: machine path ${m}`);
  });
  return out;
}

describe('notebooks: the committed copies rerun anywhere and read untrusted', () => {
  const files = fs
    .readdirSync(NB_DIR)
    .filter((f) => /^\d\d_.*\.ipynb$/.test(f))
    .sort();

  it('finds the notebooks', () => assert.ok(files.length >= 5, files.join(', ')));

  for (const f of files) {
    it(`${f}: no injected parameters, no machine path, no script or plotly.js, every figure has its SVG`, () => {
      const file = path.join(NB_DIR, f);
      const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook;
      assert.deepEqual(committedNotebookProblems(nb).slice(0, 12), [], `${f} (fix: python3 notebooks/clean.py, then rerun it)`);
      const mb = fs.statSync(file).size / 1e6;
      assert.ok(mb < 2, `${f} is ${mb.toFixed(1)} MB (a figure's JSON + SVG is kB)`);
    });
  }

  it('the check itself flags an injected cell, a machine path and an inlined script', () => {
    const bad: Notebook = {
      metadata: { papermill: { parameters: { DATA_DIR: '/work/x' } } },
      cells: [
        { cell_type: 'code', source: 'const BUDGET = "quick";', metadata: { tags: ['injected-parameters'] }, outputs: [] },
        {
          cell_type: 'code',
          source: 'x',
          metadata: {},
          outputs: [
            { output_type: 'stream', text: 'wrote /home/me/results/a.csv' },
            { output_type: 'display_data', data: { 'text/html': '<script>/* plotly.js v4.1 */</script>', 'application/vnd.plotly.v1+json': {} } },
          ],
        },
      ],
    };
    const p = committedNotebookProblems(bad).join('\n');
    for (const want of ['papermill', 'injected-parameters', '/home/me', '/work/x', '<script>', 'inlines plotly.js', 'without its static']) {
      assert.ok(p.includes(want), `expected a problem about ${want}:\n${p}`);
    }
    assert.deepEqual(
      committedNotebookProblems({
        metadata: {},
        cells: [{ cell_type: 'markdown', source: 'see https://github.com/x/y and ../results/a.csv', metadata: {} }],
      }),
      [],
    );
  });
});
