#!/usr/bin/env python3
"""Accuracy against training length for the attention-gated network
(docs/attention.md, issue 34), from the committed histories of
experiments/attention/curve.toml.

Each run's `history.csv` has one row per epoch (`passes_per_epoch`
augmented passes over the training images) with the validation NLL, and,
at the epochs of `evaluation.test_at_epochs`, the test accuracy
(`test_acc`; never used for selection). This script

  * draws validation NLL and test accuracy against passes (log axis) for
    every seed, with the study code's 7,200 passes and the paper's 91.7 %
    (one run of another cell) marked, into a PNG;
  * prints a markdown table of the probes, and the least-squares line of
    test accuracy against log10(passes) over the probes at 100 passes and
    beyond, pooled over seeds, evaluated at 7,200 passes: a trend, not a
    prediction with an error bar.

Needs numpy and matplotlib.

  python3 scripts/attention_curve.py docs/attention/curve/runs/0000 ... \
      --passes-per-epoch 10 --png docs/attention/curve/curve.png
"""
import argparse
import csv
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

STUDY_PASSES = 7200
PAPER_ACC = 91.7


def number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def history(run):
    """The rows of a run's history, as dicts of floats (NaN for empty cells)."""
    path = Path(run) / "history.csv"
    if not path.exists():
        raise SystemExit(f"{path}: no history (is {run} a finished or running run folder?)")
    return [{k: number(v) for k, v in r.items()} for r in csv.DictReader(open(path))]


def label(run):
    """The run folder's name (its parent's for a `ckpt` folder)."""
    p = Path(run)
    return p.parent.name if p.name == "ckpt" else p.name


def probes(rows, per_epoch):
    """(passes, test accuracy %, validation NLL) at the test probes."""
    out = []
    for r in rows:
        if not math.isnan(r.get("test_acc", math.nan)):
            out.append((r["epoch"] * per_epoch, 100 * r["test_acc"], r["val_nll"]))
    return out


def trend(points, from_passes=100):
    """Least-squares line of accuracy on log10(passes), evaluated at 7,200."""
    pts = [(math.log10(p), a) for p, a, _ in points if p >= from_passes]
    if len({x for x, _ in pts}) < 2:
        return None
    x, y = np.array(pts).T
    slope, icept = np.polyfit(x, y, 1)
    return slope, icept + slope * math.log10(STUDY_PASSES)


def draw(runs, per_epoch, png):
    fig, (ax_nll, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for run, rows in runs:
        passes = [r["epoch"] * per_epoch for r in rows]
        name = label(run)
        ax_nll.plot(passes, [r["val_nll"] for r in rows], label=name)
        pr = probes(rows, per_epoch)
        if pr:
            ax_acc.plot([p for p, _, _ in pr], [a for _, a, _ in pr], "o-", label=name)
    for ax in (ax_nll, ax_acc):
        ax.set_xscale("log")
        ax.axvline(STUDY_PASSES, color="grey", ls=":", label="study code's 7,200 passes")
        ax.set_xlabel("augmented passes over the training images")
        ax.set_xlim(left=per_epoch * 0.8, right=STUDY_PASSES * 1.3)
    ax_acc.axhline(PAPER_ACC, color="red", ls="--", label="paper, range x fine-tuned (1 run)")
    ax_nll.set_ylabel("validation NLL (selection)")
    ax_acc.set_ylabel("test accuracy (%)")
    ax_acc.legend(fontsize=7)
    ax_nll.legend(fontsize=7)
    fig.suptitle("softmax x mean, constant lr 5e-5, batch 16 (experiments/attention/curve.toml)")
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--passes-per-epoch", type=int, default=10)
    ap.add_argument("--png", required=True)
    a = ap.parse_args()
    runs = [(r, history(r)) for r in a.runs]
    draw(runs, a.passes_per_epoch, a.png)
    print("| run | passes | test accuracy (%) | validation NLL at that epoch | best validation NLL so far |")
    print("|---|---|---|---|---|")
    pooled = []
    for run, rows in runs:
        for p, acc, vnll in probes(rows, a.passes_per_epoch):
            best = min(r["val_nll"] for r in rows if r["epoch"] * a.passes_per_epoch <= p)
            print(f"| {label(run)} | {p:.0f} | {acc:.1f} | {vnll:.4f} | {best:.4f} |")
            pooled.append((p, acc, vnll))
    t = trend(pooled)
    if t:
        print(f"\nTrend over the probes at 100 passes and beyond: {t[0]:+.2f} points per decade of passes;"
              f" at {STUDY_PASSES:,} passes it reaches {t[1]:.1f} %.")
    epochs = max(len(rows) for _, rows in runs)
    print(f"Longest run: {epochs} epochs = {epochs * a.passes_per_epoch} passes. Figure: {a.png}")


if __name__ == "__main__":
    main()
