"""Injects parameters (if any are given) into a tslab notebook, executes it headless with nbclient, and writes the
executed notebook even when a cell fails (so the failing output can be read).

usage: execute.py IN.ipynb OUT.ipynb [--timeout S] [--cwd DIR] NAME=VALUE...
Exit status 1 when a cell failed or any output is an error (see check_outputs.py).
"""
import argparse
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_outputs import problems  # noqa: E402
from inject_params import inject, parse_pairs  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("params", nargs="*")
    ap.add_argument("--timeout", type=int, default=14400)
    ap.add_argument("--cwd", default=None, help="kernel working folder (default: the source notebook's folder)")
    ap.add_argument("--kernel", default="tslab")
    args = ap.parse_intermixed_args()

    nb = nbformat.read(args.src, as_version=4)
    # A committed notebook holds no injected cell; one left by an earlier run goes.
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    nb.metadata.pop("papermill", None)
    if args.params:
        inject(nb, parse_pairs(args.params), args.src)
    cwd = args.cwd or os.path.dirname(os.path.abspath(args.src))
    client = NotebookClient(nb, timeout=args.timeout, kernel_name=args.kernel, startup_timeout=120,
                            resources={"metadata": {"path": cwd}}, record_timing=False)
    start = time.time()
    failed = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as e:
        lines = [ln for ln in str(e).splitlines() if ln.strip() and set(ln.strip()) != {"-"}]
        failed = lines[-1][:300] if lines else type(e).__name__
    nb.metadata.setdefault("cwb", {})["executed"] = {"seconds": round(time.time() - start, 1), "ok": failed is None}
    os.makedirs(os.path.dirname(os.path.abspath(args.dst)), exist_ok=True)
    tmp = args.dst + ".tmp"
    nbformat.write(nb, tmp)
    os.replace(tmp, args.dst)
    found = problems(args.dst)
    for f in found:
        print(f"{args.dst}: {f}", file=sys.stderr)
    if failed:
        print(f"{args.dst}: execution stopped: {failed}", file=sys.stderr)
    sys.exit(1 if failed or found else 0)


if __name__ == "__main__":
    main()
