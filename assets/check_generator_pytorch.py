"""Load a gan-gpu generator.safetensors into the PyTorch module its preset names, with
strict=True, and compare its outputs with gan-gpu's own on the same noise.

    gan-gpu train DATA --preset dcgan --out run
    python3 -c "import numpy; numpy.save('z.npy', numpy.random.randn(16, 100).astype('float32'))"
    gan-gpu sample run/generator.safetensors --noise z.npy --format npy -o x.npy
    python3 assets/check_generator_pytorch.py run/generator.safetensors z.npy x.npy --preset dcgan

Prints the largest absolute difference and exits non-zero above --tolerance (1e-4).
Needs torch, numpy and safetensors (pip install torch numpy safetensors); gan-gpu does not.
"""

import argparse
import sys

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file


def dcgan(width=64, channels=1, noise=100):
    """The dcgan preset's generator (README: Loading the generator in PyTorch)."""
    wide = 2 * width
    return nn.Sequential(
        nn.Linear(noise, wide * 7 * 7), nn.BatchNorm1d(wide * 7 * 7), nn.ReLU(),
        nn.Unflatten(1, (wide, 7, 7)),
        nn.ConvTranspose2d(wide, width, 4, 2, 1), nn.BatchNorm2d(width), nn.ReLU(),
        nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh(),
    )


def dcgan64(width=64, channels=3, noise=100):
    """pytorch/examples' DCGAN generator (netG.main); gan-gpu's takes noise as [noise, 1, 1]."""
    layers = [nn.ConvTranspose2d(noise, 8 * width, 4, 1, 0, bias=False),
              nn.BatchNorm2d(8 * width), nn.ReLU()]
    for scale in (8, 4, 2):
        layers += [nn.ConvTranspose2d(scale * width, scale // 2 * width, 4, 2, 1, bias=False),
                   nn.BatchNorm2d(scale // 2 * width), nn.ReLU()]
    layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


def pytorch_gan(noise=100, data=784):
    return nn.Sequential(
        nn.Linear(noise, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
        nn.Linear(512, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, data), nn.Tanh(),
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("generator")
    parser.add_argument("noise")
    parser.add_argument("samples", help="gan-gpu sample --noise NOISE --format npy output")
    parser.add_argument("--preset", choices=["dcgan", "dcgan64", "pytorch-gan"], default="dcgan")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()

    if args.preset == "dcgan":
        g = dcgan(args.width, args.channels)
    elif args.preset == "dcgan64":
        g = dcgan64(args.width, args.channels)
    else:
        g = pytorch_gan()
    g.load_state_dict(load_file(args.generator), strict=True)
    g.eval()  # batch norm with the running statistics, as gan-gpu samples
    z = torch.from_numpy(np.load(args.noise)).float()
    if args.preset == "dcgan64":
        z = z.view(z.shape[0], -1, 1, 1)
    with torch.no_grad():
        ours = g(z).reshape(z.shape[0], -1).numpy()
    theirs = np.load(args.samples).reshape(z.shape[0], -1)
    worst = float(np.abs(ours - theirs).max())
    print(f"loaded {args.generator} into the {args.preset} nn.Sequential with strict=True; "
          f"largest |PyTorch - gan-gpu| over {ours.size} values: {worst:.3g}")
    sys.exit(0 if worst <= args.tolerance else 1)


if __name__ == "__main__":
    main()
