"""Cross-check of `--preset goodfellow2014` in PyTorch: the same networks, initialisation,
dropout, SGD schedule and held-out split, trained on the CPU, printing D(x), D(G(z)), G's loss
and the class histogram of 1,000 samples (labels of their nearest training image) as it goes.

It answers one question: is what gan-gpu's run does (on 9,000 MNIST images, D overpowers G and
G collapses onto a few classes within 2,000 steps) the setup's doing or gan-gpu's?
`--order simultaneous` updates D and G from one forward pass, as pylearn2 did.

    python3 assets/goodfellow2014_pytorch.py ../shared/data/mnist --steps 3000
"""

import argparse
import gzip
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path: Path, header: int) -> np.ndarray:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return np.frombuffer(data, np.uint8, offset=header)


class Maxout(nn.Module):
    def __init__(self, inputs, units, pieces):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(inputs, units * pieces)

    def forward(self, x):
        return self.linear(x).view(-1, self.units, self.pieces).max(-1).values


class Discriminator(nn.Module):
    """Maxout 240×5 → maxout 240×5 → logit; dropout keeps 0.8 of the input, 0.5 of hidden units."""

    def __init__(self):
        super().__init__()
        self.h0, self.h1, self.y = Maxout(784, 240, 5), Maxout(240, 240, 5), nn.Linear(240, 1)

    def forward(self, x):
        x = F.dropout(x, 0.2, True)
        x = F.dropout(self.h0(x), 0.5, True)
        x = F.dropout(self.h1(x), 0.5, True)
        return self.y(x).squeeze(1)


def uniform_init(module, radius):
    """pylearn2's irange: weights uniform in ±radius, biases 0."""
    for p in module.parameters():
        if p.dim() == 2:
            nn.init.uniform_(p, -radius, radius)
        else:
            nn.init.zeros_(p)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="MNIST-format folder (train-* IDX files)")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--holdout", type=int, default=1000)
    parser.add_argument("--order", choices=["alternate", "simultaneous"], default="alternate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-every", type=int, default=250)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    def find(stem):
        for name in (stem, stem + ".gz"):
            if (args.data / name).is_file():
                return args.data / name
        raise SystemExit(f"{args.data}: no {stem}[.gz]")

    images = read_idx(find("train-images-idx3-ubyte"), 16).reshape(-1, 784)
    labels = read_idx(find("train-labels-idx1-ubyte"), 8)
    n = len(images) - args.holdout
    x_all = torch.from_numpy(images[:n].astype(np.float32) / 255)
    y_all = labels[:n]

    g = nn.Sequential(
        nn.Linear(100, 1200), nn.ReLU(), nn.Linear(1200, 1200), nn.ReLU(), nn.Linear(1200, 784)
    )
    uniform_init(g, 0.05)
    mean = x_all.mean(0).clamp(1e-7, 1 - 1e-7)
    with torch.no_grad():  # init_sigmoid_bias_from_marginals
        g[-1].bias.copy_(torch.log(mean / (1 - mean)))
    d = Discriminator()
    uniform_init(d, 0.005)

    def generate(count):
        return torch.sigmoid(g(torch.randn(count, 100)))

    bce = F.binary_cross_entropy_with_logits
    ones, zeros = torch.ones(100), torch.zeros(100)
    opt_d = torch.optim.SGD(d.parameters(), lr=0.1, momentum=0.5)
    opt_g = torch.optim.SGD(g.parameters(), lr=0.1, momentum=0.5)
    ramp_updates = 250 * (n // 100)

    def schedule(t):
        for opt in (opt_d, opt_g):
            for group in opt.param_groups:
                group["lr"] = max(0.1 / 1.000004**t, 1e-6)
                group["momentum"] = 0.5 + 0.2 * min(t / ramp_updates, 1.0)

    def class_histogram(samples):
        nearest = torch.cdist(samples, x_all).argmin(1).numpy()
        return np.bincount(y_all[nearest], minlength=10).tolist()

    perm, pos, started = torch.randperm(n), 0, time.time()
    for t in range(1, args.steps + 1):
        if pos + 100 > n:
            perm, pos = torch.randperm(n), 0
        x = x_all[perm[pos : pos + 100]]
        pos += 100
        schedule(t - 1)
        if args.order == "alternate":  # Algorithm 1, as gan-gpu trains
            real, fake = d(x), d(generate(100).detach())
            d_loss = 0.5 * (bce(real, ones) + bce(fake, zeros))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            fake = d(generate(100))
            g_loss = bce(fake, ones)
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
        else:  # pylearn2: one forward pass, both gradients, both updates
            real, fake = d(x), d(generate(100))
            d_loss = 0.5 * (bce(real, ones) + bce(fake, zeros))
            g_loss = bce(fake, ones)
            d_grads = torch.autograd.grad(d_loss, list(d.parameters()), retain_graph=True)
            g_grads = torch.autograd.grad(g_loss, list(g.parameters()))
            for p, grad in zip(list(d.parameters()) + list(g.parameters()), d_grads + g_grads):
                p.grad = grad
            opt_d.step()
            opt_g.step()
        if t % args.log_every == 0:
            with torch.no_grad():
                print(
                    f"{args.order} step {t}: D(x) {torch.sigmoid(real).mean():.3f}  "
                    f"D(G(z)) {torch.sigmoid(fake).mean():.3f}  G loss {g_loss.item():.2f}  "
                    f"classes {class_histogram(generate(1000))}  ({time.time() - started:.0f} s)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
