/**
 * The browser check (scripts/browser-check.ts) as a test: JupyterLab + tslab in Debian's chromium,
 * run the quickstart at the smoke budget, check its figures drew data traces and its tables show,
 * then the nbconvert HTML export with the network off. Skips at runtime (with the reason) when
 * chromium or JupyterLab is not installed; CI installs both (.ci/apt-packages.txt, requirements.txt).
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
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

  it('runs the quickstart in JupyterLab: figures drew data traces, tables show; the HTML export draws offline', async () => {
    const r = await browserCheck({ log: (s) => console.log(`      ${s}`) });
    assert.ok(r.lab.figures >= 2, `expected the quickstart's 2 figures, saw ${r.lab.figures}`);
    assert.equal(r.lab.figuresWithTraces, r.lab.figures, 'every figure in JupyterLab drew data traces');
    assert.ok(r.lab.traces >= r.lab.figures);
    assert.ok(r.lab.tables > 0, 'table rows visible');
    assert.equal(r.exported.figuresWithTraces, r.exported.figures, 'every figure of the export drew offline');
    assert.ok(r.exported.figures >= 2);
    for (const shot of r.screenshots) assert.ok(fs.statSync(shot).size > 10_000, `${shot} is a real screenshot`);
  });
});
