#!/usr/bin/env python3
"""PyTorch-on-CPU twin of fanaroff's attention-gated CNN (Bowles et al. 2021).

Times the same work as `cargo run --release --example bench_attention`, with
the same JSON keys, so the two can be run alternately (farm-bench) and
compared:

  epoch_det / epoch_bayes          one training epoch over the MBFRConfident
                                   training images, batch 16, augmentation
                                   (rotation +-180 deg, shift +-2 px, scale
                                   0.9-1.1), Adam lr 5e-5
  fwd_bwd_det / fwd_bwd_bayes      forward + backward of one batch of 16
  inference_det / inference_bayes  forward without graph over the test
                                   images, batches of 16

The network (as fanaroff_attention::AttentionNetConfig::default()):
  backbone  3x3 pad-1 conv (bias) -> batch norm -> ReLU, widths
            6,6,6 | 16,16,16 | 32,32,32 | 64,64, 2x2 max pool after the
            first three blocks (150 -> 75 -> 37 -> 18)
  gates     on the last map x of blocks 1-3, gated by the 64 x 18 x 18 map g:
            a = relu(theta(x) + bilinear(phi(g))), alpha = softmax_HW(psi(a)),
            gated = alpha * x; theta, phi 1x1 to 64 channels without bias
            (with bias in the Bayesian variant: variational layers always
            have one), psi 1x1 to 1 channel with bias initialised to 10
  classify  sum of every gated map over space, concatenated (6+16+32 = 54),
            dropout 0.5, linear 54 -> 2
  init      PyTorch's defaults (fanaroff's `init = "default"`)
  bayes     the gates' 1x1 convs are Bayes by backprop: mean-field Gaussian,
            sigma = exp(rho), mu ~ U(-0.1, 0.1), rho ~ U(-5, -4), one weight
            draw per forward, single-sample MC KL against the GMM prior
            (0.75, 1, 9e-4); loss = sum-NLL + (T/M) KL, T = 0.01

Inputs are scaled to [-1, 1] (x/127.5 - 1). Usage:

  python3 bench/torch_attention_reference.py bench --threads 2 --out r.json
  python3 bench/torch_attention_reference.py params
"""
import argparse
import json
import math
import os
import pickle
import platform
import resource
import statistics
import tarfile
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

BLOCKS = [[6, 6, 6], [16, 16, 16], [32, 32, 32], [64, 64]]
INTER = 64
PSI_BIAS = 10.0
PRIOR_PI, PRIOR_S1, PRIOR_S2 = 0.75, 1.0, 9e-4
TEMP = 1e-2
LR = 5e-5
CONFIDENT = {0, 1, 2, 5, 6}
FRI = {0, 1, 2, 3, 4}
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# ----------------------------------------------------------------------------- data
def load_confident(tgz):
    """MBFRConfident train and test images ([-1, 1]) and labels (FRI 0, FRII 1)."""
    out = os.path.join(tempfile.gettempdir(), "mirabest-full-attention-twin")
    if not os.path.exists(os.path.join(out, "batches", "test_batch")):
        with tarfile.open(tgz) as t:
            t.extractall(out)

    def read(names):
        xs, ys = [], []
        for n in names:
            with open(os.path.join(out, "batches", n), "rb") as f:
                d = pickle.load(f, encoding="latin1")
            xs.append(np.asarray(d["data"], np.uint8).reshape(-1, 1, 150, 150))
            ys.append(np.asarray(d["labels"]))
        x, y = np.concatenate(xs), np.concatenate(ys)
        keep = np.isin(y, list(CONFIDENT))
        lab = np.where(np.isin(y[keep], list(FRI)), 0, 1)
        xx = torch.from_numpy(x[keep].astype(np.float32) / 127.5 - 1.0)
        return xx, torch.from_numpy(lab.astype(np.int64))

    batches = sorted(n for n in os.listdir(os.path.join(out, "batches")) if n.startswith("data_batch"))
    return read(batches), read(["test_batch"])


def augment(x, gen):
    """Random rotation (+-180 deg), shift (+-2 px) and scale (0.9-1.1) per image, bilinear, zeros outside."""
    n, _, h, w = x.shape
    th = (torch.rand(n, generator=gen) * 2 - 1) * math.pi
    sc = 0.9 + 0.2 * torch.rand(n, generator=gen)
    sh = (torch.rand(n, 2, generator=gen) * 2 - 1) * 2.0
    c, s = th.cos() / sc, th.sin() / sc
    a = torch.stack([torch.stack([c, -s, sh[:, 0] * 2 / w], 1), torch.stack([s, c, sh[:, 1] * 2 / h], 1)], 1)
    grid = F.affine_grid(a, list(x.shape), align_corners=False)
    # background of [-1, 1] images is -1: sample x + 1 with zero padding
    return F.grid_sample(x + 1.0, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1.0


# ----------------------------------------------------------------------------- model
def gmm_log_prior(w):
    w2 = w * w
    a = PRIOR_PI / (PRIOR_S1 * math.sqrt(2 * math.pi)) * torch.exp(-w2 / (2 * PRIOR_S1 ** 2))
    b = (1 - PRIOR_PI) / (PRIOR_S2 * math.sqrt(2 * math.pi)) * torch.exp(-w2 / (2 * PRIOR_S2 ** 2))
    return torch.log(a + b).sum()


class BayesConv1x1(nn.Module):
    """A Bayes-by-backprop 1x1 convolution; `kl` holds log q - log p of the last draw."""

    def __init__(self, cin, cout, bias_mu=None):
        super().__init__()
        self.w_mu = nn.Parameter(torch.empty(cout, cin, 1, 1).uniform_(-0.1, 0.1))
        self.w_rho = nn.Parameter(torch.empty(cout, cin, 1, 1).uniform_(-5.0, -4.0))
        self.b_mu = nn.Parameter(torch.empty(cout).uniform_(-0.1, 0.1))
        self.b_rho = nn.Parameter(torch.empty(cout).uniform_(-5.0, -4.0))
        if bias_mu is not None:
            with torch.no_grad():
                self.b_mu.fill_(bias_mu)
        self.kl = None

    @staticmethod
    def draw(mu, rho):
        sig = torch.exp(rho)
        w = mu + sig * torch.randn_like(mu)
        z = (w - mu) / sig
        log_q = (-0.5 * z * z - rho - HALF_LOG_2PI).sum()
        return w, log_q - gmm_log_prior(w)

    def forward(self, x):
        w, kw = self.draw(self.w_mu, self.w_rho)
        b, kb = self.draw(self.b_mu, self.b_rho)
        self.kl = kw + kb
        return F.conv2d(x, w, b)


class Gate(nn.Module):
    def __init__(self, cin, cg, bayes):
        super().__init__()
        if bayes:
            self.theta, self.phi = BayesConv1x1(cin, INTER), BayesConv1x1(cg, INTER)
            self.psi = BayesConv1x1(INTER, 1, bias_mu=PSI_BIAS)
        else:
            self.theta = nn.Conv2d(cin, INTER, 1, bias=False)
            self.phi = nn.Conv2d(cg, INTER, 1, bias=False)
            self.psi = nn.Conv2d(INTER, 1, 1)
            nn.init.constant_(self.psi.bias, PSI_BIAS)

    def forward(self, x, g):
        n, _, h, w = x.shape
        phi = F.interpolate(self.phi(g), size=(h, w), mode="bilinear", align_corners=False)
        score = self.psi(F.relu(self.theta(x) + phi))
        alpha = F.softmax(score.reshape(n, -1), dim=1).reshape(n, 1, h, w)
        return alpha * x, alpha


class AttentionNet(nn.Module):
    def __init__(self, bayes=False):
        super().__init__()
        self.blocks = nn.ModuleList()
        cin = 1
        for widths in BLOCKS:
            layers = []
            for wd in widths:
                layers += [nn.Conv2d(cin, wd, 3, padding=1), nn.BatchNorm2d(wd), nn.ReLU(inplace=True)]
                cin = wd
            self.blocks.append(nn.Sequential(*layers))
        gated = [b[-1] for b in BLOCKS[:-1]]
        self.gates = nn.ModuleList([Gate(c, BLOCKS[-1][-1], bayes) for c in gated])
        self.dropout = nn.Dropout(0.5)
        self.classifier = nn.Linear(sum(gated), 2)

    def forward(self, x):
        feats = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i + 1 < len(self.blocks):
                feats.append(x)
                x = F.max_pool2d(x, 2)
        pooled = [self.dropout(gate(f, x)[0].sum((2, 3))) for gate, f in zip(self.gates, feats)]
        return self.classifier(torch.cat(pooled, 1))

    def kl(self):
        terms = [m.kl for m in self.modules() if isinstance(m, BayesConv1x1)]
        return sum(terms) if terms else None


def loss_of(model, x, y, steps):
    logits = model(x)
    kl = model.kl()
    if kl is None:
        return F.cross_entropy(logits, y)
    return F.cross_entropy(logits, y, reduction="sum") + (TEMP / steps) * kl


# ----------------------------------------------------------------------------- timing
def timed(f, repeats, warmup):
    for _ in range(warmup):
        f()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return {"median": statistics.median(ts), "min": min(ts), "n": len(ts), "all": ts}


def epoch_fn(model, opt, x, y, batch, gen):
    steps = math.ceil(len(y) / batch)

    def run():
        model.train()
        perm = torch.randperm(len(y), generator=gen)
        for i in range(steps):
            idx = perm[i * batch:(i + 1) * batch]
            xb = augment(x[idx], gen)
            opt.zero_grad(set_to_none=True)
            loss_of(model, xb, y[idx], steps).backward()
            opt.step()
    return run


def bench(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    (xtr, ytr), (xte, yte) = load_confident(a.data)
    out = {"framework": "pytorch " + torch.__version__, "threads": a.threads, "batch": a.batch,
           "train_images": len(ytr), "test_images": len(yte), "cpu": platform.processor() or platform.machine()}
    xb, yb = augment(xtr[:a.batch], gen), ytr[:a.batch]
    for tag, bayes in [("det", False), ("bayes", True)][: 1 if a.det_only else 2]:
        model = AttentionNet(bayes)
        out["params_" + tag] = sum(p.numel() for p in model.parameters())
        if a.only == "all":
            model.train()
            out["fwd_bwd_" + tag] = timed(lambda: loss_of(model, xb, yb, 1).backward(), a.mb_repeats, 2)
        model.eval()

        def infer():
            with torch.no_grad():
                for i in range(0, len(yte), a.batch):
                    model(xte[i:i + a.batch])
        if a.only in ("all", "inference"):
            out["inference_" + tag] = timed(infer, a.repeats, 1)
        if a.only in ("all", "epoch"):
            opt = torch.optim.Adam(model.parameters(), lr=LR)
            out["epoch_" + tag] = timed(epoch_fn(model, opt, xtr, ytr, a.batch, gen), a.repeats, 1)
        for k in ("fwd_bwd", "inference", "epoch"):
            if k + "_" + tag in out:
                print("%s_%-5s median %.3f s" % (k, tag, out[k + "_" + tag]["median"]), flush=True)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    text = json.dumps(out, indent=2)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    else:
        print(text)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "..", "shared", "data", "mirabest", "MiraBest_full_batches.tar.gz")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench", help="time epochs, forward+backward and inference; write JSON")
    b.add_argument("--data", default=default, help="the full MiraBest release (.tar.gz)")
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--repeats", type=int, default=3)
    b.add_argument("--mb-repeats", type=int, default=10)
    b.add_argument("--batch", type=int, default=16)
    b.add_argument("--det-only", action="store_true")
    b.add_argument("--only", choices=["all", "epoch", "inference"], default="all",
                   help="time only training epochs or only inference (peak memory of each alone)")
    b.add_argument("--out", default="")
    sub.add_parser("params", help="print the parameter counts")
    a = p.parse_args()
    if a.cmd == "params":
        print({"det": sum(q.numel() for q in AttentionNet(False).parameters()),
               "bayes": sum(q.numel() for q in AttentionNet(True).parameters())})
    else:
        bench(a)


if __name__ == "__main__":
    main()
