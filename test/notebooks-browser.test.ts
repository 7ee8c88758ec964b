/**
 * The browser check (scripts/browser-check.ts) as a test: JupyterLab + tslab in Debian's chromium.
 * Every committed notebook opened untrusted (a fresh Jupyter data folder) draws every saved
 * figure; the quickstart run at the smoke budget draws its figures and tables; its nbconvert
 * export shows every figure as a static SVG offline; its standalone page and report.html draw
 * offline and the report fits a 1400 px window. Skips at runtime (with the reason) when
 * chromium or JupyterLab is not installed; CI installs both (.ci/apt-packages.txt, requirements.txt).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { browserCheck, findChromium, findJupyterPython } from '../scripts/browser-check';

describe('notebooks: browser check (JupyterLab + chromium)', function () {
  this.timeout(20 * 60_000);

  before(function () {
    if (!findChromium()) {
      console.log('      skipped: chromium not installed (apt-get install -y chromium)');
      this.skip();
    }
    if (!findJupyterPython()) {
      console.log('      skipped: no Python with JupyterLab (pip install -r requirements.txt)');
      this.skip();
    }
  });

  it('committed notebooks draw untrusted; the quickstart runs in JupyterLab; export, standalone page and report draw offline', async () => {
    const r = await browserCheck({ log: (s) => console.log(`      ${s}`) });
    assert.ok(r.committed.length >= 6, `expected the six committed notebooks, saw ${r.committed.map((c) => c.notebook).join(', ')}`);
    for (const c of r.committed) {
      assert.ok(c.saved > 0, `${c.notebook} has no saved figure`);
      assert.ok(c.figuresWithTraces >= c.saved, `${c.notebook}: ${c.figuresWithTraces} of ${c.saved} figures drew untrusted`);
    }
    assert.ok(r.lab.figures >= 2, `expected the quickstart's 2 figures, saw ${r.lab.figures}`);
    assert.equal(r.lab.figuresWithTraces, r.lab.figures, 'every figure in JupyterLab drew data traces');
    assert.ok(r.lab.traces >= r.lab.figures);
    assert.ok(r.lab.tables > 0, 'table rows visible');
    assert.equal(r.exported.figuresWithTraces, r.exported.figures, 'every static figure of the export drew offline');
    assert.ok(r.exported.figures >= r.lab.figures);
    assert.equal(r.standalone.figuresWithTraces, r.standalone.figures);
    assert.equal(r.report.figuresWithTraces, r.report.figures);
    assert.ok(r.report.scrollWidth <= 1400, `report.html is ${r.report.scrollWidth} px wide`);
    for (const shot of r.screenshots) assert.ok(fs.statSync(shot).size > 10_000, `${shot} is a real screenshot`);
  });
});
