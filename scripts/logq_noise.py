#!/usr/bin/env python3
"""How large is the noise that detaching mu in ln q adds to the mean
gradients, next to the likelihood's gradient? (docs/bayes.md, issue 34.)

With w = mu + sigma * eps, ln q(w) = -ln sigma - eps^2 / 2 - const does not
depend on mu, so the total derivative of the ln q term with respect to mu is
exactly zero. With mu detached (the reference code's `Normal(mu.data,
sigma)`), only the path through w remains: d ln q / d mu = -eps / sigma, a
zero-mean term that the minibatch loss scales by T / n_batches.

For the PyTorch reference model (../shared/bench/torch_bbb_reference.py,
mu ~ U(-0.1, 0.1), rho ~ U(-5, -4), sigma = exp rho), at initialisation and
after some epochs of training with the total derivative at T = 1 (lr 1e-4,
the setting that learns), on minibatches of 50 MBFRConfident
training images, this compares, per mean of the network and over weight
draws each on its own minibatch,

  * the likelihood gradient d NLL_sum / d mu;
  * the detached ln q term, (T / n_b) d ln q / d mu (measured as the
    difference between the gradients of the two conventions),

and reports the factor by which the term shrinks the expected Adam step of
a mean, E g / sqrt(E g^2 + E n^2) against E g / sqrt(E g^2).
Needs torch (not CI).

  python3 scripts/logq_noise.py --full-tgz ../shared/data/mirabest/MiraBest_full_batches.tar.gz
"""
import argparse
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "bench"))
import torch_bbb_reference as R  # noqa: E402
import torch_mbconf as M  # noqa: E402


def mean_grads(model, x, y, nb, temp, detach, with_nll, seed):
    """Gradient of the minibatch loss with respect to every mu, one draw."""
    R.LOG_Q_DETACH = detach
    model.zero_grad(set_to_none=True)
    torch.manual_seed(seed)
    logp, kl = model(x, with_kl=True)
    nll = torch.nn.functional.nll_loss(logp, y, reduction="sum")
    loss = (nll if with_nll else 0.0 * nll) + (temp / nb) * kl
    loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if n.endswith(".mu")}


def flat(grads):
    return torch.cat([g.flatten() for g in grads.values()])


def measure(model, xs, ys, nb, seed):
    """Per mean, over the draws (one minibatch each): the second moment of
    the likelihood gradient, its mean, and the second moment of the
    detached term at T = 1."""
    lik, noise = [], []
    for d, (x, y) in enumerate(zip(xs, ys)):
        lik.append(flat(mean_grads(model, x, y, nb, 1.0, False, True, 1000 * seed + d)))
        det = flat(mean_grads(model, x, y, nb, 1.0, True, False, 1000 * seed + d))
        tot = flat(mean_grads(model, x, y, nb, 1.0, False, False, 1000 * seed + d))
        noise.append(det - tot)
    lik, noise = torch.stack(lik), torch.stack(noise)
    return lik.pow(2).mean(0), lik.mean(0), noise.pow(2).mean(0)


def row(seed, epoch, second, mean, noise2):
    """One table row: pooled RMS values, and per mean the factor by which
    the detached term shrinks the expected Adam step, E g / sqrt(E g^2)."""
    rms = lambda v: math.sqrt(float(v.mean()))
    cells = [f"{rms(second):.3g}", f"{rms(mean.pow(2)):.3g}", f"{rms(noise2):.3g}"]
    for temp in (1.0, 0.01):
        shrink = (second / (second + temp**2 * noise2)).sqrt()
        cells.append(f"{float(shrink.median()):.3g}")
    cells.append(f"{100 * float((noise2 > second).float().mean()):.0f} %")
    return f"| {seed} | {epoch} | " + " | ".join(cells) + " |"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full-tgz", required=True)
    ap.add_argument("--draws", type=int, default=12)
    ap.add_argument("--at", default="0,10,30,100", help="epochs of training (total derivative, T = 1, lr 1e-4)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    xtr, ytr, _, _ = M.load(a.full_tgz)
    xc, yc = M.subset(xtr, ytr, M.CONF)
    nb = math.ceil(584 / 50)
    print(f"n_b = {nb} minibatches of 50; {a.draws} draws, each on its own minibatch of the training images.")
    print("Shrink = median over the network's means of sqrt(E g^2 / (E g^2 + E n^2)), g the likelihood")
    print("gradient and n the detached term: the factor by which detaching shrinks the expected Adam step.\n")
    print("| seed | epochs trained | RMS of d NLL_sum / d mu | RMS of its mean over draws | RMS of the detached term, T = 1 "
          "| shrink, T = 1 | shrink, T = 0.01 | means where the term dominates, T = 1 |")
    print("|---|---|---|---|---|---|---|---|")
    for seed in (0, 1, 2):
        torch.manual_seed(seed)
        perm = torch.from_numpy(np.random.default_rng(seed).permutation(len(yc)))
        tr = perm[:584]
        batches = [tr[(50 * d) % 550:(50 * d) % 550 + 50] for d in range(a.draws)]
        xs, ys = [xc[b] for b in batches], [yc[b] for b in batches]
        model = R.BBBConvNet("exp")
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        done = 0
        for epoch in (int(e) for e in a.at.split(",")):
            R.LOG_Q_DETACH = False
            while done < epoch:
                R.bbb_epoch(model, opt, xc[tr], yc[tr], temp=1.0)
                done += 1
            print(row(seed, epoch, *measure(model, xs, ys, nb, seed)), flush=True)


if __name__ == "__main__":
    main()
