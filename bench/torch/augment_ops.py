"""One augmentation op at a time, with the same parameters on both sides: torchvision's functional
op on PIL images (what the twin trains on) for the first N images of a parity data export, with
parameters drawn here. Writes params.json and torch.f32 ([op][N, H, W, C] in [0, 1]) to --out;
bench/torch/augment-ops.ts applies the workbench's op with the same parameters and compares.

  python3 bench/torch/augment_ops.py --data EXPORT_DIR --out DIR [--n 512] [--seed 0]
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

OPS = ["crop", "brightness", "contrast", "saturation", "hue", "grayscale"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    import numpy as np
    import torch
    import torchvision.transforms as T
    import torchvision.transforms.functional as F
    from train import load_split, to_pil

    meta = json.load(open(os.path.join(a.data, "meta.json")))
    images, _ = load_split(a.data, "train", meta)
    pil = to_pil(images[: a.n])
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    h, w = meta["imageSize"]
    crops = [list(T.RandomResizedCrop.get_params(im, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3))) for im in pil]
    params = {
        "crop": crops,
        "brightness": rng.uniform(0.6, 1.4, a.n).tolist(),
        "contrast": rng.uniform(0.6, 1.4, a.n).tolist(),
        "saturation": rng.uniform(0.6, 1.4, a.n).tolist(),
        "hue": rng.uniform(-0.1, 0.1, a.n).tolist(),
    }
    fns = {
        "crop": lambda im, i: F.resized_crop(im, *crops[i], [h, w], T.InterpolationMode.BILINEAR),
        "brightness": lambda im, i: F.adjust_brightness(im, params["brightness"][i]),
        "contrast": lambda im, i: F.adjust_contrast(im, params["contrast"][i]),
        "saturation": lambda im, i: F.adjust_saturation(im, params["saturation"][i]),
        "hue": lambda im, i: F.adjust_hue(im, params["hue"][i]),
        "grayscale": lambda im, i: F.rgb_to_grayscale(im, 3),
    }
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "torch.f32"), "wb") as f:
        for op in OPS:
            out = np.stack([np.asarray(fns[op](im, i), dtype=np.float32) / 255 for i, im in enumerate(pil)])
            f.write(out.astype(np.float32).tobytes())
    json.dump({"n": a.n, "ops": OPS, "shape": [h, w, meta["channels"]], "params": params}, open(os.path.join(a.out, "params.json"), "w"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
