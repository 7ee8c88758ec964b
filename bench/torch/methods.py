"""One training step of each method in PyTorch, as the TF.js methods do it (the formulas are
in the doc comments of src/methods/): MoCo v2, MoCHi (N, s, s'), MixCo (beta, mixT), SupCon (T).
Each `make_step` returns a closure step(batch) -> loss that runs one SGD step."""
import copy

import torch
import torch.nn.functional as F

from models import Encoder


def sgd(params, lr: float):
    return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=5e-4)


class MoCo:
    """MoCo v2: q = l2n(f_q(x1)), k = l2n(f_k(x2)) (no grad, momentum m), logits [q.k, q.queue]/T,
    CE to label 0, enqueue k. Hooks for MoCHi (extra negatives) and MixCo (extra loss)."""

    def __init__(self, arch: str, cfg: dict):
        self.cfg = cfg
        self.enc_q = Encoder(arch, "mlp" if cfg.get("mlp", True) else "linear", cfg["dim"])
        self.enc_k = copy.deepcopy(self.enc_q)
        for p in self.enc_k.parameters():
            p.requires_grad = False
        self.queue = F.normalize(torch.randn(cfg["K"], cfg["dim"]), dim=1)  # [K, C]
        self.ptr = 0
        self.opt = sgd(self.enc_q.parameters(), cfg.get("lr", 0.03))

    @torch.no_grad()
    def keys(self, x: torch.Tensor) -> torch.Tensor:
        m = self.cfg["m"]
        for pq, pk in zip(self.enc_q.parameters(), self.enc_k.parameters()):
            pk.mul_(m).add_(pq.detach(), alpha=1 - m)
        perm = torch.randperm(x.shape[0])  # single-device shuffle BN
        k = F.normalize(self.enc_k(x[perm]), dim=1)
        return k[torch.argsort(perm)]  # [B, C]

    @torch.no_grad()
    def enqueue(self, k: torch.Tensor) -> None:
        b = k.shape[0]
        idx = (torch.arange(b) + self.ptr) % self.queue.shape[0]
        self.queue[idx] = k
        self.ptr = (self.ptr + b) % self.queue.shape[0]

    def extra_negatives(self, q: torch.Tensor, l_neg: torch.Tensor):
        return None

    def query_forward(self, x1: torch.Tensor):
        return F.normalize(self.enc_q(x1), dim=1), None

    def extra_loss(self, aux, k: torch.Tensor) -> torch.Tensor:
        return 0.0

    def step(self, views, labels) -> float:
        x1, x2 = views
        self.enc_q.train()
        self.enc_k.train()
        k = self.keys(x2)
        q, aux = self.query_forward(x1)  # [B, C]
        l_pos = (q * k).sum(1, keepdim=True)  # [B, 1]
        l_neg = q @ self.queue.T  # [B, K]
        parts = [l_pos, l_neg]
        hard = self.extra_negatives(q, l_neg)
        if hard is not None:
            parts.append(torch.einsum("bc,bsc->bs", q, hard))  # [B, s + s']
        logits = torch.cat(parts, 1) / self.cfg["T"]
        loss = F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long)) + self.extra_loss(aux, k)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.enqueue(k)
        return float(loss)


class MoCHi(MoCo):
    """MoCo v2 plus, per query, s mixes of two of its N hardest queue negatives and s' mixes of
    the (detached) query with one of them, all l2-normalised and detached."""

    @torch.no_grad()
    def extra_negatives(self, q: torch.Tensor, l_neg: torch.Tensor):
        N, s, sp = self.cfg["N"], self.cfg["s"], self.cfg["sPrime"]
        b = q.shape[0]
        idx = l_neg.topk(N, dim=1).indices  # [B, N]
        hard = self.queue[idx]  # [B, N, C]
        out = []
        if s > 0:
            i = torch.randint(0, N, (b, s))
            j = torch.randint(0, N, (b, s))
            a = torch.rand(b, s, 1)
            ni = torch.gather(hard, 1, i[..., None].expand(-1, -1, hard.shape[2]))
            nj = torch.gather(hard, 1, j[..., None].expand(-1, -1, hard.shape[2]))
            out.append(F.normalize(a * ni + (1 - a) * nj, dim=2))
        if sp > 0:
            j = torch.randint(0, N, (b, sp))
            beta = 0.5 * torch.rand(b, sp, 1)
            nj = torch.gather(hard, 1, j[..., None].expand(-1, -1, hard.shape[2]))
            out.append(F.normalize(beta * q.detach()[:, None] + (1 - beta) * nj, dim=2))
        return torch.cat(out, 1) if out else None


class MixCo(MoCo):
    """MoCo v2 plus mix-up semi-positives: x_mix = lam x1[:h] + (1-lam) x1[h:], one forward of
    cat(x1, x_mix), soft CE of [q_mix.k^T, q_mix.queue]/mixT against (lam, 1-lam) on the keys."""

    def query_forward(self, x1: torch.Tensor):
        b = x1.shape[0]
        h = b // 2
        lam = torch.rand(h, 1, 1, 1)
        x_mix = lam * x1[:h] + (1 - lam) * x1[h:]
        q_all = F.normalize(self.enc_q(torch.cat([x1, x_mix])), dim=1)
        return q_all[:b], (q_all[b:], lam.view(h))

    def extra_loss(self, aux, k: torch.Tensor) -> torch.Tensor:
        q_mix, lam = aux
        h = q_mix.shape[0]
        logits = torch.cat([q_mix @ k.T, q_mix @ self.queue.T], 1) / self.cfg["mixT"]  # [h, B + K]
        target = torch.zeros_like(logits)
        ar = torch.arange(h)
        target[ar, ar] = lam
        target[ar, ar + h] = 1 - lam
        soft_ce = -(target * F.log_softmax(logits, 1)).sum(1).mean()
        return self.cfg["beta"] * soft_ce


def supcon_loss(z: torch.Tensor, lab: torch.Tensor, T: float, base_T: float) -> torch.Tensor:
    """SupCon L_out over all views z [V, D] (L2-normalised) with labels lab [V]: every view is an
    anchor, its positives the other views of its class (itself excluded); rows shifted by their max
    for stability; scaled by T / base_T."""
    n = z.shape[0]
    logits = z @ z.T / T
    logits = logits - logits.max(1, keepdim=True).values.detach()
    self_mask = ~torch.eye(n, dtype=torch.bool, device=z.device)
    pos = (lab[:, None] == lab[None, :]) & self_mask
    log_prob = logits - torch.log((torch.exp(logits) * self_mask).sum(1, keepdim=True))
    mean_log_pos = (pos * log_prob).sum(1) / pos.sum(1).clamp(min=1)
    return -(T / base_T) * mean_log_pos.mean()


class SupCon:
    """SupCon L_out (SupContrast losses.py): one forward of cat(v1, v2), mlp head, l2n,
    anchors = all 2B views, positives = same label (self excluded), scaled by T / baseT."""

    def __init__(self, arch: str, cfg: dict):
        self.cfg = cfg
        self.enc = Encoder(arch, "mlp", cfg["dim"])
        self.opt = sgd(self.enc.parameters(), cfg.get("lr", 0.05))

    def step(self, views, labels) -> float:
        self.enc.train()
        z = F.normalize(self.enc(torch.cat(views)), dim=1)  # [2B, C], view-major
        loss = supcon_loss(z, labels.repeat(2), self.cfg["T"], self.cfg["baseT"])
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss)


class EncoderOnly:
    """The encoder alone: forward + backward + SGD of one view with a trivial loss, to compare
    raw conv-net training speed."""

    def __init__(self, arch: str, cfg: dict):
        self.enc = Encoder(arch, "mlp", cfg.get("dim", 128))
        self.opt = sgd(self.enc.parameters(), 0.01)

    def step(self, views, labels) -> float:
        self.enc.train()
        loss = self.enc(views[0]).square().mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss)


METHODS = {"moco": MoCo, "mochi": MoCHi, "mixco": MixCo, "supcon": SupCon, "encoder": EncoderOnly}
