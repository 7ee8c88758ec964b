"""Times one training step of a method in PyTorch on synthetic batches, for bench/run.ts and
bench/gpu.sh, on the CPU (default) or on CUDA.

  python3 bench/torch/bench_torch.py --arch resnet18 --method moco --batch 256 --steps 3 \\
      --threads 2 --config '{"K": 4096, ...}' [--device cuda] [--no-tf32]

prints one JSON line: {"imagesPerSec": ..., "stepMs": [...], "cpuMsPerStep": [...], "peakRssMB": ...,
"torch": version, "device": ...}.

  python3 bench/torch/bench_torch.py --plan plan.json [--device cuda] [--deadline-s 120] [--out rows.jsonl]

runs every row of a plan (a JSON list of {"arch", "method", "batch", "config"}, as
`bench/run.ts --print-plan` writes it) in this one process, so CUDA and cuDNN start once, and
prints one JSON line per row as soon as it is done, with "arch", "method", "batch" added and
"error" in place of the numbers when the row failed. Rows that would start after --deadline-s
seconds are reported as skipped.

Images/s counts source images (a batch of B images with two views is B images). On CUDA each
timed step starts and ends with torch.cuda.synchronize(), so the time is that of the GPU work."""
import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

ARCHS = ["convnet", "resnet18"]
METHOD_NAMES = ["encoder", "mixco", "mochi", "moco", "supcon"]


def parse_args(argv=None) -> argparse.Namespace:
    """The options; importing torch is left to main(), so this runs without torch."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=ARCHS)
    ap.add_argument("--method", choices=METHOD_NAMES)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--config", default="{}")
    ap.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    ap.add_argument("--no-tf32", dest="tf32", action="store_false",
                    help="CUDA: turn TF32 off for cuDNN convolutions and matmuls (PyTorch's default "
                         "uses TF32 for convolutions only); fp32 throughout, like WebGPU")
    ap.add_argument("--no-cudnn-benchmark", dest="cudnn_benchmark", action="store_false",
                    help="CUDA: do not let cuDNN time its algorithms during the warm-up steps")
    ap.add_argument("--plan", help="JSON file with a list of rows {arch, method, batch, config}")
    ap.add_argument("--deadline-s", type=float, default=None,
                    help="with --plan: start no row after this many seconds")
    ap.add_argument("--out", help="with --plan: also append each row's JSON line to this file")
    a = ap.parse_args(argv)
    if not a.plan and (a.arch is None or a.method is None):
        ap.error("--arch and --method are required without --plan")
    if not (a.device == "cpu" or a.device == "cuda" or a.device.startswith("cuda:")):
        ap.error(f"--device must be cpu, cuda or cuda:N, got {a.device!r}")
    return a


def setup_device(a: argparse.Namespace):
    import torch

    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    info = {"device": str(dev)}
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit(f"bench_torch: --device {a.device} but torch.cuda.is_available() is False "
                             f"(torch {torch.__version__}, CUDA {torch.version.cuda})")
        torch.cuda.set_device(dev)
        torch.backends.cudnn.benchmark = a.cudnn_benchmark
        if not a.tf32:
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False
        info.update({"gpu": torch.cuda.get_device_name(dev), "cuda": torch.version.cuda,
                     "cudnn": torch.backends.cudnn.version(), "cudnnBenchmark": torch.backends.cudnn.benchmark})
        try:  # newer PyTorch deprecates these in favour of fp32_precision; they still read the setting
            info.update({"tf32Conv": bool(torch.backends.cudnn.allow_tf32),
                         "tf32Matmul": bool(torch.backends.cuda.matmul.allow_tf32)})
        except Exception as e:  # noqa: BLE001
            info["tf32"] = f"unknown ({type(e).__name__})"
    # The methods (methods.py) make their queues, permutations and masks with factory calls that
    # name no device: the default device puts them beside the model.
    if dev.type != "cpu":
        torch.set_default_device(dev)
    return dev, info


def bench_row(arch: str, method_name: str, b: int, cfg: dict, a: argparse.Namespace, dev, info: dict) -> dict:
    import torch
    from methods import METHODS

    torch.manual_seed(0)
    method = METHODS[method_name](arch, cfg)
    views = [torch.randn(b, 3, a.size, a.size) for _ in range(2)]
    labels = torch.randint(0, 10, (b,))
    cuda = dev.type == "cuda"

    def sync():
        if cuda:
            torch.cuda.synchronize(dev)

    if cuda:
        torch.cuda.reset_peak_memory_stats(dev)
    for _ in range(a.warmup):
        method.step(views, labels)
    times, cpu = [], []
    loss = float("nan")
    for _ in range(a.steps):
        sync()
        t0 = time.perf_counter()
        c0 = time.process_time()
        loss = method.step(views, labels)
        sync()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    med = sorted(times)[len(times) // 2]
    out = {
        "imagesPerSec": b / (med / 1000),
        "stepMs": [round(t, 2) for t in times],
        # CPU time of all threads per step: less sensitive than wall time to other load on the machine.
        "cpuMsPerStep": [round(t, 1) for t in cpu],
        "loss": loss,
        "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        **info,
    }
    if cuda:
        out["peakGpuMB"] = round(torch.cuda.max_memory_allocated(dev) / 2**20, 1)
    del method, views, labels
    if cuda:
        torch.cuda.empty_cache()
    return out


def main() -> None:
    a = parse_args()
    dev, info = setup_device(a)
    if not a.plan:
        print(json.dumps(bench_row(a.arch, a.method, a.batch, json.loads(a.config), a, dev, info)))
        return
    with open(a.plan) as f:
        plan = json.load(f)
    t_start = time.monotonic()
    sink = open(a.out, "a") if a.out else None
    for row in plan:
        key = {"arch": row["arch"], "method": row["method"], "batch": row["batch"]}
        if a.deadline_s is not None and time.monotonic() - t_start > a.deadline_s:
            res = {**key, "skipped": f"time budget ({a.deadline_s:.0f} s) spent"}
        else:
            t0 = time.monotonic()
            try:
                res = {**key, **bench_row(row["arch"], row["method"], row["batch"], row.get("config", {}), a, dev, info)}
            except Exception as e:  # noqa: BLE001 - one failed row (CUDA OOM, ...) must not end the plan
                res = {**key, "error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]}
                if dev.type == "cuda":
                    import torch
                    torch.cuda.empty_cache()
            res["rowSeconds"] = round(time.monotonic() - t0, 1)
        line = json.dumps(res)
        print(line, flush=True)
        if sink:
            sink.write(line + "\n")
            sink.flush()


if __name__ == "__main__":
    main()
