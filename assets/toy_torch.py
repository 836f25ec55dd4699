"""A PyTorch mirror of gan-gpu's toy runs, for a fast hyper-parameter search (CPU).

Same data (gan_toy.py's 8gaussians / 25gaussians), same mode statistics (2,500 samples, 3σ,
20 per mode), PyTorch's default Linear init (as gan-gpu), LeakyReLU 0.2 MLPs, nsgan or wgan-gp,
Adam, lr(t) = max(lr·decay^-t, min_lr), PacGAN packing.
usage: toy_torch.py key=value ...   (prints one line: the config, modes, hq per eval)
"""
import math, sys, time
import torch, torch.nn as nn

cfg = dict(data="ring8", loss="nsgan", steps=2000, batch=64, g="128,128,128", d="128,128,128",
           noise=2, lr=1e-3, lrg=None, lrd=None, b1=0.5, b2=0.999, k=1, decay=1.0, min_lr=0.0,
           pack=1, seed=0, lam=10.0, evals=4, act="lrelu", threads=1)
for arg in sys.argv[1:]:
    key, value = arg.split("=", 1)
    cfg[key] = type(cfg[key])(value) if cfg[key] is not None else float(value)
torch.set_num_threads(cfg["threads"])
torch.manual_seed(cfg["seed"])

if cfg["data"] == "ring8":
    centers = [(2 * math.cos(k * math.pi / 4), 2 * math.sin(k * math.pi / 4)) for k in range(8)]
    raw_std, div = 0.02, 1.414
else:
    centers = [(2.0 * x, 2.0 * y) for x in range(-2, 3) for y in range(-2, 3)]
    raw_std, div = 0.05, 2.828
centers = torch.tensor(centers) / div
std = raw_std / div


def real(n):
    idx = torch.randint(len(centers), (n,))
    return centers[idx] + torch.randn(n, 2) * std


def mlp(sizes, out):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.LeakyReLU(0.2) if cfg["act"] == "lrelu" else nn.ReLU()]
    layers.append(nn.Linear(sizes[-1], out))
    return nn.Sequential(*layers)


m = cfg["pack"]
G = mlp([cfg["noise"]] + [int(s) for s in cfg["g"].split(",")], 2)
D = mlp([2 * m] + [int(s) for s in cfg["d"].split(",")], 1)
lrg = cfg["lrg"] or cfg["lr"]
lrd = cfg["lrd"] or cfg["lr"]
opt_g = torch.optim.Adam(G.parameters(), lr=lrg, betas=(cfg["b1"], cfg["b2"]))
opt_d = torch.optim.Adam(D.parameters(), lr=lrd, betas=(cfg["b1"], cfg["b2"]))
B = cfg["batch"]


def set_lr(t):
    f = cfg["decay"] ** (-t)
    for opt, lr in ((opt_g, lrg), (opt_d, lrd)):
        for group in opt.param_groups:
            group["lr"] = max(lr * f, cfg["min_lr"])


def packed(x):
    return x.reshape(-1, 2 * m)


def mode_stats():
    with torch.no_grad():
        x = G(torch.randn(2500, cfg["noise"]))
    d2 = ((x[:, None, :] - centers[None]) ** 2).sum(-1)
    dmin, arg = d2.min(1)
    hq = dmin <= (3 * std) ** 2
    counts = torch.bincount(arg[hq], minlength=len(centers))
    return int((counts >= 20).sum()), float(hq.float().mean()) * 100


bce = nn.BCEWithLogitsLoss()
start = time.time()
out = []
for t in range(cfg["steps"]):
    set_lr(t)
    for _ in range(cfg["k"]):
        x = real(B)
        with torch.no_grad():
            fake = G(torch.randn(B, cfg["noise"]))
        if cfg["loss"] == "nsgan":
            dr, df = D(packed(x)), D(packed(fake))
            loss = bce(dr, torch.ones_like(dr)) + bce(df, torch.zeros_like(df))
        else:
            eps = torch.rand(B // m, 1).repeat_interleave(m, 0)
            xh = (eps * x + (1 - eps) * fake).requires_grad_(True)
            dh = D(packed(xh))
            g, = torch.autograd.grad(dh.sum(), xh, create_graph=True)
            gn = g.reshape(-1, 2 * m).norm(dim=1)
            loss = D(packed(fake)).mean() - D(packed(x)).mean() + cfg["lam"] * ((gn - 1) ** 2).mean()
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
    df = D(packed(G(torch.randn(B, cfg["noise"]))))
    gl = bce(df, torch.ones_like(df)) if cfg["loss"] == "nsgan" else -df.mean()
    opt_g.zero_grad()
    gl.backward()
    opt_g.step()
    if (t + 1) % max(1, cfg["steps"] // cfg["evals"]) == 0:
        modes, hq = mode_stats()
        out.append(f"{t+1}:{modes}/{hq:.1f}")
shown = {k: v for k, v in cfg.items() if k not in ("evals", "threads")}
print(" ".join(f"{k}={v}" for k, v in shown.items()), "|", " ".join(out), f"| {time.time()-start:.0f}s", flush=True)
