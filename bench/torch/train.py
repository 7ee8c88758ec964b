"""The PyTorch twin of a whole workbench training run (src/experiments/runner.ts), for the parity
harness (src/experiments/parity.ts):

  python3 bench/torch/train.py --config run.json --data DIR --out result.json [--threads 2]

run.json is the workbench's RunConfig (src/experiments/config.ts). DIR holds the images the
workbench itself loaded for that config, exported by the harness so both sides train on the same
pixels: train.u8 / test.u8 (uint8 NHWC) and meta.json ({"train": {"n", "labels"}, "test": {...},
"imageSize", "channels", "numClasses", "mean", "std", "augmentation": {"steps": [...]}} with the
augmentation pipeline resolved from the preset).

What it reproduces, each as the reference code does it:
- the network of models.py (kaiming-normal fan_out convs, PyTorch-default Linear init), BN with
  the MoCo CIFAR demo's SplitBatchNorm when the method has bnSplits > 1;
- the augmentation pipeline with torchvision transforms on PIL images (RandomResizedCrop,
  RandomHorizontalFlip, RandomApply(ColorJitter), RandomGrayscale, MoCo v2's PIL GaussianBlur,
  ToTensor + Normalize), two independent views per image (TwoCropsTransform);
- torch.optim.SGD (weight decay on every parameter, PyTorch semantics), the workbench's schedules
  (cosine per epoch or per step, step, constant, linear warm-up), set before every step;
- a reshuffle every epoch and drop_last (DataLoader(shuffle=True, drop_last=True));
- the methods moco (v1 / v2 heads, symmetric), mochi, mixco (moco and simclr bases), simclr,
  supcon and ce, with the same loss definitions as src/methods (see methods below);
- the kNN monitor of the demo (k, T from eval; weighted vote over the top k of the cosine
  similarity, bank = train set with the test transform, encoder in eval mode), on the features
  the config names (backbone or projection);
- the final linear probe on frozen backbone features (eval.linear: the 'fast' protocol's cached,
  standardised features, or the given epochs / lr / momentum / wd / batch / schedule).

Writes result.json: {"epochs": [{"epoch", "loss", "imagesPerSec", "seconds", "lr", "proxyAcc",
"knnAcc"}], "knnAcc", "linearAcc", "imagesPerSec", "trainSeconds", "torch", "threads"}.
"""
import argparse
import copy
import json
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="RunConfig JSON file")
    ap.add_argument("--data", required=True, help="folder with train.u8, test.u8 and meta.json")
    ap.add_argument("--out", required=True, help="result JSON file")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--progress", action="store_true", help="one line per epoch on stderr")
    return ap.parse_args(argv)


# ------------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------------

def load_split(data_dir: str, split: str, meta: dict):
    import torch
    h, w = meta["imageSize"]
    c = meta["channels"]
    info = meta[split]
    n = info["n"]
    path = os.path.join(data_dir, f"{split}.u8")
    raw = open(path, "rb").read()
    if len(raw) != n * h * w * c:
        raise ValueError(f"{path}: {len(raw)} bytes, expected n={n} x {h}x{w}x{c} = {n * h * w * c}")
    images = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(n, h, w, c)
    labels = torch.tensor(info["labels"], dtype=torch.long)
    if labels.shape[0] != n:
        raise ValueError(f"{data_dir}/meta.json: {split}.labels has {labels.shape[0]} entries, expected {n}")
    return images, labels


class GaussianBlurPIL:
    """MoCo v2's GaussianBlur (moco/loader.py): PIL ImageFilter.GaussianBlur(radius=sigma),
    sigma ~ U(sigma[0], sigma[1])."""

    def __init__(self, sigma):
        self.sigma = sigma

    def __call__(self, img):
        from PIL import ImageFilter
        return img.filter(ImageFilter.GaussianBlur(radius=random.uniform(self.sigma[0], self.sigma[1])))


def build_transform(steps, size_hw, mean, std):
    """torchvision Compose of the workbench pipeline steps (src/data/augment/presets.ts)."""
    import torchvision.transforms as T
    out = []
    for s in steps:
        op = s["op"]
        if op == "randomResizedCrop":
            size = s.get("size") or tuple(size_hw)
            ratio = tuple(s.get("ratio") or (3 / 4, 4 / 3))
            out.append(T.RandomResizedCrop(size, scale=tuple(s["scale"]), ratio=ratio))
        elif op == "resize":
            out.append(T.Resize((s["size"], s["size"])))
        elif op == "flip":
            out.append(T.RandomHorizontalFlip(s["p"]))
        elif op == "colorJitter":
            out.append(T.RandomApply([T.ColorJitter(s["brightness"], s["contrast"], s["saturation"], s["hue"])], p=s["p"]))
        elif op == "grayscale":
            out.append(T.RandomGrayscale(s["p"]))
        elif op == "gaussianBlur":
            out.append(T.RandomApply([GaussianBlurPIL(s["sigma"])], p=s["p"]))
        elif op == "normalize":
            out.append(T.ToTensor())
            out.append(T.Normalize(mean, std))
        else:
            raise ValueError(f"meta.json augmentation: unknown step {json.dumps(s)}")
    if not any(s["op"] == "normalize" for s in steps):
        out.append(T.ToTensor())
    return T.Compose(out)


def to_pil(images):
    """uint8 [N, H, W, C] -> list of PIL images (RGB or L)."""
    from PIL import Image
    n, h, w, c = images.shape
    mode = "RGB" if c == 3 else "L"
    arr = images.contiguous().numpy()
    return [Image.fromarray(arr[i] if c == 3 else arr[i, :, :, 0], mode) for i in range(n)]


def test_tensor(images, mean, std):
    """ToTensor + Normalize of a whole uint8 set: [N, C, H, W] float."""
    import torch
    x = images.permute(0, 3, 1, 2).float().div(255)
    m = torch.tensor(mean).view(1, -1, 1, 1)
    s = torch.tensor(std).view(1, -1, 1, 1)
    return (x - m) / s


# ------------------------------------------------------------------------------------------------
# Schedule
# ------------------------------------------------------------------------------------------------

def lr_at(schedule: dict, base_lr: float, epoch: int, step: int, steps: int, epochs: int) -> float:
    """src/optim/schedule.ts learningRateAt."""
    def scheduled(t):
        name = schedule["name"]
        if name == "constant":
            return base_lr
        if name == "step":
            passed = sum(1 for m in schedule.get("milestones", []) if t >= m)
            return base_lr * schedule.get("gamma", 0.1) ** passed
        if name == "cosine":
            min_lr = base_lr * schedule.get("minLrFraction", 0)
            return min_lr + (base_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * t / epochs))
        raise ValueError(f"schedule.name: unknown schedule {name!r}")

    warm = schedule.get("warmupEpochs", 0)
    if warm > 0 and epoch < warm:
        start = schedule.get("warmupFrom", 0) * base_lr
        to = scheduled(warm)
        p = (epoch * steps + step) / (warm * steps)
        return start + p * (to - start)
    if schedule["name"] == "step":
        return scheduled(epoch)
    return scheduled(epoch + step / steps if schedule.get("perStep") else epoch)


# ------------------------------------------------------------------------------------------------
# Methods (the loss definitions of src/methods and src/methods/losses)
# ------------------------------------------------------------------------------------------------

def make_methods():
    import torch
    import torch.nn.functional as F
    from methods import supcon_loss
    from models import Encoder

    def l2n(x, dim=1):
        return F.normalize(x, dim=dim)

    def nt_xent(z1, z2, T):
        """SimCLR NT-Xent over the 2N views, mean over anchors (losses/nt-xent.ts)."""
        z = torch.cat([z1, z2])
        n = z1.shape[0]
        logits = z @ z.T / T
        logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), -1e9)
        pos = (torch.arange(2 * n) + n) % (2 * n)
        return F.cross_entropy(logits, pos), (logits.argmax(1) == pos).float().mean()

    def mixco_loss(q_mix, keys, negatives, lam, mix_t):
        """Soft CE of [q_mix.keys^T, q_mix.negatives^T] / mixT against [diag(lam), diag(1-lam), 0]."""
        h = q_mix.shape[0]
        parts = [q_mix @ keys.T]
        if negatives is not None:
            parts.append(q_mix @ negatives.T)
        logits = torch.cat(parts, 1) / mix_t
        target = torch.zeros_like(logits)
        ar = torch.arange(h)
        target[ar, ar] = lam
        target[ar, ar + h] = 1 - lam
        return -(target * F.log_softmax(logits, 1)).sum(1).mean()

    def mix_halves(x, lam):
        h = x.shape[0] // 2
        l = lam.view(h, *([1] * (x.dim() - 1)))
        return l * x[:h] + (1 - l) * x[h:]

    class Base:
        def __init__(self, cfg, run, data):
            self.cfg = cfg
            self.epoch = 0
            enc = run["encoder"]
            self.arch, self.width = enc["arch"], enc.get("width", 1.0)
            self.in_ch = data["channels"]

        def make_encoder(self, head, dim, bn_splits=1):
            return Encoder(self.arch, head, dim, self.in_ch, self.width, bn_splits)

        def features(self, x, which):
            self.net.eval()
            with torch.no_grad():
                h = self.net.backbone(x)
                return h if which == "backbone" else l2n(self.net.fc(h))

    class MoCo(Base):
        """moco.ts: momentum update, shuffled key forward (single-device shuffle BN), logits
        [q.k, q.queue]/T, CE to 0, enqueue after the step; symmetric sums both directions and
        enqueues [k1; k2]."""

        def __init__(self, cfg, run, data):
            super().__init__(cfg, run, data)
            self.S = cfg.get("bnSplits", 1)
            self.net = self.make_encoder("mlp" if cfg["mlp"] else "linear", cfg["dim"], self.S)
            self.key = copy.deepcopy(self.net)
            for p in self.key.parameters():
                p.requires_grad = False
            self.queue = l2n(torch.randn(cfg["K"], cfg["dim"]))  # [K, D]
            self.queue_labels = torch.full((cfg["K"],), -1, dtype=torch.long)
            self.ptr = 0

        @torch.no_grad()
        def momentum_update(self):
            m = self.cfg["m"]
            for pq, pk in zip(self.net.parameters(), self.key.parameters()):
                pk.mul_(m).add_(pq.detach(), alpha=1 - m)

        @torch.no_grad()
        def key_permutation(self, n):
            """The key shuffle's permutation (bench/torch/lockstep.py replays the workbench's)."""
            return torch.randperm(n)

        def key_forward(self, x):
            self.key.train()
            perm = self.key_permutation(x.shape[0])
            k = l2n(self.key(x[perm]))
            return k[torch.argsort(perm)]

        @torch.no_grad()
        def enqueue(self, k, labels):
            K = self.queue.shape[0]
            b = k.shape[0]
            if b > K:
                k, labels = k[-K:], labels[-K:]
                self.ptr = (self.ptr + b - K) % K
                b = K
            idx = (torch.arange(b) + self.ptr) % K
            self.queue[idx] = k
            self.queue_labels[idx] = labels
            self.ptr = (self.ptr + b) % K

        def mask(self, l_neg, labels):
            return l_neg

        @torch.no_grad()
        def record_stats(self, l_pos, l_neg):
            """The step's mean query-key and query-negative similarities (parity.json's posSim, negSim, maxNegSim)."""
            self.stats = {"posSim": float(l_pos.mean()), "negSim": float(l_neg.mean()), "maxNegSim": float(l_neg.max(1).values.mean())}

        def contrast(self, q, k, labels):
            l_pos = (q * k).sum(1, keepdim=True)
            l_neg = self.mask(q @ self.queue.T, labels)
            self.record_stats(l_pos, l_neg)
            logits = torch.cat([l_pos, l_neg], 1) / self.cfg["T"]
            loss = F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long))
            return loss, (logits.argmax(1) == 0).float().mean()

        def step(self, views, labels):
            x1, x2 = views
            self.momentum_update()
            k2 = self.key_forward(x2)
            k1 = self.key_forward(x1) if self.cfg.get("symmetric") else None
            self.net.train()
            loss, acc = self.contrast(l2n(self.net(x1)), k2, labels)
            if k1 is not None:
                loss2, acc2 = self.contrast(l2n(self.net(x2)), k1, labels)
                loss, acc = loss + loss2, (acc + acc2) / 2
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            if k1 is not None:
                self.enqueue(torch.cat([k1, k2]), torch.cat([labels, labels]))
            else:
                self.enqueue(k2, labels)
            return float(loss), float(acc)

    class MoCHi(MoCo):
        """mochi.ts / losses/mochi.ts: after warmupEpochs, s mixes of two of the N hardest (masked)
        queue negatives and s' mixes of the detached query with one, indices uniform with
        replacement, l2-normalised, detached; class oracle masks same-class queue entries."""

        def mask(self, l_neg, labels):
            if not self.cfg.get("classOracle"):
                return l_neg
            same = labels.view(-1, 1) == self.queue_labels.view(1, -1)
            return l_neg.masked_fill(same, -1e9)

        def contrast(self, q, k, labels):
            c = self.cfg
            if not (self.epoch >= c["warmupEpochs"] and c["s"] + c["sPrime"] > 0):
                return super().contrast(q, k, labels)
            B = q.shape[0]
            N, s, sp = c["N"], c["s"], c["sPrime"]
            l_pos = (q * k).sum(1, keepdim=True)
            l_neg = self.mask(q @ self.queue.T, labels)
            self.record_stats(l_pos, l_neg)
            with torch.no_grad():
                idx = l_neg.detach().topk(N, dim=1).indices  # [B, N]
                hard = self.queue[idx]  # [B, N, D]
                parts = []

                def pick(pos):
                    return torch.gather(hard, 1, pos[..., None].expand(-1, -1, hard.shape[2]))

                if s > 0:
                    a = torch.rand(B, s, 1)
                    parts.append(l2n(a * pick(torch.randint(0, N, (B, s))) + (1 - a) * pick(torch.randint(0, N, (B, s))), 2))
                if sp > 0:
                    beta = 0.5 * torch.rand(B, sp, 1)
                    parts.append(l2n(beta * q.detach()[:, None] + (1 - beta) * pick(torch.randint(0, N, (B, sp))), 2))
                syn = torch.cat(parts, 1)
            l_syn = torch.einsum("bd,bsd->bs", q, syn)
            logits = torch.cat([l_pos, l_neg, l_syn], 1) / c["T"]
            loss = F.cross_entropy(logits, torch.zeros(B, dtype=torch.long))
            queue_logits = torch.cat([l_pos, l_neg], 1)
            return loss, (queue_logits.argmax(1) == 0).float().mean()

    class MixCo(MoCo):
        """mixco.ts: L = L_contrast + beta L_mixco, lambda ~ U(0, 1) per pair of halves.
        MoCo base: one query forward of [x_q; x_mix] (split BN); SimCLR base: NT-Xent on [x1; x2]
        and a separate forward of both directions' mixes, L_mixco the mean of the two."""

        def __init__(self, cfg, run, data):
            if cfg["base"] == "moco":
                super().__init__({**cfg, "symmetric": False}, run, data)
            else:
                Base.__init__(self, cfg, run, data)
                self.net = self.make_encoder("mlp" if cfg["mlp"] else "linear", cfg["dim"])

        def step(self, views, labels):
            c = self.cfg
            x1, x2 = views
            B = x1.shape[0]
            h = B // 2
            if c["base"] == "moco":
                lam = torch.rand(h)
                x_mix = mix_halves(x1, lam)
                self.momentum_update()
                k = self.key_forward(x2)
                self.net.train()
                q_all = l2n(self.net(torch.cat([x1, x_mix])))
                q, q_mix = q_all[:B], q_all[B:]
                l_c, acc = MoCo.contrast(self, q, k, labels)
                loss = l_c + c["beta"] * mixco_loss(q_mix, k, self.queue, lam, c["mixT"])
            else:
                lam1, lam2 = torch.rand(h), torch.rand(h)
                self.net.train()
                z = l2n(self.net(torch.cat([x1, x2])))
                z1, z2 = z[:B], z[B:]
                zm = l2n(self.net(torch.cat([mix_halves(x1, lam1), mix_halves(x2, lam2)])))
                l_c, acc = nt_xent(z1, z2, c["T"])
                l_m = (mixco_loss(zm[:h], z2, None, lam1, c["mixT"]) + mixco_loss(zm[h:], z1, None, lam2, c["mixT"])) / 2
                loss = l_c + c["beta"] * l_m
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            if c["base"] == "moco":
                self.enqueue(k, labels)
            return float(loss), float(acc)

    class SimCLR(Base):
        def __init__(self, cfg, run, data):
            super().__init__(cfg, run, data)
            self.net = self.make_encoder("mlp" if cfg["mlp"] else "linear", cfg["dim"])

        def step(self, views, labels):
            B = labels.shape[0]
            self.net.train()
            z = l2n(self.net(torch.cat(views[:2])))
            loss, acc = nt_xent(z[:B], z[B:], self.cfg["T"])
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            return float(loss), float(acc)

    class SupCon(Base):
        """SupContrast losses.py SupConLoss (contrast_mode 'all') on one forward of [x1; x2]."""

        def __init__(self, cfg, run, data):
            super().__init__(cfg, run, data)
            self.net = self.make_encoder("mlp" if cfg["mlp"] else "linear", cfg["dim"])

        def step(self, views, labels):
            b = labels.shape[0]
            self.net.train()
            z = l2n(self.net(torch.cat(views[:2])))  # [2B, D], view-major
            lab = labels.repeat(2)
            loss = supcon_loss(z, lab, self.cfg["T"], self.cfg["baseT"])
            self_mask = ~torch.eye(2 * b, dtype=torch.bool)
            with torch.no_grad():
                sim = (z @ z.T).masked_fill(~self_mask, -1e9)
                acc = (lab[sim.argmax(1)] == lab).float().mean()
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            return float(loss), float(acc)

    class CE(Base):
        """ce.ts: Linear classifier on the backbone, CE (optional label smoothing) on views[0]."""

        def __init__(self, cfg, run, data):
            super().__init__(cfg, run, data)
            self.net = self.make_encoder("linear", data["numClasses"])

        def step(self, views, labels):
            self.net.train()
            logits = self.net(views[0])
            loss = F.cross_entropy(logits, labels, label_smoothing=self.cfg.get("labelSmoothing", 0) or 0.0)
            acc = (logits.argmax(1) == labels).float().mean()
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            return float(loss), float(acc)

        def features(self, x, which):
            self.net.eval()
            with torch.no_grad():
                h = self.net.backbone(x)
                return h if which == "backbone" else l2n(h)

    return {"moco": MoCo, "mochi": MoCHi, "mixco": MixCo, "simclr": SimCLR, "supcon": SupCon, "ce": CE}


VIEWS = {"moco": 2, "mochi": 2, "mixco": 2, "simclr": 2, "supcon": 2, "ce": 1}


# ------------------------------------------------------------------------------------------------
# Evaluation
# ------------------------------------------------------------------------------------------------

def extract(method, x, which, batch):
    import torch
    return torch.cat([method.features(x[i:i + batch], which) for i in range(0, x.shape[0], batch)])


def knn_accuracy(bank, bank_labels, feats, labels, num_classes, k, T, batch=256):
    """The demo's knn_predict (weighted vote of the top-k cosine neighbours, w = exp(sim / T))."""
    import torch
    import torch.nn.functional as F
    bank = F.normalize(bank, dim=1)
    feats = F.normalize(feats, dim=1)
    k = min(k, bank.shape[0])
    correct = 0
    for i in range(0, feats.shape[0], batch):
        sim = feats[i:i + batch] @ bank.T
        w, idx = sim.topk(k, dim=1)
        nl = bank_labels[idx]
        onehot = torch.zeros(nl.shape[0] * k, num_classes).scatter_(1, nl.view(-1, 1), 1.0)
        scores = (onehot.view(nl.shape[0], k, num_classes) * torch.exp(w / T).unsqueeze(-1)).sum(1)
        correct += int((scores.argmax(1) == labels[i:i + batch]).sum())
    return correct / feats.shape[0]


def knn_on_export(method, data_dir, ev, batch=256):
    """kNN accuracy (a fraction) of method's network on a parity data export (train.u8 as the bank,
    test.u8 as the queries, both with the test transform), with the run's eval settings ev (knnK,
    knnT and knnFeatures: backbone or projection)."""
    meta = json.load(open(os.path.join(data_dir, "meta.json")))
    xtr, ytr = load_split(data_dir, "train", meta)
    xte, yte = load_split(data_dir, "test", meta)
    which = ev.get("knnFeatures", "projection")
    bank = extract(method, test_tensor(xtr, meta["mean"], meta["std"]), which, batch)
    q = extract(method, test_tensor(xte, meta["mean"], meta["std"]), which, batch)
    return knn_accuracy(bank, ytr, q, yte, meta["numClasses"], ev["knnK"], ev["knnT"])


PROBE_PROTOCOLS = {
    "moco": dict(epochs=100, lr=30, momentum=0.9, weightDecay=0, batchSize=256, milestones=[60, 80], gamma=0.1, cosine=False, standardize=False, cache=False, seed=0),
    "supcon": dict(epochs=100, lr=0.1, momentum=0.9, weightDecay=0, batchSize=256, milestones=[60, 75, 90], gamma=0.2, cosine=False, standardize=False, cache=False, seed=0),
    "fast": dict(epochs=30, lr=0.1, momentum=0.9, weightDecay=5e-4, batchSize=256, milestones=[], gamma=0.1, cosine=True, standardize=True, cache=True, seed=0),
}


def linear_probe(xtr, ytr, xte, yte, num_classes, cfg):
    """src/eval/linear-probe.ts on cached features: W ~ N(0, 0.01), b = 0, SGD with momentum and
    PyTorch weight decay, per-epoch lr (cosine or milestones), optional standardisation."""
    import torch
    import torch.nn.functional as F
    if cfg["standardize"]:
        mean = xtr.mean(0)
        std = torch.sqrt(xtr.var(0, unbiased=False) + 1e-6)
        xtr, xte = (xtr - mean) / std, (xte - mean) / std
    g = torch.Generator().manual_seed(int(cfg["seed"]))
    head = torch.nn.Linear(xtr.shape[1], num_classes)
    with torch.no_grad():
        head.weight.normal_(0, 0.01, generator=g)
        head.bias.zero_()
    opt = torch.optim.SGD(head.parameters(), lr=cfg["lr"], momentum=cfg["momentum"], weight_decay=cfg["weightDecay"])
    n = xtr.shape[0]
    for epoch in range(cfg["epochs"]):
        if cfg["cosine"]:
            lr = cfg["lr"] * 0.5 * (1 + math.cos(math.pi * epoch / cfg["epochs"]))
        else:
            lr = cfg["lr"] * cfg["gamma"] ** sum(1 for m in cfg["milestones"] if epoch >= m)
        for group in opt.param_groups:
            group["lr"] = lr
        perm = torch.randperm(n, generator=g)
        for s in range(0, n, cfg["batchSize"]):
            idx = perm[s:s + cfg["batchSize"]]
            loss = F.cross_entropy(head(xtr[idx]), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    with torch.no_grad():
        return float((head(xte).argmax(1) == yte).float().mean())


# ------------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    a = parse_args(argv)
    import torch
    torch.set_num_threads(a.threads)
    run = json.load(open(a.config))
    meta = json.load(open(os.path.join(a.data, "meta.json")))
    seed = int(run["seed"])
    torch.manual_seed(seed)
    random.seed(seed)

    mcfg = run["method"]
    name = mcfg["name"]
    methods = make_methods()
    if name not in methods:
        raise ValueError(f"{a.config}: method.name {name!r} is not one of {', '.join(methods)}")
    data = {"channels": meta["channels"], "numClasses": meta["numClasses"]}
    method = methods[name](mcfg, run, data)
    oc = run["optimizer"]
    if oc["name"] != "sgd":
        raise ValueError(f"{a.config}: optimizer.name {oc['name']!r}: the PyTorch twin has sgd only")
    method.opt = torch.optim.SGD(method.net.parameters(), lr=oc["lr"], momentum=oc["momentum"],
                                 weight_decay=oc["weightDecay"], nesterov=bool(oc.get("nesterov", False)))

    xtr_u8, ytr = load_split(a.data, "train", meta)
    xte_u8, yte = load_split(a.data, "test", meta)
    mean, std = meta["mean"], meta["std"]
    transform = build_transform(meta["augmentation"]["steps"], meta["imageSize"], mean, std)
    pil_train = to_pil(xtr_u8)
    xtr_eval = test_tensor(xtr_u8, mean, std)
    xte_eval = test_tensor(xte_u8, mean, std)

    B = run["batchSize"]
    n = xtr_u8.shape[0]
    steps = n // B  # drop_last
    if steps == 0:
        raise ValueError(f"{a.config}: batchSize {B} is larger than the {n} training images")
    views = VIEWS[name]
    ev = run["eval"]
    knn_every = ev["knnEvery"]
    knn_feats = ev.get("knnFeatures", "projection")
    eval_batch = ev.get("batchSize", 256)
    num_classes = meta["numClasses"]

    def knn():
        bank = extract(method, xtr_eval, knn_feats, eval_batch)
        q = extract(method, xte_eval, knn_feats, eval_batch)
        return knn_accuracy(bank, ytr, q, yte, num_classes, ev["knnK"], ev["knnT"])

    records = []
    train_seconds = 0.0
    images = 0
    for epoch in range(run["epochs"]):
        method.epoch = epoch
        t0 = time.time()
        order = torch.randperm(n)
        loss_sum = acc_sum = 0.0
        stat_sums = {}
        lr = oc["lr"]
        for step in range(steps):
            idx = order[step * B:(step + 1) * B]
            imgs = [pil_train[int(i)] for i in idx]
            vs = [torch.stack([transform(im) for im in imgs]) for _ in range(views)]
            lr = lr_at(run["schedule"], oc["lr"], epoch, step, steps, run["epochs"])
            for group in method.opt.param_groups:
                group["lr"] = lr
            loss, acc = method.step(vs, ytr[idx])
            if not math.isfinite(loss):
                raise RuntimeError(f"loss is {loss} at epoch {epoch + 1} step {step + 1} (diverged)")
            loss_sum += loss
            acc_sum += acc
            for k_, v_ in getattr(method, "stats", {}).items():
                stat_sums[k_] = stat_sums.get(k_, 0.0) + v_
        seconds = time.time() - t0
        train_seconds += seconds
        images += steps * B
        rec = {"epoch": epoch + 1, "loss": loss_sum / steps, "proxyAcc": acc_sum / steps, "lr": lr,
               "seconds": seconds, "imagesPerSec": steps * B / seconds, **{k_: v_ / steps for k_, v_ in stat_sums.items()}}
        last = epoch + 1 == run["epochs"]
        if last or (knn_every > 0 and (epoch + 1) % knn_every == 0):
            rec["knnAcc"] = knn()
        records.append(rec)
        if a.progress:
            print(f"[torch] epoch {epoch + 1}/{run['epochs']} loss {rec['loss']:.4f} {rec['imagesPerSec']:.0f} img/s"
                  + (f" knnAcc {rec['knnAcc']:.4f}" if "knnAcc" in rec else ""), file=sys.stderr, flush=True)

    out = {"epochs": records, "knnAcc": records[-1].get("knnAcc"), "linearAcc": None,
           "imagesPerSec": images / train_seconds if train_seconds > 0 else None, "trainSeconds": train_seconds,
           "torch": torch.__version__, "threads": a.threads}
    lin = ev.get("linear")
    if lin:
        cfg = {**PROBE_PROTOCOLS[lin["protocol"]], "seed": seed, **{k: v for k, v in lin.items() if k != "protocol"}}
        if not cfg["cache"]:
            raise ValueError(f"{a.config}: eval.linear.cache false (augmented re-extraction) is not in the PyTorch twin; use cache true")
        ftr = extract(method, xtr_eval, "backbone", eval_batch)
        fte = extract(method, xte_eval, "backbone", eval_batch)
        out["linearAcc"] = linear_probe(ftr, ytr, fte, yte, num_classes, cfg)
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
