"""Cross-check of `train --conditional` (pytorch-gan preset) in PyTorch: the same networks
(G 100 + 10 → 256 → 512 → 1024 → 784 tanh, D 784 + 10 → 512 → 256 → 1, LeakyReLU 0.2), the
one-hot label after G's noise and after D's input, nsgan's BCE, Adam lr 2e-4 β (0.5, 0.999),
batch 64, one D step per G step, the generated batch taking the real batch's labels; then a
784-256-128-10 classifier trained on the same images scores 1,000 samples of each class.

It answers one question: is a weak class accuracy after a few thousand steps the recipe's
doing or gan-gpu's?

    python3 assets/conditional_pytorch.py ../shared/data/mnist --steps 3000
"""

import argparse
import gzip
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn


def idx(path):
    data = gzip.open(path).read()
    return np.frombuffer(data, np.uint8, offset=16 if data[3] == 3 else 8)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    images = lambda name: torch.tensor(
        idx(args.data / name).reshape(-1, 784) / 127.5 - 1, dtype=torch.float32
    )
    labels = lambda name: torch.tensor(idx(args.data / name).astype(np.int64))
    x_train, y_train = images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz")
    x_test, y_test = images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")

    leaky = lambda: nn.LeakyReLU(0.2)
    g = nn.Sequential(
        nn.Linear(110, 256), leaky(), nn.Linear(256, 512), leaky(),
        nn.Linear(512, 1024), leaky(), nn.Linear(1024, 784), nn.Tanh(),
    )
    d = nn.Sequential(nn.Linear(794, 512), leaky(), nn.Linear(512, 256), leaky(), nn.Linear(256, 1))
    adam = lambda net: torch.optim.Adam(net.parameters(), 2e-4, betas=(0.5, 0.999))
    g_opt, d_opt = adam(g), adam(d)
    bce = nn.BCEWithLogitsLoss()
    one_hot = torch.eye(10)
    ones, zeros = torch.ones(64, 1), torch.zeros(64, 1)
    started = time.time()
    for step in range(1, args.steps + 1):
        batch = torch.randint(0, len(x_train), (64,))
        x, c = x_train[batch], one_hot[y_train[batch]]
        fake = g(torch.cat([torch.randn(64, 100), c], 1))
        d_loss = bce(d(torch.cat([x, c], 1)), ones) + bce(d(torch.cat([fake.detach(), c], 1)), zeros)
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        fake = g(torch.cat([torch.randn(64, 100), c], 1))
        g_loss = bce(d(torch.cat([fake, c], 1)), ones)
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        if step % 500 == 0:
            print(f"step {step}  D {d_loss.item():.3f}  G {g_loss.item():.3f}  ({time.time() - started:.0f} s)")

    classifier = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    c_opt = torch.optim.Adam(classifier.parameters(), 1e-3)
    for _ in range(8):
        order = torch.randperm(len(x_train))
        for start in range(0, len(x_train), 64):
            batch = order[start : start + 64]
            loss = nn.functional.cross_entropy(classifier(x_train[batch]), y_train[batch])
            c_opt.zero_grad()
            loss.backward()
            c_opt.step()
    with torch.no_grad():
        test = (classifier(x_test).argmax(1) == y_test).float().mean().item()
        print(f"classifier test accuracy {100 * test:.2f} %")
        accuracy = []
        for k in range(10):
            z = torch.cat([torch.randn(1000, 100), one_hot[torch.full((1000,), k)]], 1)
            accuracy.append((classifier(g(z)).argmax(1) == k).float().mean().item())
    print("class accuracy per class 0-9 (%):", ", ".join(f"{100 * a:.1f}" for a in accuracy))
    print(f"mean {100 * np.mean(accuracy):.1f} %")


if __name__ == "__main__":
    main()
