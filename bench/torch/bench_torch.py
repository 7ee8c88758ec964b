"""Times one training step of a method in PyTorch (CPU) on synthetic batches, for bench/run.ts.

  python3 bench/torch/bench_torch.py --arch resnet18 --method moco --batch 256 --steps 3 \
      --threads 2 --config '{"K": 4096, ...}'

Prints one JSON line: {"imagesPerSec": ..., "stepMs": [...], "cpuMsPerStep": [...], "peakRssMB": ..., "torch": version}.
Images/s counts source images (a batch of B images with two views is B images)."""
import argparse
import json
import resource
import sys
import time
import os

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from methods import METHODS  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", required=True, choices=["convnet", "resnet18"])
    ap.add_argument("--method", required=True, choices=sorted(METHODS))
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--config", default="{}")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = json.loads(a.config)
    method = METHODS[a.method](a.arch, cfg)
    b = a.batch
    views = [torch.randn(b, 3, a.size, a.size) for _ in range(2)]
    labels = torch.randint(0, 10, (b,))
    for _ in range(a.warmup):
        method.step(views, labels)
    times, cpu = [], []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        c0 = time.process_time()
        loss = method.step(views, labels)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    med = sorted(times)[len(times) // 2]
    print(json.dumps({
        "imagesPerSec": b / (med / 1000),
        "stepMs": [round(t, 1) for t in times],
        # CPU time of all threads per step: less sensitive than wall time to other load on the machine.
        "cpuMsPerStep": [round(t, 1) for t in cpu],
        "loss": loss,
        "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
