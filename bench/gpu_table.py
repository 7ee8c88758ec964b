"""Helpers of bench/gpu.sh, in Python because the GPU machine has Python but no Node.js until
gpu.sh unpacks one.

  python3 bench/gpu_table.py rows PLAN [TFJS_JSON ...]
      prints the plan's rows (arch:method:batch, comma-separated, in plan order) that none of the
      TF.js reports (bench/run.ts --out) finished or failed, leaving out the row a report names as
      in progress: the process died in it, so it is not tried again.

  python3 bench/gpu_table.py table --plan PLAN [PLAN ...] [--tfjs F ...] [--torch ROWS.jsonl] [--preflight F]
                                   [--json OUT.json] [--target 0.3]
      prints the side-by-side Markdown table (TF.js vs PyTorch images/s, ratio, target) and writes
      every row with both sides' details to --json."""
import argparse
import json
import os
import sys


def key(r):
    return (r["arch"], r["method"], int(r["batch"]))


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"gpu_table: cannot read {path}: {e}", file=sys.stderr)
        return None


def load_tfjs(paths):
    """Rows by key from the TF.js reports, later files winning; plus the rows each report died in."""
    rows, died, meta = {}, [], []
    for p in paths:
        rep = load_json(p) if os.path.exists(p) else None
        if not rep:
            continue
        meta.append({k: rep.get(k) for k in ("backend", "flags", "node", "steps", "warmup", "complete", "peakRssMB")})
        for r in rep.get("rows", []):
            if r.get("tfjs") or r.get("tfjsError") or key(r) not in rows:
                rows[key(r)] = r
        ip = rep.get("inProgress")
        if ip and not rep.get("complete"):
            died.append(key(ip))
            rows.setdefault(key(ip), {**ip, "tfjsError": "the process died (or was killed at its time limit) in this row"})
    return rows, died, meta


def load_torch(path):
    """Rows by key: PyTorch's defaults (TF32 convolutions on CUDA), and the --no-tf32 ones apart."""
    default, fp32 = {}, {}
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                r = json.loads(line)
                strict = r.get("device", "cpu").startswith("cuda") and r.get("tf32Conv") is False
                (fp32 if strict else default)[key(r)] = r
    return default, fp32


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2]


def cmd_rows(a):
    plan = load_json(a.plan) or []
    rows, died, _ = load_tfjs(a.tfjs)
    left = [r for r in plan if key(r) not in died and not (rows.get(key(r), {}).get("tfjs") or rows.get(key(r), {}).get("tfjsError") or rows.get(key(r), {}).get("tfjsSkipped"))]
    print(",".join(f"{r['arch']}:{r['method']}:{r['batch']}" for r in left))


def fmt(x, d=1):
    return "-" if x is None else f"{x:.{d}f}"


def cmd_table(a):
    plan, seen = [], set()
    for p in a.plan:  # TF.js' plan first, then rows only the other plans have
        for r in load_json(p) or []:
            if key(r) not in seen:
                seen.add(key(r))
                plan.append(r)
    tf_rows, died, tf_meta = load_tfjs(a.tfjs)
    torch_rows, torch_fp32 = load_torch(a.torch)
    pre = load_json(a.preflight) if a.preflight and os.path.exists(a.preflight) else None
    backend = next((m["backend"] for m in tf_meta if m.get("backend")), None)
    any_torch = next(iter(torch_rows.values()), None) or next(iter(torch_fp32.values()), None)
    lines = []
    tf_name = f"TF.js {backend['backend']}" if backend else "TF.js"
    torch_name = f"PyTorch {any_torch['device']}" if any_torch else "PyTorch"
    lines.append(f"# TF.js vs PyTorch, one training step (images/s, median of the timed steps)\n")
    if backend:
        lines.append(f"- TF.js: {backend['backend']} on {backend.get('device')}; node {tf_meta[0].get('node')}; "
                     f"flags {json.dumps(tf_meta[0].get('flags'))}; steps {tf_meta[0].get('steps')} after {tf_meta[0].get('warmup')} warm-up")
    if pre:
        ad = pre.get("adapter")
        lines.append(f"- WebGPU preflight: {'ok' if pre.get('ok') else 'FAILED'}; adapter "
                     f"{json.dumps({k: ad.get(k) for k in ('vendor', 'architecture', 'device', 'description')}) if ad else 'none'}"
                     + (f"; backend error: {pre.get('backendError')}" if pre.get("backendError") else ""))
    if any_torch:
        extra = ""
        if any_torch.get("device", "cpu").startswith("cuda"):
            extra = (f" ({any_torch.get('gpu')}, CUDA {any_torch.get('cuda')}, cuDNN {any_torch.get('cudnn')}, "
                     f"cudnn.benchmark {any_torch.get('cudnnBenchmark')}, TF32 conv {any_torch.get('tf32Conv')} / matmul {any_torch.get('tf32Matmul')})")
        lines.append(f"- PyTorch {any_torch.get('torch')} on {any_torch.get('device')}{extra}")
    if torch_fp32:
        lines.append("- 'fp32' columns: PyTorch with TF32 off (--no-tf32), the same fp32 arithmetic as WebGPU")
    lines.append(f"- ratio = TF.js images/s / PyTorch images/s; target >= {a.target}\n")
    head = f"| arch | method | B | {tf_name} img/s | step ms | {torch_name} img/s | step ms | ratio | >= {a.target} |"
    sep = "|---|---|---|---|---|---|---|---|---|"
    if torch_fp32:
        head += " PyTorch fp32 img/s | ratio fp32 |"
        sep += "---|---|"
    lines += [head, sep]
    merged, notes = [], []
    for p in plan:
        k = key(p)
        t, pt, pf = tf_rows.get(k, {}), torch_rows.get(k), torch_fp32.get(k)
        # A row with an error (e.g. WebGPU errors during it: the kernels computed nothing) has void numbers.
        void = bool(t.get("tfjs") and t.get("tfjsError"))
        tj = None if void else t.get("tfjs")
        ti = tj["imagesPerSec"] if tj else None
        ts = median(tj["stepMs"]) if tj else None
        pi = pt["imagesPerSec"] if pt and "imagesPerSec" in pt else None
        ps = median(pt["stepMs"]) if pt and "stepMs" in pt else None
        ratio = ti / pi if ti and pi else None
        line = (f"| {k[0]} | {k[1]} | {k[2]} | {'void' if void else fmt(ti)} | {'void' if void else fmt(ts)} | {fmt(pi)} | {fmt(ps, 2)} | {fmt(ratio, 2)} | "
                f"{'-' if ratio is None else ('yes' if ratio >= a.target else 'no')} |")
        rf = None
        if torch_fp32:
            fi = pf["imagesPerSec"] if pf and "imagesPerSec" in pf else None
            rf = ti / fi if ti and fi else None
            line += f" {fmt(fi)} | {fmt(rf, 2)} |"
        lines.append(line)
        for side, why in (("TF.js", t.get("tfjsError")), ("TF.js skipped", t.get("tfjsSkipped")),
                          ("PyTorch", pt and pt.get("error")), ("PyTorch skipped", pt and pt.get("skipped"))):
            if why:
                notes.append(f"- {k[0]} {k[1]} B={k[2]}: {side}: {why}")
        if pt is None and (torch_rows or torch_fp32):
            notes.append(f"- {k[0]} {k[1]} B={k[2]}: PyTorch: no result (its process was stopped at its time limit first)")
        merged.append({"arch": k[0], "method": k[1], "batch": k[2], "tfjs": t or None, "torch": pt, "torchFp32": pf,
                       "ratio": ratio, "ratioFp32": rf})
    if notes:
        lines.append("\nNotes:")
        lines += notes
    print("\n".join(lines))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"target": a.target, "tfjsReports": tf_meta, "preflight": pre, "diedIn": [list(d) for d in died],
                       "rows": merged}, f, indent=1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rows")
    r.add_argument("plan")
    r.add_argument("tfjs", nargs="*")
    t = sub.add_parser("table")
    t.add_argument("--plan", required=True, nargs="+")
    t.add_argument("--tfjs", nargs="*", default=[])
    t.add_argument("--torch")
    t.add_argument("--preflight")
    t.add_argument("--json")
    t.add_argument("--target", type=float, default=0.3)
    a = ap.parse_args(argv)
    (cmd_rows if a.cmd == "rows" else cmd_table)(a)


if __name__ == "__main__":
    main()
