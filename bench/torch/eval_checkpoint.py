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
    from models import load_workbench_state
    from train import knn_on_export, make_methods

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

    def read(name, _buffer):
        t = tensors.get(f"encoder_q.{name}")
        if t is None:
            raise KeyError(f"{ck}/state.json: no tensor encoder_q.{name}")
        return torch.from_numpy(np.frombuffer(blob, dtype=np.float32, count=t["byteLength"] // 4, offset=t["offset"]).reshape(t["shape"]).copy())

    load_workbench_state(method.net, read)
    twin = knn_on_export(method, a.data, run["eval"])
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
