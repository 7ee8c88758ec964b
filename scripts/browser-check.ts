/**
 * Browser check of the notebooks: Debian's chromium driven by playwright-core.
 *
 *  0. JupyterLab (pinned in requirements.txt) on 127.0.0.1 with a fresh Jupyter data folder (no
 *     notebook is trusted there, as in a fresh clone); open a copy of every committed notebook
 *     without running it and check that every plotly figure of its saved outputs drew (the
 *     `application/vnd.plotly.v1+json` renderer of the plotly package needs no trust).
 *  1. With the project's tslab kernel, open a copy of 00_quickstart.ipynb, run all cells at the
 *     smoke budget (parameters from the environment), and check that the figures drew data traces
 *     and that the tables show.
 *  2. Export the executed notebook with `jupyter nbconvert --to html`, open the page with the
 *     network off, and check that every figure shows as its static SVG.
 *  3. Open the quickstart's standalone HTML page (plotly.js inlined) and the report.html of the
 *     same results offline: every figure drew, and the report fits a 1400 px window.
 * Screenshots go to results/browser-check/. Usage: npx tsx scripts/browser-check.ts
 * Env: CHROMIUM (default /usr/bin/chromium), PYTHON (with requirements.txt), CWB_BROWSER_TIMEOUT_S,
 * CWB_BROWSER_NOTEBOOKS (comma-separated names: open only these committed notebooks in step 0).
 * Exit 0 on success, 1 on a failed check, 2 when chromium or JupyterLab is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');

export interface BrowserCheckResult {
  /** Per committed notebook opened untrusted: plotly outputs saved in the file, and how many drew. */
  committed: { notebook: string; saved: number; figures: number; figuresWithTraces: number }[];
  lab: { figures: number; figuresWithTraces: number; traces: number; tables: number; seconds: number };
  exported: { figures: number; figuresWithTraces: number; blockedRequests: string[]; file: string };
  standalone: { figures: number; figuresWithTraces: number; file: string };
  report: { figures: number; figuresWithTraces: number; scrollWidth: number; file: string };
  screenshots: string[];
}

/** Chromium's path, or undefined when it is not installed. */
export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  return candidates.find((p) => fs.existsSync(p));
}

/** The Python that has JupyterLab (PYTHON, the dev venv, python3), or undefined. */
export function findJupyterPython(): string | undefined {
  const candidates = [process.env.PYTHON, path.join(ROOT, '.cache', 'nbenv', 'bin', 'python'), 'python3'].filter((p): p is string => !!p);
  return candidates.find((py) => spawnSync(py, ['-c', 'import jupyterlab, nbconvert'], { stdio: 'ignore' }).status === 0);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => {
      req.destroy();
      resolve(false);
    });
  });
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > end) throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Data traces inside a plotly graph div (scatter, bar and heatmap layers). */
const TRACES = `'svg.main-svg .scatterlayer .trace, svg.main-svg .barlayer .trace, svg.main-svg .heatmaplayer .hm'`;

/** Counts plotly figures (divs of `selector`) and the data traces they drew (run inside the page). */
const countFigures = (selector: string) => `(() => {
  const divs = [...document.querySelectorAll(${JSON.stringify(selector)})];
  const traces = divs.map((d) => d.querySelectorAll(${TRACES}).length);
  return { figures: divs.length, figuresWithTraces: traces.filter((n) => n > 0).length, traces: traces.reduce((a, b) => a + b, 0) };
})()`;
/** Figures drawn in JupyterLab by the plotly mime renderer. */
const COUNT_LAB_FIGURES = countFigures('.jp-OutputArea-output.js-plotly-plot, .jp-OutputArea-output .js-plotly-plot');
/** Figures of the standalone pages (plotlyFigureHtml divs). */
const COUNT_FIGURES = countFigures('.cwb-plot');
/** Static SVG figures of an nbconvert export: an SVG output (inline, or an <img> of it) that drew. */
const COUNT_SVG_FIGURES = `(() => {
  const outs = [...document.querySelectorAll('.jp-RenderedSVG, .output_svg')];
  const drawn = outs.filter((o) => {
    const img = o.querySelector('img');
    const svg = o.querySelector('svg');
    return (img && img.complete && img.naturalWidth >= 200) || (svg && svg.querySelectorAll('path, circle, rect').length > 1);
  });
  return { figures: outs.length, figuresWithTraces: drawn.length };
})()`;

/** Plotly figure outputs saved in a notebook file. */
function savedFigures(file: string): number {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: { outputs?: { data?: Record<string, unknown> }[] }[] };
  return nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data && o.data['application/vnd.plotly.v1+json'] !== undefined).length;
}

export async function browserCheck(
  opts: { outDir?: string; timeoutS?: number; log?: (s: string) => void; notebooks?: string[] } = {},
): Promise<BrowserCheckResult> {
  const log = opts.log ?? ((s: string) => console.log(`[browser-check] ${s}`));
  const chromium = findChromium();
  if (!chromium) throw Object.assign(new Error('chromium not found (apt-get install -y chromium, or set CHROMIUM)'), { code: 'NO_CHROMIUM' });
  const python = findJupyterPython();
  if (!python) throw Object.assign(new Error('no Python with JupyterLab (pip install -r requirements.txt, or set PYTHON)'), { code: 'NO_JUPYTER' });
  const timeoutMs = (opts.timeoutS ?? Number(process.env.CWB_BROWSER_TIMEOUT_S ?? 900)) * 1000;
  const outDir = opts.outDir ?? path.join(ROOT, 'results', 'browser-check');
  fs.mkdirSync(outDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-browser-'));

  // The tslab kernel (and the built package the notebook imports).
  const k = spawnSync('bash', [path.join(ROOT, 'notebooks', 'run.sh'), '--kernel-only'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, PYTHON: python },
  });
  if (k.status !== 0) throw new Error(`notebooks/run.sh --kernel-only failed:\n${k.stderr}`);
  const jupyterPath = k.stdout.trim().split('\n').pop() as string;

  // A copy of the quickstart next to the original (the kernel's folder must be notebooks/ so that
  // the package resolves); the smoke parameters come from the environment; removed at the end.
  const nbName = `_browser_check_${process.pid}_00_quickstart.ipynb`;
  const nbFile = path.join(ROOT, 'notebooks', nbName);
  const resultsDir = path.join(work, 'results');
  fs.copyFileSync(path.join(ROOT, 'notebooks', '00_quickstart.ipynb'), nbFile);
  // Copies of the committed notebooks, opened untrusted and not run.
  const only = opts.notebooks ?? (process.env.CWB_BROWSER_NOTEBOOKS ? process.env.CWB_BROWSER_NOTEBOOKS.split(',') : undefined);
  const committedNames = fs
    .readdirSync(path.join(ROOT, 'notebooks'))
    .filter((f) => /^\d\d_.*\.ipynb$/.test(f) && (!only || only.includes(f.replace(/\.ipynb$/, ''))))
    .sort();
  const copies = committedNames.map((f) => {
    const name = `_browser_check_${process.pid}_committed_${f}`;
    fs.copyFileSync(path.join(ROOT, 'notebooks', f), path.join(ROOT, 'notebooks', name));
    return { f, name };
  });

  const port = await freePort();
  const token = crypto.randomBytes(16).toString('hex');
  const env = {
    ...process.env,
    JUPYTER_PATH: jupyterPath,
    CWB_BUDGET: 'smoke',
    CWB_BACKEND: 'wasm',
    CWB_RESULTS_DIR: resultsDir,
    JUPYTER_RUNTIME_DIR: path.join(work, 'runtime'),
    JUPYTERLAB_SETTINGS_DIR: path.join(work, 'lab-settings'),
    JUPYTERLAB_WORKSPACES_DIR: path.join(work, 'lab-workspaces'),
    JUPYTER_CONFIG_DIR: path.join(work, 'config'),
    // A fresh data folder holds a fresh notebook-signature database: nothing is trusted, as in a clone.
    JUPYTER_DATA_DIR: path.join(work, 'data'),
  };
  // Every cell in the DOM (no windowing), so that all of a notebook's figures can be counted at once.
  const trackerSettings = path.join(env.JUPYTERLAB_SETTINGS_DIR, '@jupyterlab', 'notebook-extension', 'tracker.jupyterlab-settings');
  fs.mkdirSync(path.dirname(trackerSettings), { recursive: true });
  fs.writeFileSync(trackerSettings, JSON.stringify({ windowingMode: 'none' }));
  let lab: ChildProcess | undefined;
  let labLog = '';
  const screenshots: string[] = [];
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { chromium: pwChromium } = require('playwright-core') as typeof import('playwright-core');
  const browser = await pwChromium.launch({ executablePath: chromium, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  try {
    lab = spawn(
      python,
      [
        '-m',
        'jupyter',
        'lab',
        '--no-browser',
        '--ip=127.0.0.1',
        `--port=${port}`,
        `--ServerApp.token=${token}`,
        `--ServerApp.root_dir=${ROOT}`,
        '--LabApp.expose_app_in_browser=True',
        '--ServerApp.disable_check_xsrf=True',
        '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
        '--LabServerApp.news_url=None',
        ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
      ],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    lab.stdout?.on('data', (d: Buffer) => (labLog += d.toString()));
    lab.stderr?.on('data', (d: Buffer) => (labLog += d.toString()));
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      'JupyterLab to start',
      async () => {
        if (lab?.exitCode !== null) throw new Error(`JupyterLab exited with ${lab?.exitCode}`);
        return httpOk(`${base}/api/status?token=${token}`);
      },
      120_000,
    );
    log(`JupyterLab up on ${base}`);

    // 0. The committed notebooks, untrusted, not run: every saved plotly figure must draw.
    const committed: BrowserCheckResult['committed'] = [];
    for (const { f, name } of copies) {
      const p = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await p.goto(`${base}/lab/tree/notebooks/${name}?token=${token}&reset`);
      await p.waitForFunction('window.jupyterapp && document.querySelector(".jp-Notebook .jp-Cell")', undefined, { timeout: 120_000 });
      const saved = savedFigures(path.join(ROOT, 'notebooks', name));
      const trusted = await p.evaluate(
        `(() => { const w = window.jupyterapp.shell.currentWidget; return w.content.widgets.some((c) => c.model.type === 'code' && c.model.outputs.length > 0 && c.model.trusted); })()`,
      );
      if (trusted) throw new Error(`${f}: a cell with outputs is trusted in a fresh data folder; the check would not show an untrusted notebook`);
      // Scroll through the notebook so that every output is attached and drawn.
      await p.evaluate(
        `(async () => { const w = window.jupyterapp.shell.currentWidget; for (const c of w.content.widgets) { c.node.scrollIntoView(); await new Promise((r) => setTimeout(r, 60)); } })()`,
      );
      await p
        .waitForFunction(`(() => { const c = ${COUNT_LAB_FIGURES}; return c.figuresWithTraces >= ${saved}; })()`, undefined, { timeout: 60_000 })
        .catch(() => undefined);
      const c = (await p.evaluate(COUNT_LAB_FIGURES)) as { figures: number; figuresWithTraces: number };
      committed.push({ notebook: f, saved, figures: c.figures, figuresWithTraces: c.figuresWithTraces });
      log(`${f} (untrusted, not run): ${c.figuresWithTraces} of ${saved} saved figures drew`);
      if (saved > 0) {
        await p
          .locator('.js-plotly-plot')
          .first()
          .scrollIntoViewIfNeeded()
          .catch(() => undefined);
        const shot = path.join(outDir, `untrusted-${f.replace(/\.ipynb$/, '')}.png`);
        await p.screenshot({ path: shot });
        screenshots.push(shot);
      }
      await p.evaluate(`window.jupyterapp.commands.execute('docmanager:close-all-files')`).catch(() => undefined);
      await p.close();
    }
    const blank = committed.filter((c) => c.figuresWithTraces < c.saved);
    if (blank.length)
      throw new Error(
        `untrusted committed notebooks with blank figures: ${blank.map((c) => `${c.notebook} ${c.figuresWithTraces}/${c.saved}`).join(', ')}`,
      );

    // 1. Run all cells in JupyterLab.
    const t0 = Date.now();
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${base}/lab/tree/notebooks/${nbName}?token=${token}&reset`);
    await page.waitForFunction('window.jupyterapp && document.querySelector(".jp-Notebook .jp-Cell")', undefined, { timeout: 120_000 });
    // Wait for the kernel, then run everything.
    await page.waitForFunction(
      `(() => { const w = window.jupyterapp.shell.currentWidget; return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel && w.sessionContext.session.kernel.status === 'idle'; })()`,
      undefined,
      { timeout: 120_000 },
    );
    log('kernel idle; running all cells');
    await page.evaluate(`window.jupyterapp.commands.execute('notebook:run-all-cells')`);
    // Done when the last code cell has an output (it prints the files it wrote) and the kernel is idle again.
    await page.waitForFunction(
      `(() => {
      const w = window.jupyterapp.shell.currentWidget;
      const cells = w.content.widgets.filter((c) => c.model.type === 'code');
      const last = cells[cells.length - 1];
      const errored = cells.some((c) => c.model.outputs && [...Array(c.model.outputs.length).keys()].some((i) => c.model.outputs.get(i).type === 'error'));
      return errored || (last.model.outputs.length > 0 && w.sessionContext.session.kernel.status === 'idle');
    })()`,
      undefined,
      { timeout: timeoutMs, polling: 1000 },
    );
    const stderrErrors = (await page.evaluate(`(() => {
      const w = window.jupyterapp.shell.currentWidget;
      const out = [];
      for (const c of w.content.widgets) {
        if (c.model.type !== 'code') continue;
        for (let i = 0; i < c.model.outputs.length; i++) {
          const o = c.model.outputs.get(i).toJSON();
          const text = Array.isArray(o.text) ? o.text.join('') : (o.text || '');
          if (o.output_type === 'error' || (o.name === 'stderr' && /(^|\\n)\\s*(\\d+:\\d+ - |[A-Za-z]*Error: )/.test(text))) out.push(text.slice(0, 300) || o.ename);
        }
      }
      return out;
    })()`)) as string[];
    if (stderrErrors.length) throw new Error(`a cell failed in JupyterLab:\n${stderrErrors.join('\n')}`);
    // Let plotly finish drawing, then look.
    await page
      .waitForFunction(`(() => { const c = ${COUNT_LAB_FIGURES}; return c.figures > 0 && c.figuresWithTraces === c.figures; })()`, undefined, {
        timeout: 60_000,
      })
      .catch(() => undefined);
    const labCounts = (await page.evaluate(COUNT_LAB_FIGURES)) as { figures: number; figuresWithTraces: number; traces: number };
    const tables = (await page.evaluate(`document.querySelectorAll('.jp-OutputArea-output table.cwb-table tbody tr').length`)) as number;
    const seconds = (Date.now() - t0) / 1000;
    log(
      `JupyterLab: ${labCounts.figures} figures, ${labCounts.figuresWithTraces} drew data traces (${labCounts.traces} traces), ${tables} table rows, ${seconds.toFixed(0)} s`,
    );
    const shotTop = path.join(outDir, 'lab-quickstart-top.png');
    await page.screenshot({ path: shotTop });
    screenshots.push(shotTop);
    const firstPlot = page.locator('.js-plotly-plot').first();
    if (await firstPlot.count()) {
      await firstPlot.scrollIntoViewIfNeeded();
      const shotPlot = path.join(outDir, 'lab-quickstart-figure.png');
      await page.screenshot({ path: shotPlot });
      screenshots.push(shotPlot);
    }
    // Save the executed notebook (outputs made in this session are trusted) for the export.
    await page.evaluate(`window.jupyterapp.commands.execute('docmanager:save')`);
    await waitFor(
      'the notebook to be saved',
      async () => {
        const nb = JSON.parse(fs.readFileSync(nbFile, 'utf8')) as { cells: { outputs?: unknown[] }[] };
        return nb.cells.some((c) => (c.outputs ?? []).length > 0);
      },
      60_000,
    );
    await page.close();
    if (labCounts.figures === 0 || labCounts.figuresWithTraces !== labCounts.figures || tables === 0) {
      throw new Error(`JupyterLab: ${labCounts.figuresWithTraces} of ${labCounts.figures} figures drew traces, ${tables} table rows`);
    }

    // 2. The nbconvert HTML export, opened with the network off.
    const htmlFile = path.join(outDir, 'quickstart-export.html');
    const conv = spawnSync(python, ['-m', 'jupyter', 'nbconvert', '--to', 'html', nbFile, '--output', 'quickstart-export', '--output-dir', outDir], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
    });
    if (conv.status !== 0) throw new Error(`nbconvert --to html failed:\n${conv.stderr}`);
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 }, offline: true });
    const blocked: string[] = [];
    await ctx.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      blocked.push(url);
      return route.abort();
    });
    const exported = await ctx.newPage();
    await exported.goto(`file://${htmlFile}`, { waitUntil: 'load' });
    await exported
      .waitForFunction(`(() => { const c = ${COUNT_SVG_FIGURES}; return c.figures > 0; })()`, undefined, { timeout: 60_000 })
      .catch(() => undefined);
    const expCounts = (await exported.evaluate(COUNT_SVG_FIGURES)) as { figures: number; figuresWithTraces: number };
    const shotExport = path.join(outDir, 'export-quickstart-figure.png');
    const expPlot = exported.locator('.jp-RenderedSVG').first();
    if (await expPlot.count()) await expPlot.scrollIntoViewIfNeeded();
    await exported.screenshot({ path: shotExport });
    screenshots.push(shotExport);
    log(
      `export (offline): ${expCounts.figuresWithTraces} of ${expCounts.figures} static figures drawn; blocked ${blocked.length} network request(s): ${[...new Set(blocked.map((u) => new URL(u).host))].join(', ')}`,
    );
    if (expCounts.figures < labCounts.figures || expCounts.figuresWithTraces !== expCounts.figures) {
      throw new Error(
        `exported page: ${expCounts.figuresWithTraces} of ${expCounts.figures} static figures drew, JupyterLab had ${labCounts.figures}`,
      );
    }

    // 3. The standalone page the quickstart wrote (plotly.js inlined) and the report of the same results, offline.
    const pageFile = path.join(resultsDir, 'quickstart-smoke', 'quickstart.html');
    if (!fs.existsSync(pageFile)) throw new Error(`the quickstart did not write ${pageFile}`);
    const sa = await ctx.newPage();
    await sa.goto(`file://${pageFile}`, { waitUntil: 'load' });
    await sa
      .waitForFunction(`(() => { const c = ${COUNT_FIGURES}; return c.figures > 0 && c.figuresWithTraces === c.figures; })()`, undefined, {
        timeout: 60_000,
      })
      .catch(() => undefined);
    const saCounts = (await sa.evaluate(COUNT_FIGURES)) as { figures: number; figuresWithTraces: number };
    log(`standalone page (offline): ${saCounts.figuresWithTraces} of ${saCounts.figures} figures drew`);
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { writeReport } = require('../src/results/report') as typeof import('../src/results/report');
    const reportFile = writeReport(resultsDir).html;
    const rp = await ctx.newPage();
    await rp.goto(`file://${reportFile}`, { waitUntil: 'load' });
    await rp
      .waitForFunction(`(() => { const c = ${COUNT_FIGURES}; return c.figures > 0 && c.figuresWithTraces === c.figures; })()`, undefined, {
        timeout: 60_000,
      })
      .catch(() => undefined);
    const rpCounts = (await rp.evaluate(COUNT_FIGURES)) as { figures: number; figuresWithTraces: number };
    const scrollWidth = (await rp.evaluate('document.documentElement.scrollWidth')) as number;
    const shotReport = path.join(outDir, 'report-top.png');
    await rp.screenshot({ path: shotReport });
    screenshots.push(shotReport);
    log(`report.html (offline, 1400 px window): ${rpCounts.figuresWithTraces} of ${rpCounts.figures} figures drew, page width ${scrollWidth} px`);
    await ctx.close();
    if (saCounts.figures === 0 || saCounts.figuresWithTraces !== saCounts.figures)
      throw new Error(`standalone page: ${saCounts.figuresWithTraces} of ${saCounts.figures} figures drew offline`);
    if (rpCounts.figures === 0 || rpCounts.figuresWithTraces !== rpCounts.figures)
      throw new Error(`report.html: ${rpCounts.figuresWithTraces} of ${rpCounts.figures} figures drew offline`);
    if (scrollWidth > 1400) throw new Error(`report.html is ${scrollWidth} px wide in a 1400 px window`);
    return {
      committed,
      lab: { ...labCounts, tables, seconds },
      exported: { ...expCounts, blockedRequests: blocked, file: htmlFile },
      standalone: { ...saCounts, file: pageFile },
      report: { ...rpCounts, scrollWidth, file: reportFile },
      screenshots,
    };
  } catch (e) {
    if (labLog) log(`JupyterLab log (tail):\n${labLog.split('\n').slice(-15).join('\n')}`);
    throw e;
  } finally {
    await browser.close();
    if (lab && lab.exitCode === null) {
      lab.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 1000));
      if (lab.exitCode === null) lab.kill('SIGKILL');
    }
    fs.rmSync(nbFile, { force: true });
    for (const c of copies) {
      fs.rmSync(path.join(ROOT, 'notebooks', c.name), { force: true });
      fs.rmSync(path.join(ROOT, 'notebooks', '.ipynb_checkpoints', c.name.replace(/\.ipynb$/, '-checkpoint.ipynb')), { force: true });
    }
    fs.rmSync(path.join(ROOT, 'notebooks', '.ipynb_checkpoints', nbName.replace(/\.ipynb$/, '-checkpoint.ipynb')), { force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  browserCheck()
    .then((r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    })
    .catch((e: Error & { code?: string }) => {
      console.error(`[browser-check] ${e.message}`);
      process.exit(e.code === 'NO_CHROMIUM' || e.code === 'NO_JUPYTER' ? 2 : 1);
    });
}
