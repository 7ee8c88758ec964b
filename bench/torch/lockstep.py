"""Replays a workbench training written by bench/torch/lockstep.ts through the PyTorch twin's
method (train.py), step for step on the same inputs: the workbench's initial weights and queue,
and each step's augmented views, labels, key-shuffle permutation and learning rate.

  python3 bench/torch/lockstep.py --dir DIR [--threads 1] [--json] [--tol 1e-3]

The twin replays the steps twice, in float32 and in float64. Prints, per step, the loss and
proxy accuracy of the workbench and of the float32 twin (and the float64 loss), then for the weights after the last step the
largest relative difference of each float32 side from the float64 replay, so that a difference
between the sides can be told apart from float32 rounding: where the workbench sits much further
from float64 than the twin does, its maths or its precision departs. Exits 1 when a step's loss
is further from the float64 replay than both --tol (relative, default 1e-3) and ten times the
float32 twin's own distance from it.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True, help="folder written by lockstep.ts (lockstep.json, tensors.f32)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tol", type=float, default=1e-3, help="relative loss difference from float64 that always passes")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("--torchvision-views", metavar="EXPORT_DIR",
                    help="train the twin on torchvision's views of the same images (from the parity data export) instead of the "
                         "workbench's: everything else as recorded, float32 only; compares the augmentations")
    ap.add_argument("--seed", type=int, default=0, help="torch seed of the torchvision views")
    ap.add_argument("--twin-init", type=int, metavar="SEED",
                    help="start from the twin's own initialisation (torch seed SEED) instead of the workbench's; float32 only")
    ap.add_argument("--twin-init-part", choices=["all", "net", "queue"], default="all",
                    help="with --twin-init: take only the network or only the queue from the twin's initialisation")
    ap.add_argument("--twin-init-params", metavar="PREFIXES",
                    help="with --twin-init: take the twin's initial values only for the parameters whose workbench name "
                         "starts with one of these comma-separated prefixes (e.g. fc. or stage0.,stage1.), the rest of "
                         "the network and the queue from the recording")
    ap.add_argument("--init-from", metavar="DIR",
                    help="take the initial network and queue from another recording (e.g. lockstep.ts --init-seed N --steps 1), "
                         "everything else from --dir; float32 only")
    ap.add_argument("--steps", type=int, help="replay only the first N recorded steps")
    ap.add_argument("--knn", metavar="EXPORT_DIR",
                    help="with the per-epoch means: also score the final networks of both sides with the twin's kNN on "
                         "this parity data export (the workbench's from the recording's final weights and BN statistics)")
    ap.add_argument("--float32-only", action="store_true",
                    help="replay in float32 only and print per-epoch means of both sides (for replays of whole runs, "
                         "where rounding has long since parted the two and only their statistics can be compared)")
    a = ap.parse_args(argv)

    import numpy as np
    import torch
    from models import from_workbench_layout as to_torch_layout, workbench_name
    from train import make_methods

    torch.set_num_threads(a.threads)
    def open_record(d):
        """The metadata of a recording and a reader of its tensors by name."""
        m = json.load(open(os.path.join(d, "lockstep.json")))
        blob = np.memmap(os.path.join(d, "tensors.f32"), dtype=np.uint8, mode="r")
        idx = {t["name"]: t for t in m["tensors"]}

        def read(name):
            t = idx.get(name)
            if t is None:
                raise KeyError(f"{d}/lockstep.json: no tensor {name!r}")
            n = int(np.prod(t["shape"])) if t["shape"] else 1
            dt = np.int32 if t["dtype"] == "int32" else np.float32
            arr = np.frombuffer(blob, dtype=dt, count=n, offset=t["offset"]).reshape(t["shape"])
            return torch.from_numpy(arr.copy())

        return m, idx, read

    meta, index, tensor = open_record(a.dir)
    if a.steps is not None and not 0 < a.steps <= len(meta["steps"]):
        raise ValueError(f"--steps {a.steps}: {a.dir} holds {len(meta['steps'])} steps")
    # The weights after the last step are the recording's after all its steps: compared only when all are replayed.
    truncated = a.steps is not None and a.steps < len(meta["steps"])
    if truncated:
        meta["steps"] = meta["steps"][: a.steps]
    init_tensor = tensor
    if a.init_from:
        imeta, _, init_tensor = open_record(a.init_from)
        if imeta["config"]["method"] != meta["config"]["method"] or imeta["config"]["encoder"] != meta["config"]["encoder"]:
            raise ValueError(f"--init-from {a.init_from}: its method or encoder differs from {a.dir}'s")

    run = meta["config"]
    mcfg = run["method"]
    names = [n[len("init."):] for n in index if n.startswith("init.") and n != "init.queue"]

    real_rand, real_randint = torch.rand, torch.randint
    pil = transform = None
    if a.torchvision_views:
        import random

        from train import build_transform, load_split, to_pil

        emeta = json.load(open(os.path.join(a.torchvision_views, "meta.json")))
        pil = to_pil(load_split(a.torchvision_views, "train", emeta)[0])
        transform = build_transform(emeta["augmentation"]["steps"], emeta["imageSize"], emeta["mean"], emeta["std"])
        torch.manual_seed(a.seed)
        random.seed(a.seed)

    def replay(dtype):
        """The twin's method from the workbench's initial state, stepped on the recorded inputs."""
        methods = make_methods()
        if mcfg["name"] not in methods:
            raise ValueError(f"{a.dir}: method {mcfg['name']!r}: the twin has {', '.join(methods)}")
        if a.twin_init is not None:
            torch.manual_seed(a.twin_init)
        method = methods[mcfg["name"]](mcfg, run, {"channels": meta["channels"], "numClasses": meta["numClasses"]})
        method.net.to(dtype)
        has_key = hasattr(method, "key")
        if has_key:
            method.key.to(dtype)
        params = list(method.net.parameters())
        if len(params) != len(names):
            raise ValueError(f"{a.dir}: {len(names)} workbench parameters, the twin has {len(params)}")
        own = a.twin_init is not None
        prefixes = tuple(x for x in (a.twin_init_params or "").split(",") if x)
        if prefixes and not own:
            raise ValueError("--twin-init-params needs --twin-init SEED")
        if prefixes and not any(n.startswith(prefixes) for n in names):
            raise ValueError(f"--twin-init-params {a.twin_init_params}: no workbench parameter starts with it ({', '.join(names[:4])}, ...)")
        with torch.no_grad():
            if prefixes or not (own and a.twin_init_part in ("all", "net")):
                for p, n in zip(params, names):
                    if prefixes and n.startswith(prefixes):
                        continue
                    v = to_torch_layout(init_tensor(f"init.{n}"))
                    if tuple(v.shape) != tuple(p.shape):
                        raise ValueError(f"{a.dir}: parameter {n} has shape {tuple(v.shape)} here, {tuple(p.shape)} in the twin")
                    p.copy_(v)
            if has_key:
                for pk, pq in zip(method.key.parameters(), method.net.parameters()):
                    pk.copy_(pq)
                if prefixes or not (own and a.twin_init_part in ("all", "queue")):
                    method.queue = init_tensor("init.queue").to(dtype)
        oc = run["optimizer"]
        method.opt = torch.optim.SGD(method.net.parameters(), lr=oc["lr"], momentum=oc["momentum"],
                                     weight_decay=oc["weightDecay"], nesterov=bool(oc.get("nesterov", False)))
        perms = []
        if has_key:
            method.key_permutation = lambda n: torch.tensor(perms.pop(0), dtype=torch.long)
        rows, first = [], {}
        for rec in meta["steps"]:
            s = rec["step"]
            perms[:] = rec["perms"]
            if pil is None:
                views = [tensor(f"step{s}.x{v}").permute(0, 3, 1, 2).contiguous().to(dtype) for v in (1, 2) if f"step{s}.x{v}" in index]
            else:
                imgs = [pil[int(i)] for i in tensor(f"step{s}.indices")]
                views = [torch.stack([transform(im) for im in imgs]) for v in (1, 2) if f"step{s}.x{v}" in index]
            labels = tensor(f"step{s}.labels").long()
            for g in method.opt.param_groups:
                g["lr"] = rec["lr"]
            # The workbench's mixing draws (MixCo's lambdas, MoCHi's weights and indices) stand in
            # for the twin's torch.rand / torch.randint calls, in the order the twin makes them.
            draws = rec.get("draws", {"rand": 0, "randint": 0})
            fed = {"rand": [tensor(f"step{s}.rand{i}").to(dtype) for i in range(draws["rand"])],
                   "randint": [tensor(f"step{s}.randint{i}").long() for i in range(draws["randint"])]}

            def feed(kind, shape):
                if not fed[kind]:
                    raise RuntimeError(f"{a.dir}: step {s + 1}: the twin asked for more torch.{kind} draws than the workbench recorded")
                v = fed[kind].pop(0)
                if tuple(v.shape) != tuple(shape):
                    raise RuntimeError(f"{a.dir}: step {s + 1}: torch.{kind}{tuple(shape)} but the workbench drew {tuple(v.shape)}")
                return v

            torch.rand = lambda *shape, **kw: feed("rand", shape[0] if len(shape) == 1 and isinstance(shape[0], tuple) else shape)
            torch.randint = lambda low, high, size, **kw: feed("randint", size)
            try:
                loss, acc = method.step(views, labels)
            finally:
                torch.rand, torch.randint = real_rand, real_randint
            if s == 0:
                first = {f"first.{n}": p.detach().double().clone() for p, n in zip(method.net.parameters(), names)}
            left = [k for k, v in fed.items() if v]
            if left:
                raise RuntimeError(f"{a.dir}: step {s + 1}: the twin used fewer torch.{left[0]} draws than the workbench recorded")
            rows.append({"loss": loss, "proxyAcc": acc, **{k: v for k, v in getattr(method, "stats", {}).items()}})
        final = {**first, **{f"final.{n}": p.detach().double() for p, n in zip(method.net.parameters(), names)}}
        if has_key:
            final.update({f"final_k.{n}": p.detach().double() for p, n in zip(method.key.parameters(), names)})
            final["final.queue"] = method.queue.double()
        for n, b in method.net.named_buffers():
            if n.endswith(("running_mean", "running_var")):
                final[f"final_buffer.{workbench_name(n)}"] = b.detach().double()
        return rows, final, method

    def final_knn(method):
        """kNN % (the run's k, T and features) of the twin's replayed network and of the workbench's
        recorded final network, both scored by the twin's kNN on the export's train/test sets."""
        from models import load_workbench_state
        from train import knn_on_export

        twin = 100 * knn_on_export(method, a.knn, run["eval"])

        def read(name, is_buffer):
            key = f"final_buffer.{name}" if is_buffer else f"final.{name}"
            if key not in index:
                raise KeyError(f"{a.dir}/lockstep.json: no tensor {key!r} (a recording of the whole run holds the final network)")
            return tensor(key)

        load_workbench_state(method.net, read)
        return {"twin": twin, "workbench": 100 * knn_on_export(method, a.knn, run["eval"])}

    t32, f32, net32 = replay(torch.float32)
    if a.torchvision_views or a.twin_init is not None or a.init_from or a.float32_only:
        # The same steps from another start, on torchvision's views, or too many to follow step by step:
        # means over the steps and over each epoch, beside the workbench's.
        keys = ["loss", "proxyAcc", "posSim", "negSim"]

        def means(rows):
            return {k: sum(r.get(k, float("nan")) for r in rows) / len(rows) for k in keys}

        per_epoch = max(1, run["dataset"]["trainSubset"] // run["batchSize"]) if run["dataset"].get("trainSubset") else len(t32)
        epochs = [{"epoch": e // per_epoch + 1, "steps": len(t32[e:e + per_epoch]),
                   "workbench": means(meta["steps"][e:e + per_epoch]), "twin": means(t32[e:e + per_epoch])}
                  for e in range(0, len(t32), per_epoch)]
        wb, tv = means(meta["steps"]), means(t32)
        what = ("torchvision views" if a.torchvision_views else "workbench views") + (
            f", the twin's initialisation ({a.twin_init_params or a.twin_init_part}, seed {a.twin_init})" if a.twin_init is not None
            else f", the workbench's initialisation of {a.init_from}" if a.init_from else ", the workbench's initialisation")
        out = {"steps": len(t32), "workbench": wb, "twin": tv, "epochs": epochs, "twinInputs": what, "seed": a.seed}
        if a.knn:
            out["knn"] = final_knn(net32)
        if a.json:
            print(json.dumps(out))
        else:
            print(f"the twin on {what}")
            print(f"{'epoch':>5} " + " ".join(f"{k + ' wb':>11} {k + ' twin':>11}" for k in keys))
            for r in epochs:
                print(f"{r['epoch']:>5} " + " ".join(f"{r['workbench'][k]:>11.4f} {r['twin'][k]:>11.4f}" for k in keys))
            print(f"means over {len(t32)} steps, workbench / twin: " + ", ".join(f"{k} {wb[k]:.4f} / {tv[k]:.4f}" for k in keys))
            if a.knn:
                print(f"final kNN %, workbench / twin: {out['knn']['workbench']:.2f} / {out['knn']['twin']:.2f}")
        return 0
    t64, f64, _ = replay(torch.float64)

    def rel(x, ref):
        return float((x - ref).abs().max() / ref.abs().max().clamp_min(1e-30))

    # A step passes when the workbench's loss is within --tol of the float64 replay's, or no further
    # from it than ten times the float32 twin's own distance (float32 rounding compounds from step to
    # step, chaotically at a high learning rate, on either side).
    rows, worst, failed = [], 0.0, []
    for rec, r32, r64 in zip(meta["steps"], t32, t64):
        d = abs(r32["loss"] - rec["loss"]) / max(abs(rec["loss"]), 1e-12)
        worst = max(worst, d)
        wb64 = abs(rec["loss"] - r64["loss"]) / max(abs(r64["loss"]), 1e-12)
        t3264 = abs(r32["loss"] - r64["loss"]) / max(abs(r64["loss"]), 1e-12)
        if wb64 > max(a.tol, 10 * t3264):
            failed.append(rec["step"] + 1)
        rows.append({"step": rec["step"] + 1, "loss": {"workbench": rec["loss"], "torch32": r32["loss"], "torch64": r64["loss"]}, "relDiff": d,
                     "proxyAcc": {"workbench": rec.get("proxyAcc"), "torch32": r32["proxyAcc"]}})
    weights = {}
    for key in f64:
        ref = f64[key]
        if key not in index or (truncated and not key.startswith("first.")):
            continue
        wb = tensor(key).double() if key == "final.queue" else to_torch_layout(tensor(key)).double()
        weights[key] = {"workbench": rel(wb, ref), "torch32": rel(f32[key], ref)}
        if key.startswith("first."):
            # The first update itself (weights after step 1 minus the initial ones): its relative error
            # is the gradient's, where the weights' own is diluted by their size.
            w0 = to_torch_layout(init_tensor("init." + key[len("first."):])).double()
            weights[key]["update"] = {"workbench": rel(wb - w0, ref - w0), "torch32": rel(f32[key] - w0, ref - w0)}
    # Float32 rounding grows from step to step (chaotically at a high learning rate), so the float32
    # twin's own distance from float64 is the yardstick for the workbench's.
    def mean_rel(side):
        return sum(abs(r["loss"][side] - r["loss"]["torch64"]) / abs(r["loss"]["torch64"]) for r in rows) / len(rows)

    from_f64 = {"workbench": mean_rel("workbench"), "torch32": mean_rel("torch32")}
    out = {"steps": rows, "maxRelLossDiff": worst, "lossFromFloat64": from_f64, "failedSteps": failed, "weights": weights}
    if a.json:
        print(json.dumps(out))
    else:
        print(f"{'step':>4} {'loss wb':>10} {'loss t32':>10} {'loss t64':>10} {'wb-t32':>9} {'acc wb':>7} {'acc t32':>7}")
        for r in rows:
            lo, pa = r["loss"], r["proxyAcc"]
            print(f"{r['step']:>4} {lo['workbench']:>10.5f} {lo['torch32']:>10.5f} {lo['torch64']:>10.5f} {r['relDiff']:>9.2e} "
                  f"{pa['workbench']:>7.4f} {pa['torch32']:>7.4f}")
        print(f"mean relative loss difference from the float64 replay: workbench {from_f64['workbench']:.2e}, "
              f"float32 twin {from_f64['torch32']:.2e}")
        fk = [k for k in weights if k.startswith("first.")]
        if fk:
            print(f"weights after step 1, largest relative difference from the float64 replay (workbench / float32 twin): "
                  f"{max(weights[k]['workbench'] for k in fk):.2e} / {max(weights[k]['torch32'] for k in fk):.2e}")
        print(f"weights after step {len(rows)}, largest relative difference from the float64 replay (workbench / float32 twin):")
        for group, prefix in (("query", "final."), ("key", "final_k.")):
            ks = [k for k in weights if k.startswith(prefix) and k != "final.queue"]
            if not ks:
                continue
            wb = max(weights[k]["workbench"] for k in ks)
            tt = max(weights[k]["torch32"] for k in ks)
            print(f"  {group:>5}: {wb:.2e} / {tt:.2e}")
        bk = [k for k in weights if k.startswith("final_buffer.")]
        if bk:
            print(f"  BN running statistics: {max(weights[k]['workbench'] for k in bk):.2e} / {max(weights[k]['torch32'] for k in bk):.2e}")
        if "final.queue" in weights:
            q = weights["final.queue"]
            print(f"  queue: {q['workbench']:.2e} / {q['torch32']:.2e}")
        top = sorted((k for k in weights if k.startswith("final.") and k != "final.queue"), key=lambda k: -weights[k]["workbench"])[:6]
        print("  furthest (workbench / float32 twin): " + ", ".join(f"{k[6:]} {weights[k]['workbench']:.1e}/{weights[k]['torch32']:.1e}" for k in top))
        print("steps whose workbench loss departs from the float64 replay: " + (", ".join(map(str, failed)) or "none"))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
