"""The PyTorch side of `gan-gpu bench train`: the same GAN (the reference MLP, or the dcgan
preset's convolutional networks; nsgan, Adam 2e-4, betas 0.5/0.999, k = 1) trained eagerly on
the CPU, on synthetic MNIST-sized data in [-1, 1].

Prints one JSON object per batch size: {"batch", "it_per_s", "threads", "torch"}.
gan-gpu embeds this file and runs it with python3 when torch is importable.
"""

import argparse
import json
import time

import torch
import torch.nn as nn


def reference_gan():
    g = nn.Sequential(
        nn.Linear(100, 256), nn.LeakyReLU(0.2),
        nn.Linear(256, 512), nn.LeakyReLU(0.2),
        nn.Linear(512, 1024), nn.LeakyReLU(0.2),
        nn.Linear(1024, 784), nn.Tanh(),
    )
    d = nn.Sequential(
        nn.Linear(784, 512), nn.LeakyReLU(0.2),
        nn.Linear(512, 256), nn.LeakyReLU(0.2),
        nn.Linear(256, 1),
    )
    return g, d


def dcgan():
    """gan-gpu's dcgan preset at width 64 (the README shows the same modules)."""
    g = nn.Sequential(
        nn.Linear(100, 6272), nn.BatchNorm1d(6272), nn.ReLU(),
        nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh(),
        nn.Flatten(),
    )
    d = nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(6272, 1),
    )
    return g, d


def its_per_second(model, batch, seconds):
    torch.manual_seed(0)
    g, d = reference_gan() if model == "mlp" else dcgan()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    data = torch.randint(0, 256, (2048, 784), dtype=torch.uint8)
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def iteration():
        # D step: BCE with targets 1 on real, 0 on generated.
        real = data[torch.randint(0, data.shape[0], (batch,))].float() / 127.5 - 1.0
        fake = g(torch.randn(batch, 100)).detach()
        opt_d.zero_grad(set_to_none=True)
        (bce(d(real), ones) + bce(d(fake), zeros)).backward()
        opt_d.step()
        # G step: non-saturating, -log D(G(z)).
        opt_g.zero_grad(set_to_none=True)
        bce(d(g(torch.randn(batch, 100))), ones).backward()
        opt_g.step()

    for _ in range(3):  # warm-up: allocator, first-call overheads
        iteration()
    count, start = 0, time.perf_counter()
    while True:
        iteration()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and count >= 3:
            return count / elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=["mlp", "dcgan"], default="mlp")
    parser.add_argument("--batch", default="64,256")
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    for batch in [int(b) for b in args.batch.split(",")]:
        result = {
            "batch": batch,
            "it_per_s": its_per_second(args.model, batch, args.seconds),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
        }
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
