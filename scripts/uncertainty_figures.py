"""Figures of the uncertainty study (docs/uncertainty.md) from committed records.

    python3 scripts/uncertainty_figures.py docs/uncertainty/small docs/uncertainty/ensemble

Needs numpy, matplotlib and the `fanaroff` Python package
(`pip install ./crates/fanaroff-py`), whose binning is the study's.

1. `docs/uncertainty/reliability_equal_mass.png`: top-label reliability
   diagrams with 10 equal-mass bins, one panel per method, the three seeds'
   test predictives pooled (`<dir>/predictive/<run>/<method>_test.npy`,
   saved by the study). Each panel's title gives the mean ± sd over seeds
   of the per-seed equal-mass ECE; the script checks that it recomputes
   each seed's value in `rows.csv` (`ece_adaptive`) within 1e-12.
2. `docs/uncertainty/ood_auroc.png`: AUROC of every score against every
   shifted set (shifted images positive), mean over seeds, from `rows.csv`.
"""
import csv
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fanaroff.calibrate as fc  # noqa: E402

BINS = 10
PANELS = [
    ("lenet", "lenet", "LeNet"),
    ("lenet", "laplace_ggn_kron_marginal_likelihood", "LeNet + LA kron (evidence)"),
    ("lenet", "laplace_ggn_diag_validation_nll", "LeNet + LA diag (val NLL)"),
    ("mc_dropout", "mc_dropout_lenet", "MC dropout"),
    ("bbb", "bbb_lenet", "BBB LeNet"),
    ("ensemble", "ensemble", "ensemble of 5 LeNets"),
    ("attention", "attention_net", "attention net (10 epochs)"),
    ("attention", "laplace_ggn_kron_marginal_likelihood", "attention + LA kron (evidence)"),
]
SETS = ["uncertain", "hybrid", "synthetic", "noisy"]
SCORES = ["max_softmax", "entropy", "mutual_information", "max_logit", "energy", "mahalanobis"]


def rows_of(dirs):
    rows = []
    for d in dirs:
        for r in csv.DictReader(open(Path(d) / "rows.csv")):
            # an ensemble folder also holds its first member's rows (as `lenet`)
            if r.get("variant") or r["method"] == "ensemble":
                rows.append(r)
    return rows


def runs_of(dirs):
    """(variant, seed) -> run folder holding `predictive/`, from runs.csv."""
    out = {}
    for d in dirs:
        for r in csv.DictReader(open(Path(d) / "runs.csv")):
            out[(r.get("variant") or "ensemble", r["seed"])] = Path(d) / "predictive" / f"{int(r['index']):04d}"
    return out


def panel_data(runs, rows, variant, method):
    probs, labels, eces = [], [], []
    for seed in ("0", "1", "2"):
        folder = runs[(variant, seed)]
        p = np.load(folder / f"{method}_test.npy")
        y = np.load(folder / "labels_test.npy")
        mine = fc.ece(p, y, BINS, "mass")
        stored = [float(r["ece_adaptive"]) for r in rows
                  if r["method"] == method and r["set"] == "test" and r["seed"] == seed
                  and (r.get("variant") or "ensemble") == variant]
        assert len(stored) == 1 and abs(stored[0] - mine) < 1e-12, (variant, method, seed, stored, mine)
        probs.append(p)
        labels.append(y)
        eces.append(mine)
    return np.concatenate(probs), np.concatenate(labels), eces


def reliability(dirs, rows, out):
    runs = runs_of(dirs)
    fig, axes = plt.subplots(2, 4, figsize=(14, 7.2), sharex=True, sharey=True)
    for ax, (variant, method, title) in zip(axes.ravel(), PANELS):
        p, y, eces = panel_data(runs, rows, variant, method)
        b = fc.reliability_bins(p, y, BINS, "mass")
        ax.plot([0.5, 1], [0.5, 1], color="grey", lw=0.8, ls="--")
        for lo, hi, acc in zip(b["lower"], b["upper"], b["accuracy"]):
            ax.fill_between([lo, hi], [0.5, 0.5], [acc, acc], color="tab:blue", alpha=0.25, lw=0)
        ax.plot(b["confidence"], b["accuracy"], "o-", color="tab:blue", ms=4)
        ax.set_title(f"{title}\nECE (equal mass) {np.mean(eces):.3f} ± {np.std(eces, ddof=1):.3f}", fontsize=9)
        ax.set_xlim(0.5, 1.0)
        ax.set_ylim(0.3, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("confidence (mean in bin)")
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy in bin")
    fig.suptitle("MBFRConfident test images, seeds 0-2 pooled (312 images), 10 equal-mass bins; "
                 "shaded: each bin's span of confidence", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def method_label(r):
    v, m = r.get("variant") or "ensemble", r["method"]
    if m.startswith("laplace"):
        return f"{v} + LA " + m.replace("laplace_ggn_", "").replace("_marginal_likelihood", " (ev.)").replace(
            "_validation_nll", " (val)")
    return v


def ood(rows, out):
    cells = defaultdict(list)
    order = []
    for r in rows:
        if r["set"] not in SETS or r["auroc"] in ("", "null", "NaN"):
            continue
        name = method_label(r)
        if name not in order:
            order.append(name)
        cells[(name, r["set"], r["score"])].append(float(r["auroc"]))
    fig, axes = plt.subplots(1, 4, figsize=(17, 6.5), sharey=True)
    for ax, s in zip(axes, SETS):
        grid = np.array([[np.mean(cells[(m, s, sc)]) if cells[(m, s, sc)] else np.nan for sc in SCORES]
                         for m in order])
        im = ax.imshow(grid, vmin=0, vmax=1, cmap="RdBu_r", aspect="auto")
        for i in range(len(order)):
            for j in range(len(SCORES)):
                if not np.isnan(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=7)
        ax.set_xticks(range(len(SCORES)), [s.replace("_", " ") for s in SCORES], rotation=40, ha="right",
                      fontsize=8)
        ax.set_title(f"against {s}", fontsize=10)
    axes[0].set_yticks(range(len(order)), order, fontsize=8)
    fig.colorbar(im, ax=axes, shrink=0.7, label="AUROC (shifted images positive), mean over seeds 0-2")
    fig.suptitle("Out-of-distribution detection: near (MBFRUncertain, hybrids) and far (synthetic, noisy at SNR 5)",
                 fontsize=11)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    print(f"wrote {out}")


def main(dirs):
    rows = rows_of(dirs)
    docs = Path(dirs[0]).parent
    reliability(dirs, rows, docs / "reliability_equal_mass.png")
    ood(rows, docs / "ood_auroc.png")


if __name__ == "__main__":
    main(sys.argv[1:])
