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
the setting that learns), on the first minibatch of 50 MBFRConfident
training images of each seed, this prints the RMS over weight draws and
over every mean of the network of

  * the likelihood gradient d NLL_sum / d mu of one draw, and its part
    common to all draws (the expected gradient on that minibatch, estimated
    from the spread of the draws);
  * the detached ln q term, (T / n_b) d ln q / d mu, at T = 1,

measured as the difference between the gradients of the two conventions.
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


def rms(ts):
    return math.sqrt(float(torch.cat([t.flatten() for t in ts]).pow(2).mean()))


def measure(model, x, y, nb, draws, seed):
    """RMS of the likelihood gradient (single draws, and the part common to
    all draws) and of the detached term at T = 1."""
    nll_g, noise = [], []
    for d in range(draws):
        nll_g.append(mean_grads(model, x, y, nb, 1.0, False, True, 1000 * seed + d))
        det = mean_grads(model, x, y, nb, 1.0, True, False, 1000 * seed + d)
        tot = mean_grads(model, x, y, nb, 1.0, False, False, 1000 * seed + d)
        noise += [det[n] - tot[n] for n in det]
    single = rms([t for g in nll_g for t in g.values()])
    mean = rms([sum(g[n] for g in nll_g) / draws for n in nll_g[0]])
    # E|mean|^2 = |common|^2 + var / k and E|single|^2 = |common|^2 + var
    common = math.sqrt(max(0.0, (draws * mean**2 - single**2) / (draws - 1)))
    return single, common, rms(noise)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full-tgz", required=True)
    ap.add_argument("--draws", type=int, default=10)
    ap.add_argument("--at", default="0,10,30", help="epochs of training (total derivative, T = 1, lr 1e-4)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    xtr, ytr, _, _ = M.load(a.full_tgz)
    xc, yc = M.subset(xtr, ytr, M.CONF)
    nb = math.ceil(584 / 50)
    at = [int(e) for e in a.at.split(",")]
    print(f"n_b = {nb} minibatches of 50; RMS over {a.draws} draws and every mean of the network;")
    print("the detached term scales with T, so at T = 0.01 its ratio is 1/100 of the T = 1 column.\n")
    print("| seed | epochs trained | d NLL_sum / d mu, one draw | its part common to the draws | detached term at T = 1 | term / common part, T = 1 | same, T = 0.01 |")
    print("|---|---|---|---|---|---|---|")
    for seed in (0, 1, 2):
        torch.manual_seed(seed)
        perm = torch.from_numpy(np.random.default_rng(seed).permutation(len(yc)))
        tr = perm[:584]
        x, y = xc[tr[:50]], yc[tr[:50]]
        model = R.BBBConvNet("exp")
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        done = 0
        for epoch in at:
            R.LOG_Q_DETACH = False
            while done < epoch:
                R.bbb_epoch(model, opt, xc[tr], yc[tr], temp=1.0)
                done += 1
            s, c, n = measure(model, x, y, nb, a.draws, seed)
            print(f"| {seed} | {epoch} | {s:.3g} | {c:.3g} | {n:.3g} | {n / c:.3g} | {n / c / 100:.3g} |",
                  flush=True)


if __name__ == "__main__":
    main()
