"""Statistics of the training views torchvision makes from a parity data export (the twin's
augmentation), to hold beside bench/torch/augment-stats.ts (the workbench's):

  python3 bench/torch/augment_stats.py --data DIR [--n 2000] [--seed 0] [--dump FILE]

prints one JSON line: per-channel mean and std of the normalised views, the mean absolute
difference between the two views of an image, the share of grey views (all channels equal) and the mean per-image pixel std."""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", help="a pipeline (JSON list of steps) in place of the export's")
    ap.add_argument("--dump", help="also write the two views, float32 [2, N, H, W, C], to this file")
    a = ap.parse_args()
    import torch
    from train import build_transform, load_split, to_pil
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    meta = json.load(open(os.path.join(a.data, "meta.json")))
    x, _ = load_split(a.data, "train", meta)
    x = x[: a.n]
    if a.steps:
        meta["augmentation"]["steps"] = json.loads(a.steps)
    t = build_transform(meta["augmentation"]["steps"], meta["imageSize"], meta["mean"], meta["std"])
    pil = to_pil(x)
    v1 = torch.stack([t(im) for im in pil])
    v2 = torch.stack([t(im) for im in pil])
    if a.dump:
        torch.stack([v1, v2]).permute(0, 1, 3, 4, 2).contiguous().numpy().tofile(a.dump)
    print(json.dumps(stats(v1, v2, meta)))
    return 0


def stats(v1, v2, meta):
    """v1, v2 [N, C, H, W] normalised views."""
    import torch
    std = torch.tensor(meta["std"]).view(1, -1, 1, 1)
    mean = torch.tensor(meta["mean"]).view(1, -1, 1, 1)
    raw = v1 * std + mean  # back to [0, 1]
    grey = ((raw[:, 0] - raw[:, 1]).abs().amax((1, 2)) < 1e-3) & ((raw[:, 1] - raw[:, 2]).abs().amax((1, 2)) < 1e-3)
    return {
        "mean": [round(float(v), 4) for v in v1.mean((0, 2, 3))],
        "std": [round(float(v), 4) for v in v1.std((0, 2, 3))],
        "viewL1": round(float((v1 - v2).abs().mean()), 4),
        "greyShare": round(float(grey.float().mean()), 4),
        "pixelStdPerImage": round(float(raw.std((1, 2, 3)).mean()), 4),
    }


if __name__ == "__main__":
    sys.exit(main())
