/**
 * The Python side of the GPU bench (bench/gpu.sh): bench/gpu_table.py, which picks the TF.js rows
 * still to run after a crash and joins TF.js and PyTorch rows into the table, and the options of
 * bench/torch/bench_torch.py. Both run on the GPU machine where nothing can be fixed mid-run.
 * Needs python3 (not torch); skipped without it.
 */
import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

const root = path.join(__dirname, '..');
const hasPython = spawnSync('python3', ['--version']).status === 0;

function py(args: string[], input?: string): string {
  const r = spawnSync('python3', args, { cwd: root, encoding: 'utf8', input });
  assert.strictEqual(r.status, 0, `python3 ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

describe('GPU bench helpers (bench/gpu_table.py, bench/torch/bench_torch.py)', function () {
  this.timeout(60000);
  let dir: string;
  const plan = [
    { arch: 'resnet18', method: 'moco', batch: 256, config: {} },
    { arch: 'resnet18', method: 'encoder', batch: 256, config: {} },
    { arch: 'convnet', method: 'moco', batch: 256, config: {} },
    { arch: 'convnet', method: 'supcon', batch: 256, config: {} },
  ];
  const tfRow = (arch: string, method: string, ips: number) => ({
    arch,
    method,
    batch: 256,
    tfjs: { imagesPerSec: ips, stepMs: [256000 / ips, 256000 / ips, 256000 / ips] },
  });

  before(function () {
    if (!hasPython) this.skip();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwb-gpu-'));
    fs.writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(plan));
    // Attempt 1 finished resnet18 moco, then died inside resnet18 encoder.
    fs.writeFileSync(
      path.join(dir, 'tfjs-1.json'),
      JSON.stringify({
        backend: { backend: 'webgpu', device: 'nvidia hopper' },
        complete: false,
        inProgress: { arch: 'resnet18', method: 'encoder', batch: 256 },
        rows: [tfRow('resnet18', 'moco', 600)],
      }),
    );
    fs.writeFileSync(
      path.join(dir, 'torch.jsonl'),
      `${[
        { arch: 'resnet18', method: 'moco', batch: 256, imagesPerSec: 1000, stepMs: [256], device: 'cuda', tf32Conv: true },
        { arch: 'resnet18', method: 'moco', batch: 256, imagesPerSec: 800, stepMs: [320], device: 'cuda', tf32Conv: false },
        { arch: 'convnet', method: 'moco', batch: 256, error: 'OutOfMemoryError: CUDA out of memory' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n')}\n`,
    );
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('after a crash, reruns neither the finished rows nor the row the process died in', () => {
    const rows = py(['bench/gpu_table.py', 'rows', path.join(dir, 'plan.json'), path.join(dir, 'tfjs-1.json')]).trim();
    assert.strictEqual(rows, 'convnet:moco:256,convnet:supcon:256');
    assert.strictEqual(
      py(['bench/gpu_table.py', 'rows', path.join(dir, 'plan.json')])
        .trim()
        .split(',').length,
      4,
    );
  });

  it('joins TF.js and PyTorch rows: ratio against TF32 and fp32 PyTorch, errors as notes', () => {
    fs.writeFileSync(
      path.join(dir, 'tfjs-2.json'),
      JSON.stringify({
        backend: { backend: 'webgpu', device: 'nvidia hopper' },
        complete: true,
        inProgress: null,
        rows: [tfRow('convnet', 'moco', 2000)],
      }),
    );
    const md = py([
      'bench/gpu_table.py',
      'table',
      '--plan',
      path.join(dir, 'plan.json'),
      '--tfjs',
      path.join(dir, 'tfjs-1.json'),
      path.join(dir, 'tfjs-2.json'),
      '--torch',
      path.join(dir, 'torch.jsonl'),
      '--json',
      path.join(dir, 'all.json'),
    ]);
    const line = (prefix: string) => md.split('\n').find((l) => l.startsWith(prefix)) ?? '';
    assert.match(line('| resnet18 | moco | 256 |'), /\| 600\.0 \| .* \| 1000\.0 \| .* \| 0\.60 \| yes \| 800\.0 \| 0\.75 \|/);
    assert.match(md, /resnet18 encoder B=256: TF\.js: the process died/);
    assert.match(md, /convnet moco B=256: PyTorch: OutOfMemoryError/);
    const all = JSON.parse(fs.readFileSync(path.join(dir, 'all.json'), 'utf8')) as { rows: { ratio: number | null }[]; diedIn: unknown[] };
    assert.strictEqual(all.rows.length, 4);
    assert.ok(Math.abs((all.rows[0].ratio ?? 0) - 0.6) < 1e-9);
    assert.deepStrictEqual(all.diedIn, [['resnet18', 'encoder', 256]]);
  });

  it('bench_torch.py takes --device, --plan and --no-tf32 without importing torch to parse them', () => {
    const out = py([
      '-c',
      [
        'import sys; sys.path.insert(0, "bench/torch"); import bench_torch as b',
        'a = b.parse_args(["--plan", "p.json", "--device", "cuda", "--no-tf32", "--deadline-s", "100"])',
        'print(a.device, a.tf32, a.plan, a.deadline_s, "torch" in sys.modules)',
      ].join('\n'),
    ]);
    assert.strictEqual(out.trim(), 'cuda False p.json 100.0 False');
    const bad = spawnSync('python3', ['bench/torch/bench_torch.py', '--arch', 'convnet', '--method', 'moco', '--device', 'tpu'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.strictEqual(bad.status, 2);
    assert.match(bad.stderr, /--device must be cpu, cuda or cuda:N/);
  });
});
