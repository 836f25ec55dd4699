"""A PyTorch mirror of gan-gpu's toy runs, for a fast hyper-parameter search (CPU).

Same data (gan_toy.py's 8gaussians / 25gaussians), same mode statistics (2,500 samples, 3σ,
20 per mode), PyTorch's default Linear init (as gan-gpu), LeakyReLU 0.2 MLPs, nsgan or wgan-gp,
Adam, lr(t) = max(lr·decay^-t, min_lr), PacGAN packing, normal or uniform (U(-1, 1)) noise, and
an EMA generator as gan-gpu's --ema β (ema=β: a parameter average of G after each G step with
decay min(β, (1 + t)/(10 + t)), t = G updates before this one; the stats are then the EMA's,
followed by the raw G's in parentheses, both on the same noise). Also: act=relu (both nets'
hidden activation), r1=γ, bn=1 (batch norm in G), gscale=s (G's last layer ×s at init),
inoise=σ inoise_end=f (instance noise on D's inputs, falling linearly to 0 at f of the run),
topk=ν topk_every=N (top-k training: G's loss over the k best-rated generated packs),
r1_every=N (lazy R1: the penalty on every N-th D step only, with γ·N), zscale=s (noise times s,
as gan-gpu's --noise-scale).
usage: toy_torch.py key=value ...   (prints one line: the config, modes/hq per eval, wall time)
"""
import copy, math, sys, time
import torch, torch.nn as nn

cfg = dict(data="ring8", loss="nsgan", steps=2000, batch=64, g="128,128,128", d="128,128,128",
           noise=2, lr=1e-3, lrg=None, lrd=None, b1=0.5, b2=0.999, k=1, decay=1.0, min_lr=0.0,
           pack=1, seed=0, lam=10.0, evals=4, act="lrelu", threads=1, ema=0.0, noise_kind="normal",
           r1=0.0, center=1.0, ckpt=0, bn=0, gscale=1.0, inoise=0.0, inoise_end=0.5,
           topk=1.0, topk_every=100, r1_every=1, zscale=1.0)
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


def noise(n):
    if cfg["noise_kind"] == "uniform":
        return (torch.rand(n, cfg["noise"]) * 2 - 1) * cfg["zscale"]
    return torch.randn(n, cfg["noise"]) * cfg["zscale"]


def mlp(sizes, out, bn=False):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers.append(nn.Linear(a, b))
        if bn:
            layers.append(nn.BatchNorm1d(b))
        layers.append(nn.LeakyReLU(0.2) if cfg["act"] == "lrelu" else nn.ReLU())
    layers.append(nn.Linear(sizes[-1], out))
    return nn.Sequential(*layers)


m = cfg["pack"]
G = mlp([cfg["noise"]] + [int(s) for s in cfg["g"].split(",")], 2, bn=cfg["bn"] > 0)
with torch.no_grad():
    G[-1].weight.mul_(cfg["gscale"])
D = mlp([2 * m] + [int(s) for s in cfg["d"].split(",")], 1)
lrg = cfg["lrg"] or cfg["lr"]
lrd = cfg["lrd"] or cfg["lr"]
opt_g = torch.optim.Adam(G.parameters(), lr=lrg, betas=(cfg["b1"], cfg["b2"]))
opt_d = torch.optim.Adam(D.parameters(), lr=lrd, betas=(cfg["b1"], cfg["b2"]))
G_ema = copy.deepcopy(G) if cfg["ema"] > 0 else None
B = cfg["batch"]


def set_lr(t):
    f = cfg["decay"] ** (-t)
    for opt, lr in ((opt_g, lrg), (opt_d, lrd)):
        for group in opt.param_groups:
            group["lr"] = max(lr * f, cfg["min_lr"])


def packed(x):
    return x.reshape(-1, 2 * m)


def blur(x, t):
    # Instance noise (Sønderby et al. 2016): D sees real and generated samples with N(0, σ²)
    # added, σ falling linearly from inoise to 0 at inoise_end of the run.
    sigma = cfg["inoise"] * max(0.0, 1 - t / (cfg["inoise_end"] * cfg["steps"]))
    return x + sigma * torch.randn_like(x) if sigma > 0 else x


@torch.no_grad()
def ema_update(t):
    d = min(cfg["ema"], (1 + t) / (10 + t))
    for avg, p in zip(G_ema.parameters(), G.parameters()):
        avg.mul_(d).add_(p, alpha=1 - d)


def mode_stats(net, z):
    with torch.no_grad():
        x = net(z)
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
        x = blur(real(B), t)
        with torch.no_grad():
            fake = blur(G(noise(B)), t)
        if cfg["loss"] == "nsgan":
            dr, df = D(packed(x)), D(packed(fake))
            loss = bce(dr, torch.ones_like(dr)) + bce(df, torch.zeros_like(df))
            if cfg["r1"] > 0 and t % cfg["r1_every"] == 0:
                # R1 (Mescheder et al. 2018): γ/2 · E‖∇ₓ logit D(x)‖² on real data.
                xr = packed(x).detach().requires_grad_(True)
                g, = torch.autograd.grad(D(xr).sum(), xr, create_graph=True)
                # Lazy (Karras et al. 2020): every r1_every-th step, γ times r1_every.
                loss = loss + cfg["r1"] * cfg["r1_every"] / 2 * (g ** 2).sum(1).mean()
        else:
            eps = torch.rand(B // m, 1).repeat_interleave(m, 0)
            xh = (eps * x + (1 - eps) * fake).requires_grad_(True)
            dh = D(packed(xh))
            g, = torch.autograd.grad(dh.sum(), xh, create_graph=True)
            gn = g.reshape(-1, 2 * m).norm(dim=1)
            loss = D(packed(fake)).mean() - D(packed(x)).mean() + cfg["lam"] * ((gn - cfg["center"]) ** 2).mean()
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
    df = D(packed(blur(G(noise(B)), t)))
    if cfg["topk"] < 1.0:
        # Top-k training (Sinha et al. 2020): G learns only from the k generated packs D rates
        # most real; k = B/m at first, times 0.99 every topk_every steps, down to topk·B/m.
        keep = max(int(cfg["topk"] * len(df)), int(len(df) * 0.99 ** (t // cfg["topk_every"])))
        df = df.flatten().topk(keep).values
    gl = bce(df, torch.ones_like(df)) if cfg["loss"] == "nsgan" else -df.mean()
    opt_g.zero_grad()
    gl.backward()
    opt_g.step()
    if G_ema is not None:
        ema_update(t)
    if (t + 1) % max(1, cfg["steps"] // cfg["evals"]) == 0:
        z = noise(2500)
        modes, hq = mode_stats(G if G_ema is None else G_ema, z)
        line = f"{t+1}:{modes}/{hq:.1f}"
        if G_ema is not None:
            raw_modes, raw_hq = mode_stats(G, z)
            line += f"(raw {raw_modes}/{raw_hq:.1f})"
        out.append(line)
shown = {k: v for k, v in cfg.items() if k not in ("evals", "threads")}
print(" ".join(f"{k}={v}" for k, v in shown.items()), "|", " ".join(out), f"| {time.time()-start:.0f}s", flush=True)
