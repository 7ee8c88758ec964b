"""The bench's PyTorch twins of src/models: the small ConvNet (src/models/convnet.ts) and
ResNet-18 with the CIFAR stem (src/models/resnet.ts, torchvision BasicBlock), plus the heads
(src/models/heads.ts). NCHW here; same layers, widths, BN (eps 1e-5, momentum 0.1) and init.
`bn_splits` > 1 uses split BN (SplitBatchNorm) in every BN layer."""
from functools import partial

import torch
from torch import nn


class SplitBatchNorm(nn.BatchNorm2d):
    """BatchNorm with training statistics per split, as src/ops/batch-norm-train.ts: sample n is in
    split n mod S (the MoCo CIFAR-10 demo's split BN, which stands in for per-GPU BN on one device).
    Viewing [N, C, H, W] as [N / S, S * C, H, W] puts split j in channel block j, so one batch_norm
    call normalises every split on its own. The running averages move by the mean of the splits'
    batch statistics; evaluation is plain BN on them."""

    def __init__(self, num_features: int, num_splits: int, **kw):
        super().__init__(num_features, **kw)
        self.num_splits = num_splits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        n, c, h, w = x.shape
        s = self.num_splits
        mean_s, var_s = self.running_mean.repeat(s), self.running_var.repeat(s)  # [S * C], updated in place
        y = nn.functional.batch_norm(x.reshape(n // s, s * c, h, w), mean_s, var_s, self.weight.repeat(s),
                                     self.bias.repeat(s), True, self.momentum, self.eps)
        with torch.no_grad():
            self.running_mean.copy_(mean_s.reshape(s, c).mean(0))
            self.running_var.copy_(var_s.reshape(s, c).mean(0))
        return y.reshape(n, c, h, w)


def norm_layer(bn_splits: int = 1):
    return nn.BatchNorm2d if bn_splits <= 1 else partial(SplitBatchNorm, num_splits=bn_splits)


def conv_bn_relu(cin: int, cout: int, stride: int, norm=nn.BatchNorm2d) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), norm(cout), nn.ReLU(inplace=True)
    )


class ConvNet(nn.Module):
    """8 conv3x3-BN-ReLU layers, widths 32, 64, 128, 256 (two each; the first of stages 1-3 has
    stride 2), global average pool -> [N, 256]."""

    def __init__(self, in_ch: int = 3, width: float = 1.0, norm=nn.BatchNorm2d):
        super().__init__()
        layers, c_in = [], in_ch
        for i, c in enumerate([32, 64, 128, 256]):
            c = max(1, round(c * width))
            for j in range(2):
                layers.append(conv_bn_relu(c_in, c, 2 if i > 0 and j == 0 else 1, norm))
                c_in = c
        self.features = nn.Sequential(*layers)
        self.feature_dim = c_in
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).mean((2, 3))


class BasicBlock(nn.Module):
    def __init__(self, cin: int, planes: int, stride: int, norm=nn.BatchNorm2d):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = norm(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = norm(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), norm(planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18Cifar(nn.Module):
    """torchvision ResNet-18 with the CIFAR stem (conv3x3 s1 p1 + BN + ReLU, no max-pool)."""

    def __init__(self, in_ch: int = 3, width: float = 1.0, norm=nn.BatchNorm2d):
        super().__init__()
        ch = lambda n: max(1, round(n * width))
        self.conv1 = nn.Conv2d(in_ch, ch(64), 3, 1, 1, bias=False)
        self.bn1 = norm(ch(64))
        blocks, c_in = [], ch(64)
        for i in range(4):
            planes = ch(64 * 2 ** i)
            for j in range(2):
                blocks.append(BasicBlock(c_in, planes, 2 if i > 0 and j == 0 else 1, norm))
                c_in = planes
        self.layers = nn.Sequential(*blocks)
        self.feature_dim = c_in
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(torch.relu(self.bn1(self.conv1(x)))).mean((2, 3))


def init_weights(m: nn.Module) -> None:
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")


class Encoder(nn.Module):
    """Backbone + head: 'mlp' = Linear(f, f) -> ReLU -> Linear(f, dim) (MoCo v2, SupCon), 'linear'
    (MoCo v1, and the CE classifier with dim = number of classes)."""

    def __init__(self, arch: str, head: str = "mlp", dim: int = 128, in_ch: int = 3, width: float = 1.0, bn_splits: int = 1):
        super().__init__()
        if arch not in ("convnet", "resnet18"):
            raise ValueError(f"encoder.arch: the PyTorch twin has convnet and resnet18, got {arch!r}")
        cls = ConvNet if arch == "convnet" else ResNet18Cifar
        self.backbone = cls(in_ch, width, norm_layer(bn_splits))
        f = self.backbone.feature_dim
        self.fc = nn.Sequential(nn.Linear(f, f), nn.ReLU(inplace=True), nn.Linear(f, dim)) if head == "mlp" else nn.Linear(f, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.backbone(x))


def from_workbench_layout(x: torch.Tensor) -> torch.Tensor:
    """A workbench tensor in PyTorch's layout: conv HWIO -> OIHW, linear [in, out] -> [out, in]."""
    if x.dim() == 4:
        return x.permute(3, 2, 0, 1).contiguous()
    if x.dim() == 2:
        return x.t().contiguous()
    return x


def workbench_name(torch_name: str) -> str:
    """The ConvNet's PyTorch names -> the workbench's: backbone.features.3.0.weight -> stage1.1.conv.weight,
    backbone.features.3.1.running_var -> stage1.1.bn.running_var; the head's names are the same."""
    p = torch_name.split(".")
    if p[:2] == ["backbone", "features"]:
        i = int(p[2])
        return f"stage{i // 2}.{i % 2}.{'conv' if p[3] == '0' else 'bn'}.{p[-1]}"
    return torch_name


def load_workbench_state(net: nn.Module, read) -> None:
    """Copies a workbench network into net: each parameter and BatchNorm buffer (not the batch counts)
    from read(name, is_buffer), the workbench tensor of that workbench name in the workbench's layout."""
    params = dict(net.named_parameters())
    with torch.no_grad():
        for n, v in list(params.items()) + list(net.named_buffers()):
            if not n.endswith("num_batches_tracked"):
                v.copy_(from_workbench_layout(read(workbench_name(n), n not in params)))
