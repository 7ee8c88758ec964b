"""The twin's kNN monitor on a workbench checkpoint: loads the query encoder of a finished MoCo-style
workbench run into the twin's network (models.py) and scores it with the twin's kNN
(train.py knn_accuracy) on a parity data export, so that the two evaluations can be compared on
the same weights.

  python3 bench/torch/eval_checkpoint.py --run RUN_DIR --data DIR

RUN_DIR holds config.json and checkpoint/ (state.json, tensors.bin); DIR is the export the twin
trained on (train.u8, test.u8, meta.json). Prints one JSON line with the twin's kNN accuracy and
the workbench's own, read from RUN_DIR/metrics.jsonl.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    import numpy as np
    import torch
    from models import from_workbench_layout, workbench_name
    from train import extract, knn_accuracy, load_split, make_methods, test_tensor

    torch.set_num_threads(a.threads)
    ck = os.path.join(a.run, "checkpoint")
    st = json.load(open(os.path.join(ck, "state.json")))
    blob = np.fromfile(os.path.join(ck, "tensors.bin"), dtype=np.uint8)
    tensors = {t["name"]: t for t in st["tensors"]}
    run = json.load(open(os.path.join(a.run, "config.json")))
    meta = json.load(open(os.path.join(a.data, "meta.json")))
    if run["encoder"]["arch"] != "convnet":
        raise ValueError(f"{a.run}/config.json: encoder.arch {run['encoder']['arch']!r}: the name map covers the ConvNet")
    method = make_methods()[run["method"]["name"]](run["method"], run, {"channels": meta["channels"], "numClasses": meta["numClasses"]})

    def load(name):
        t = tensors.get(f"encoder_q.{name}")
        if t is None:
            raise KeyError(f"{ck}/state.json: no tensor encoder_q.{name}")
        x = torch.from_numpy(np.frombuffer(blob, dtype=np.float32, count=t["byteLength"] // 4, offset=t["offset"]).reshape(t["shape"]).copy())
        return from_workbench_layout(x)

    with torch.no_grad():
        for n, v in list(method.net.named_parameters()) + list(method.net.named_buffers()):
            if not n.endswith("num_batches_tracked"):
                v.copy_(load(workbench_name(n)))
    xtr, ytr = load_split(a.data, "train", meta)
    xte, yte = load_split(a.data, "test", meta)
    ev = run["eval"]
    feats = ev.get("knnFeatures", "projection")
    bank = extract(method, test_tensor(xtr, meta["mean"], meta["std"]), feats, 256)
    q = extract(method, test_tensor(xte, meta["mean"], meta["std"]), feats, 256)
    twin = knn_accuracy(bank, ytr, q, yte, meta["numClasses"], ev["knnK"], ev["knnT"])
    own = None
    with open(os.path.join(a.run, "metrics.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r.get("type") == "eval" and r.get("final"):
                own = r.get("knnAcc")
    print(json.dumps({"run": os.path.basename(os.path.normpath(a.run)), "epoch": st["epoch"], "knnAccTwin": twin, "knnAccWorkbench": own}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
