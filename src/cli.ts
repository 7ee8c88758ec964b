#!/usr/bin/env node
/**
 * `cwb`: the command line of contrastive-workbench. It parses arguments and calls the library
 * (initBackend, run, runSweep, ablation, writeReport); it holds no training logic.
 *
 *   cwb info [--json]                       backend report
 *   cwb train --config run.json             one run (resumes when started again)
 *   cwb sweep <ablation> --budget quick     an ablation sweep (--index i, --list, --slurm)
 *   cwb eval --run <dir>                    evaluate a run's checkpoint again
 *   cwb report                              CSV per ablation + results/report.html
 *   cwb reproduce --budget quick            the four ablations, then report
 *   cwb parity --method moco --seeds 3      the same run in the workbench and in PyTorch
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readJson } from './util/fsx';
import { didYouMean } from './util/suggest';
import { ABLATIONS, BUDGETS } from './experiments/names';
import { k8sJob, slurmScript } from './experiments/jobs';
// The library (TF.js, models, data) is loaded by the commands that need it, so that --help and
// usage errors answer at once.
import type * as Experiments from './experiments';
import type * as Results from './results';
import type { Ablation } from './experiments/ablations';
import type { RunConfig } from './experiments/config';

const lib = (): typeof Experiments => require('./experiments') as typeof Experiments;
const results = (): typeof Results => require('./results') as typeof Results;
const backend = (): typeof import('./backend/init') => require('./backend/init') as typeof import('./backend/init');

class UsageError extends Error {}

const GLOBAL_HELP = `Global options:
  --backend <b>       auto, tensorflow, webgpu, wasm or cpu (default: $CWB_BACKEND, then auto)
  --data-dir <dir>    where datasets live (default: $DATA_DIR, then ./data)
  --results-dir <dir> where runs are written (default: $CWB_RESULTS_DIR, then ./results)
  --quiet             no progress bar
  -h, --help          this help`;

const HELP: Record<string, string> = {
  main: `cwb: contrastive-workbench (MoCo, MoCHi, MixCo, SupCon ablations on TensorFlow.js)

Usage: cwb <command> [options]

Commands:
  info        show the chosen backend, its device, and why faster backends were skipped
  train       train one run from a JSON config (resumes from its last checkpoint)
  sweep       run an ablation sweep (${ABLATIONS.join(', ')})
  eval        evaluate a run's checkpoint again (kNN, linear probe, alignment/uniformity)
  report      collect results into one CSV per ablation and results/report.html
  reproduce   run the four ablation sweeps at a budget, then report
  parity      train the same run in the workbench and in its PyTorch twin and compare them

Run 'cwb <command> --help' for a command's options.

${GLOBAL_HELP}`,
  info: `Usage: cwb info [--json] [--backend b]

Initialise the backend (as training would) and print the report: chosen backend, device, how it
was chosen, and the skipped faster backends with reasons. Exits non-zero with the reason when a
backend named by --backend or $CWB_BACKEND cannot be loaded.

  --json    print the report as JSON on stdout

${GLOBAL_HELP}`,
  train: `Usage: cwb train --config run.json [--set path=value ...] [--force] [--max-epochs n]
       cwb train --template <method> [--budget b]

Train one run described by a RunConfig JSON file. Results go to
<results-dir>/<experiment>/<run-id>/ (config.json, metrics.jsonl, checkpoint/, summary.json).
Started again, the run resumes from its last checkpoint; a complete run is not repeated.

  --config <file>     the RunConfig JSON (required)
  --set <path=value>  override a field, e.g. --set method.K=1024 --set epochs=5 (value parsed as JSON)
  --force             delete the run's folder and start over (refused while another process trains it)
  --max-epochs <n>    train at most n epochs in this call (the run stays resumable)
  --print-config      print the validated config and exit
  --template <method> print a starter config for moco, mochi, mixco, simclr, supcon or ce
                      (the ablation's config at --budget, default quick) and exit:
                      cwb train --template mochi > my-run.json; cwb train --config my-run.json

${GLOBAL_HELP}`,
  sweep: `Usage: cwb sweep <ablation> [--budget b] [--index i] [--list] [--slurm | --k8s]

Run an ablation's sweep. Ablations: ${ABLATIONS.join(', ')}. Budgets: ${BUDGETS.join(', ')}
(smoke: seconds on synthetic data; quick: 8-12 runs of about a minute each on a 2-core CPU;
paper: ResNet-18, 200 epochs, 3 seeds). Complete runs are skipped, an unfinished one resumes.
Afterwards <results-dir>/<ablation>-<budget>/results.csv and results/report.html are rewritten.

  --budget <b>   smoke, quick or paper (default quick)
  --index <i>    run only point i (0-based; for job arrays); repeatable
  --list         list the points with their indices and run ids, run nothing
  --slurm        print a Slurm job-array script (one task per point) and exit
  --slurm-time <hh:mm:ss>   time limit per task in the script (default by budget)
  --slurm-partition <p>     partition line in the script
  --k8s          print a Kubernetes Indexed Job manifest (JSON; one completion index per point)
  --k8s-image <img>         container image holding the project (default contrastive-workbench:latest)
  --k8s-results-claim <pvc> ReadWriteMany claim mounted at /results (the shared results folder)
  --k8s-data-claim <pvc>    claim mounted read-only at /data
  --k8s-parallelism <n>     tasks at once (default all)
  --launcher <cmd>          how tasks start cwb (default 'npx cwb')

${GLOBAL_HELP}`,
  eval: `Usage: cwb eval --run <run-dir> [--linear moco|supcon|fast] [--align-uniform] [--json]

Evaluate the latest checkpoint of a run: kNN monitor, plus a linear probe (protocol given, else the
run's own) and alignment/uniformity when asked.

${GLOBAL_HELP}`,
  report: `Usage: cwb report

Collect every run under the results folder (written by any number of processes) into
<results-dir>/<experiment>/results.csv and <results-dir>/report.html (plots inline, works offline).

${GLOBAL_HELP}`,
  reproduce: `Usage: cwb reproduce [--budget b] [--estimate]

Run the four ablation sweeps (${ABLATIONS.join(', ')}) at the budget (default quick), then write
the report. Safe to restart: finished runs are skipped and an interrupted one resumes. Before it
starts it prints how long the runs still to train will take on this backend, from a few measured
steps of each kind of run (about a minute at quick).

  --budget <b>   smoke, quick or paper (default quick)
  --estimate     print the estimate and exit

${GLOBAL_HELP}`,
  parity: `Usage: cwb parity --method m [--budget parity|tiny] [--seeds n] [--first-seed s] [--K k ...] [--epochs n]

Train the same RunConfig in the workbench and in the PyTorch twin (bench/torch/train.py, needs
python3 with torch and torchvision: pip install -r bench/torch/requirements.txt) for seeds
s..s+n-1, and print per-epoch loss and kNN of both sides (mean ± std over seeds), the difference
workbench - PyTorch with a 95% t-interval over seeds, the final kNN / linear accuracy and both
sides' train img/s. Writes parity.json and parity.html under
<results-dir>/parity-<budget>/compare-.../. Finished runs of either side are reused.

  --method <m>     moco, moco-v1, mochi, mixco, mixco-simclr, simclr, supcon or ce (required)
  --budget <b>     parity (CIFAR-10 5k/2k, ConvNet, 15 epochs; default) or tiny (synthetic, 2 epochs)
  --seeds <n>      number of seeds (default 3)
  --first-seed <s> the first seed (default 0): seeds s..s+n-1
  --K <k>          queue size of moco/mochi/mixco (default 4096 at parity); repeatable
  --epochs <n>     fewer epochs (suspect tests)
  --set <path=value>  override a config field on both sides (value parsed as JSON); repeatable
  --side <s>       workbench or torch only
  --threads <n>    PyTorch threads (default 1)
  --save <dir>     also write the comparison without machine paths to <dir>/parity-<method>[-K<k>]-<budget>.json
                   (data/parity holds the saved ones the notebooks quote); a saved file of the same recipe,
                   backend and PyTorch version takes this run's seeds beside its own
  --force          rerun both sides
  --json           print the result as JSON on stdout instead of the table

${GLOBAL_HELP}`,
};

const GLOBAL_OPTIONS: ParseArgsConfig['options'] = {
  backend: { type: 'string' },
  'data-dir': { type: 'string' },
  'results-dir': { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const COMMAND_OPTIONS: Record<string, ParseArgsConfig['options']> = {
  info: { json: { type: 'boolean' } },
  train: {
    config: { type: 'string' },
    set: { type: 'string', multiple: true },
    force: { type: 'boolean' },
    'max-epochs': { type: 'string' },
    'print-config': { type: 'boolean' },
    template: { type: 'string' },
    budget: { type: 'string' },
  },
  sweep: {
    budget: { type: 'string' },
    index: { type: 'string', multiple: true },
    list: { type: 'boolean' },
    slurm: { type: 'boolean' },
    'slurm-time': { type: 'string' },
    'slurm-partition': { type: 'string' },
    k8s: { type: 'boolean' },
    'k8s-image': { type: 'string' },
    'k8s-results-claim': { type: 'string' },
    'k8s-data-claim': { type: 'string' },
    'k8s-parallelism': { type: 'string' },
    launcher: { type: 'string' },
  },
  eval: { run: { type: 'string' }, linear: { type: 'string' }, 'align-uniform': { type: 'boolean' }, json: { type: 'boolean' } },
  report: {},
  reproduce: { budget: { type: 'string' }, estimate: { type: 'boolean' } },
  parity: {
    method: { type: 'string' },
    budget: { type: 'string' },
    seeds: { type: 'string' },
    'first-seed': { type: 'string' },
    K: { type: 'string', multiple: true },
    epochs: { type: 'string' },
    set: { type: 'string', multiple: true },
    side: { type: 'string' },
    threads: { type: 'string' },
    save: { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  },
};

type Values = Record<string, string | boolean | string[] | undefined>;

function intOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a non-negative integer, got '${v}'`);
  return Number(v);
}

function budgetOf(v: Values): string {
  const b = (v.budget as string | undefined) ?? 'quick';
  if (!(BUDGETS as readonly string[]).includes(b)) throw new UsageError(`--budget must be one of ${BUDGETS.join(', ')}, got '${b}'`);
  return b;
}

function common(v: Values) {
  const dataDir = v['data-dir'] as string | undefined;
  if (dataDir) process.env.DATA_DIR = path.resolve(dataDir);
  const resultsDir = v['results-dir'] as string | undefined;
  return {
    backend: v.backend as string | undefined,
    dataDir: dataDir ? path.resolve(dataDir) : undefined,
    resultsDir: resultsDir ? path.resolve(resultsDir) : undefined,
    quiet: Boolean(v.quiet),
  };
}

function parseValue(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

async function cmdInfo(v: Values): Promise<void> {
  const report = await backend().initBackend(v.backend as string | undefined, { quiet: true });
  if (v.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const lines = [`backend:   ${report.backend}`, `device:    ${report.device}`, `chosen by: ${report.chosenBy}`];
  for (const s of report.skipped) lines.push(`skipped:   ${s.backend}: ${s.reason}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Method names `cwb train --template` knows, with the ablation whose config it starts from. */
const TEMPLATE_METHODS = ['moco', 'mochi', 'mixco', 'simclr', 'supcon', 'ce'] as const;

/**
 * A starter RunConfig for `method` at a budget: the base config of the ablation that trains it,
 * with that sweep point's method settings (MoCHi's N, s, s'; MixCo's beta; SupCon's T...).
 */
export function templateConfig(method: string, budget: string): RunConfig {
  if (!(TEMPLATE_METHODS as readonly string[]).includes(method)) {
    throw new UsageError(`--template: unknown method '${method}'${didYouMean(method, TEMPLATE_METHODS)}; methods: ${TEMPLATE_METHODS.join(', ')}`);
  }
  const { ablation, applyOverrides, validateConfig } = lib();
  for (const name of ABLATIONS) {
    const ab = ablation(name, budget);
    const point =
      ab.base.method.name === method ? undefined : ab.points.find((p) => (p.overrides.method as { name?: string } | undefined)?.name === method);
    if (ab.base.method.name !== method && !point) continue;
    const { name: _n, ...overrides } = point?.overrides ?? {};
    return validateConfig({ ...applyOverrides(ab.base, overrides), experiment: `my-${method}`, name: `my-${method}`, params: {} });
  }
  throw new UsageError(`--template: no ablation trains '${method}' at budget ${budget}`);
}

async function cmdTrain(v: Values): Promise<void> {
  if (v.template !== undefined) {
    process.stdout.write(`${JSON.stringify(templateConfig(v.template as string, budgetOf(v)), null, 2)}\n`);
    return;
  }
  const file = v.config as string | undefined;
  if (!file) throw new UsageError('train needs --config <file.json> (or --template <method> for a starter config)');
  const { applyOverrides, validateConfig, run } = lib();
  let cfg = readJson<RunConfig>(file);
  const sets = (v.set as string[] | undefined) ?? [];
  if (sets.length) {
    const o: Record<string, unknown> = {};
    for (const s of sets) {
      const eq = s.indexOf('=');
      if (eq <= 0) throw new UsageError(`--set expects path=value, got '${s}'`);
      o[s.slice(0, eq)] = parseValue(s.slice(eq + 1));
    }
    cfg = applyOverrides(cfg, o);
  }
  try {
    cfg = validateConfig(cfg);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  if (v['print-config']) {
    process.stdout.write(`${JSON.stringify(cfg, null, 2)}\n`);
    return;
  }
  const c = common(v);
  const res = await run(cfg, { ...c, force: Boolean(v.force), maxEpochs: intOption(v['max-epochs'] as string | undefined, 'max-epochs') });
  process.stdout.write(
    `${JSON.stringify(
      {
        runId: res.runId,
        dir: res.dir,
        complete: Boolean(res.summary),
        skipped: res.skipped,
        resumedFrom: res.resumedFrom,
        summary: res.summary ?? null,
      },
      null,
      2,
    )}\n`,
  );
}

export { slurmScript, k8sJob } from './experiments/jobs';

async function cmdSweep(v: Values, positionals: string[]): Promise<void> {
  const name = positionals[0];
  if (!name) throw new UsageError(`sweep needs an ablation name: ${ABLATIONS.join(', ')}`);
  if (!(ABLATIONS as readonly string[]).includes(name))
    throw new UsageError(`unknown ablation '${name}'${didYouMean(name, ABLATIONS)}; choose one of ${ABLATIONS.join(', ')}`);
  const ab = lib().ablation(name, budgetOf(v));
  const c = common(v);
  const launcher = v.launcher !== undefined ? (v.launcher as string).trim().split(/\s+/).filter(Boolean) : undefined;
  if (launcher && !launcher.length) throw new UsageError(`--launcher needs a command, e.g. 'npx cwb'`);
  if (v.slurm) {
    try {
      process.stdout.write(
        slurmScript(ab, {
          time: v['slurm-time'] as string | undefined,
          partition: v['slurm-partition'] as string | undefined,
          resultsDir: c.resultsDir,
          dataDir: c.dataDir,
          backend: c.backend,
          launcher,
        }),
      );
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    return;
  }
  if (v.k8s) {
    const par = intOption(v['k8s-parallelism'] as string | undefined, 'k8s-parallelism');
    if (par === 0) throw new UsageError('--k8s-parallelism must be at least 1');
    const job = k8sJob(ab, {
      image: v['k8s-image'] as string | undefined,
      resultsClaim: v['k8s-results-claim'] as string | undefined,
      dataClaim: v['k8s-data-claim'] as string | undefined,
      parallelism: par,
      resultsDir: c.resultsDir,
      dataDir: c.dataDir,
      backend: c.backend,
      launcher,
    });
    process.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
    return;
  }
  if (v.list) {
    for (const p of lib().sweepPoints(ab.base, ab.points, c.resultsDir)) {
      const done = fs.existsSync(path.join(p.dir, 'summary.json'));
      process.stdout.write(`${p.index}\t${done ? 'complete' : 'pending '}\t${p.runId}\t${JSON.stringify(p.params)}\n`);
    }
    return;
  }
  const index = ((v.index as string[] | undefined) ?? []).map((s) => intOption(s, 'index') as number);
  await sweepAblation(ab, { ...c, index: index.length ? index : undefined });
}

async function sweepAblation(ab: Ablation, opts: ReturnType<typeof common> & { index?: number[] }): Promise<void> {
  const { runSweep } = lib();
  const { writeExperimentCsv, writeReport } = results();
  const t0 = Date.now();
  if (!opts.quiet) process.stderr.write(`[cwb] ${ab.name} (${ab.budget}): ${ab.description}; ${ab.points.length} runs\n`);
  const eta = lib().sweepEta();
  const res = await runSweep(ab.base, ab.points, {
    ...opts,
    onPoint: (p, total) => {
      const line = eta.start(p.index, total);
      if (!opts.quiet) process.stderr.write(`[cwb] point ${p.index + 1}/${total}: ${p.runId} ${JSON.stringify(p.params)}\n[cwb] ${line}\n`);
    },
  });
  const exp = ab.base.experiment;
  const { file } = writeExperimentCsv(opts.resultsDir, exp);
  const rep = writeReport(opts.resultsDir);
  const done = res.rows.filter((r) => r.status !== 'pending').length;
  process.stdout.write(
    `${exp}: ${done}/${res.rows.length} runs complete in ${((Date.now() - t0) / 1000).toFixed(1)} s\nCSV: ${file}\nreport: ${rep.html}\n`,
  );
}

async function cmdEval(v: Values): Promise<void> {
  const dir = v.run as string | undefined;
  if (!dir) throw new UsageError('eval needs --run <run-dir>');
  const c = common(v);
  const linear = v.linear as string | undefined;
  if (linear !== undefined && !['moco', 'supcon', 'fast'].includes(linear))
    throw new UsageError(`--linear must be moco, supcon or fast, got '${linear}'`);
  const out = await lib().evaluateCheckpoint(path.resolve(dir), {
    dataDir: c.dataDir,
    backend: c.backend,
    linear: linear ? { protocol: linear as 'moco' | 'supcon' | 'fast' } : undefined,
    alignUniform: v['align-uniform'] ? true : undefined,
  });
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

function cmdReport(v: Values): void {
  const c = common(v);
  const rep = results().writeReport(c.resultsDir);
  for (const [exp, file] of Object.entries(rep.csv)) process.stdout.write(`${exp}: ${rep.rows[exp].length} runs -> ${file}\n`);
  process.stdout.write(`report: ${rep.html}\n`);
}

async function cmdReproduce(v: Values): Promise<void> {
  const budget = budgetOf(v);
  const c = common(v);
  const t0 = Date.now();
  const { ablation, resultsRoot, sweepPoints, estimateRuns, estimateLines, loadDatasetCached } = lib();
  const abs = ABLATIONS.map((name) => ablation(name, budget));
  await backend().initBackend(c.backend, { quiet: c.quiet });
  const runs = abs.flatMap((ab) => sweepPoints(ab.base, ab.points, c.resultsDir));
  const est = await estimateRuns(runs, { dataDir: c.dataDir ?? process.env.DATA_DIR, load: loadDatasetCached });
  const lines = estimateLines(est, `reproduce (${budget})`);
  if (v.estimate) {
    process.stdout.write(`${lines.join('\n')}\n`);
    return;
  }
  if (!c.quiet) process.stderr.write(`[cwb] ${lines.join('\n[cwb] ')}\n`);
  for (const ab of abs) await sweepAblation(ab, c);
  process.stdout.write(
    `reproduce (${budget}) finished in ${((Date.now() - t0) / 60000).toFixed(1)} min (estimated ${(est.seconds / 60).toFixed(1)} min); results in ${resultsRoot(c.resultsDir)}\n`,
  );
}

async function cmdParity(v: Values): Promise<void> {
  const c = common(v);
  const P = require('./experiments/parity') as typeof import('./experiments/parity');
  const method = v.method as string | undefined;
  if (!method || !(P.PARITY_METHODS as readonly string[]).includes(method)) {
    throw new UsageError(`parity: --method must be one of ${P.PARITY_METHODS.join(', ')}, got ${method === undefined ? 'nothing' : `'${method}'`}`);
  }
  const budget = (v.budget as string | undefined) ?? 'parity';
  if (!(P.PARITY_BUDGETS as readonly string[]).includes(budget))
    throw new UsageError(`parity: --budget must be one of ${P.PARITY_BUDGETS.join(', ')}, got '${budget}'`);
  const side = v.side as string | undefined;
  if (side !== undefined && side !== 'workbench' && side !== 'torch')
    throw new UsageError(`parity: --side must be workbench or torch, got '${side}'`);
  const overrides: Record<string, unknown> = {};
  for (const kv of (v.set as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`parity: --set expects path=value, got '${kv}'`);
    overrides[kv.slice(0, i)] = parseValue(kv.slice(i + 1));
  }
  const Ks = ((v.K as string[] | undefined) ?? []).map((k) => intOption(k, 'K'));
  const plots = require('./plots') as typeof import('./plots');
  const results = [];
  for (const K of Ks.length ? Ks : [undefined]) {
    const r = await P.parity({
      method: method as import('./experiments/parity').ParityMethod,
      budget: budget as import('./experiments/parity').ParityBudget,
      seeds: intOption(v.seeds as string | undefined, 'seeds'),
      firstSeed: intOption(v['first-seed'] as string | undefined, 'first-seed'),
      K,
      epochs: intOption(v.epochs as string | undefined, 'epochs'),
      overrides,
      threads: intOption(v.threads as string | undefined, 'threads'),
      sides: side ? [side as 'workbench' | 'torch'] : undefined,
      force: Boolean(v.force),
      run: { resultsDir: c.resultsDir, dataDir: c.dataDir, backend: c.backend, quiet: c.quiet },
    });
    const title = `Parity ${r.method}${r.K ? ` K=${r.K}` : ''} (${r.budget}, seeds ${r.seeds.join(',')})`;
    const figs = (['loss', 'knnAcc'] as const).map((m) =>
      plots.lineFigure(P.parityCurves(r, m), {
        title: `${title}: ${m === 'loss' ? 'training loss' : 'kNN accuracy'}`,
        x: { title: 'epoch' },
        y: { title: m },
      }),
    );
    plots.writeFigureHtml(path.join(r.dir, 'parity.html'), title, figs);
    if (!v.json) process.stdout.write(`${P.parityTable(r)}\n${path.join(r.dir, 'parity.json')}\n\n`);
    if (v.save) {
      const saved = P.saveParity(r, path.resolve(v.save as string));
      process.stderr.write(`[parity] saved ${saved.file} (seeds ${saved.seeds.join(',')})\n`);
    }
    results.push(r);
  }
  if (v.json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 1)}\n`);
}

export async function main(argv: string[]): Promise<number> {
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : undefined;
  if (!command) {
    if (argv.includes('--help') || argv.includes('-h') || argv.length === 0) {
      process.stdout.write(`${HELP.main}\n`);
      return argv.length === 0 ? 2 : 0;
    }
    throw new UsageError(`expected a command first (${Object.keys(COMMAND_OPTIONS).join(', ')}), got '${argv[0]}'`);
  }
  if (!(command in COMMAND_OPTIONS)) {
    throw new UsageError(
      `unknown command '${command}'${didYouMean(command, Object.keys(COMMAND_OPTIONS))}; commands: ${Object.keys(COMMAND_OPTIONS).join(', ')}`,
    );
  }
  let parsed: ReturnType<typeof parseArgs>;
  const options = { ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS[command] };
  try {
    parsed = parseArgs({ args: argv.slice(1), options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message;
    const bad = /Unknown option '--([^']+)'/.exec(msg);
    const hint = bad ? didYouMean(bad[1], Object.keys(options), '--') : '';
    throw new UsageError(`${command}: ${hint ? msg.replace(/\. To specify a positional argument.*$/s, '') + hint : msg}`);
  }
  const v = parsed.values as Values;
  if (v.help) {
    process.stdout.write(`${HELP[command]}\n`);
    return 0;
  }
  if (command !== 'sweep' && parsed.positionals.length) throw new UsageError(`${command}: unexpected argument '${parsed.positionals[0]}'`);
  switch (command) {
    case 'info':
      await cmdInfo(v);
      break;
    case 'train':
      await cmdTrain(v);
      break;
    case 'sweep':
      await cmdSweep(v, parsed.positionals);
      break;
    case 'eval':
      await cmdEval(v);
      break;
    case 'report':
      cmdReport(v);
      break;
    case 'reproduce':
      await cmdReproduce(v);
      break;
    case 'parity':
      await cmdParity(v);
      break;
  }
  return 0;
}

if (require.main === module) {
  const { relaunchWithFilteredStderr, shouldFilterNativeStderr } = require('./backend/native-stderr') as typeof import('./backend/native-stderr');
  if (shouldFilterNativeStderr(process.argv.slice(2), process.env)) relaunchWithFilteredStderr().then((code) => process.exit(code));
  else
    main(process.argv.slice(2)).then(
      (code) => process.exit(code),
      (e: unknown) => {
        // An interrupted run has said where it resumes; exit as the signal would.
        if (e instanceof Error && e.name === 'RunInterrupted') process.exit((e as Error & { signal?: string }).signal === 'SIGTERM' ? 143 : 130);
        const msg = e instanceof Error ? e.message : String(e);
        process.stderr.write(`cwb: ${msg}\n`);
        if (e instanceof UsageError) process.stderr.write(`Run 'cwb --help' for usage.\n`);
        process.exit(e instanceof UsageError ? 2 : 1);
      },
    );
}
