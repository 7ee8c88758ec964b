/**
 * End-to-end train img/s of the workbench beside its PyTorch twin: for each row (method, arch,
 * batch), two epochs of the parity recipe through `cwb parity` on both sides. The workbench runs
 * its real loop (loader, augmentation, step, read-back), and the twin runs bench/torch/train.py's
 * loop (torchvision transforms, step), on the same images and with the same thread count. Each
 * side's figure is its second epoch's train img/s, evaluation excluded: the first epoch also holds
 * the one-off kernel set-up (bench/README.md).
 *
 *   DATA_DIR=... npm run bench -- --e2e [--rows convnet:moco:128,resnet18:moco:128,...]
 *                                       [--images 2560] [--threads 2] [--backend tensorflow] [--json] [--out FILE]
 *
 * Rows default to the ConvNet at batch 128 for moco, mochi, mixco and supcon. The methods are
 * those of `cwb parity` (moco, moco-v1, mochi, mixco, mixco-simclr, simclr, supcon, ce).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../src/backend/init';
import { PARITY_METHODS, type ParityMethod, parity } from '../src/experiments/parity';

export interface E2eRow {
  arch: 'convnet' | 'resnet18';
  method: ParityMethod;
  batch: number;
}

export interface E2eResult extends E2eRow {
  images: number;
  workbench: number | null;
  torch: number | null;
  ratio: number | null;
}

export function parseE2eRows(spec: string): E2eRow[] {
  return spec.split(',').map((r) => {
    const [arch, method, b] = r.split(':');
    const batch = Number(b);
    if (
      (arch !== 'convnet' && arch !== 'resnet18') ||
      !(PARITY_METHODS as readonly string[]).includes(method) ||
      !(Number.isInteger(batch) && batch > 0)
    ) {
      throw new Error(`bench --e2e: --rows: '${r}' is not arch:method:batch (convnet|resnet18 : ${PARITY_METHODS.join('|')} : batch)`);
    }
    return { arch, method: method as ParityMethod, batch };
  });
}

/** Two epochs of each row on both sides, in a temporary results folder; the second epoch's img/s. */
export async function endToEnd(rows: E2eRow[], opts: { images: number; threads: number; onRow?: (r: E2eResult) => void }): Promise<E2eResult[]> {
  const dataDir = process.env.DATA_DIR;
  if (!dataDir) throw new Error('bench --e2e: set DATA_DIR to the folder that holds cifar10/{train,test}');
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-e2e-'));
  const out: E2eResult[] = [];
  try {
    for (const row of rows) {
      if (opts.images < 2 * row.batch) throw new Error(`bench --e2e: --images ${opts.images} is less than two batches of ${row.batch}`);
      const r = await parity({
        method: row.method,
        budget: 'parity',
        seeds: 1,
        epochs: 2,
        threads: opts.threads,
        force: true,
        overrides: {
          'encoder.arch': row.arch,
          batchSize: row.batch,
          'dataset.trainSubset': opts.images,
          'dataset.testSubset': 500,
          'eval.knnEvery': 0,
          'eval.linear': false,
        },
        log: () => undefined,
        run: { resultsDir, dataDir, quiet: true },
      });
      const second = (side: typeof r.workbench) => side[0]?.epochs.find((e) => e.epoch === 2)?.imagesPerSec ?? null;
      const wb = second(r.workbench);
      const pt = second(r.torch);
      const res: E2eResult = { ...row, images: opts.images, workbench: wb, torch: pt, ratio: wb !== null && pt ? wb / pt : null };
      out.push(res);
      opts.onRow?.(res);
    }
  } finally {
    fs.rmSync(resultsDir, { recursive: true, force: true });
  }
  return out;
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : undefined;
}

/** The `--e2e` mode of `npm run bench`. */
export async function e2eMain(): Promise<void> {
  const rows = parseE2eRows(flag('rows') ?? 'convnet:moco:128,convnet:mochi:128,convnet:mixco:128,convnet:supcon:128');
  const images = Number(flag('images') ?? 2560);
  const threads = Number(flag('threads') ?? 2);
  if (!(Number.isInteger(images) && images > 0)) throw new Error(`bench --e2e: --images must be a positive integer, got ${flag('images')}`);
  if (!(Number.isInteger(threads) && threads > 0)) throw new Error(`bench --e2e: --threads must be a positive integer, got ${flag('threads')}`);
  await initBackend(flag('backend') ?? 'tensorflow');
  const json = process.argv.includes('--json');
  const file = flag('out');
  const log = (l: string) => (json ? process.stderr : process.stdout).write(`${l}\n`);
  const f = (x: number | null, d = 1) => (x === null ? '-' : x.toFixed(d));
  log(`end to end, epoch 2 of ${images} images per row, PyTorch on ${threads} threads`);
  log('arch | method | B | workbench img/s | PyTorch img/s | ratio');
  const done: E2eResult[] = [];
  const results = await endToEnd(rows, {
    images,
    threads,
    onRow: (r) => {
      done.push(r);
      log(`${r.arch} | ${r.method} | ${r.batch} | ${f(r.workbench)} | ${f(r.torch)} | ${f(r.ratio, 2)}`);
      // Rewritten after every row, so that a run that dies keeps what it finished.
      if (file) fs.writeFileSync(file, `${JSON.stringify({ images, threads, rows: done }, null, 2)}\n`);
    },
  });
  if (file) fs.writeFileSync(file, `${JSON.stringify({ images, threads, rows: results }, null, 2)}\n`);
  if (json) process.stdout.write(`${JSON.stringify({ images, threads, rows: results }, null, 2)}\n`);
}
