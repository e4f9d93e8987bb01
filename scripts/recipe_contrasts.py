#!/usr/bin/env python3
"""Cells and paired contrasts of a 2 x 2 recipe grid (docs/bayes.md).

Reads the `runs.csv` that `fanaroff sweep collect` wrote for a grid with two
setting axes and a seed axis, and writes next to it

  cells.csv      every cell: seeds, mean and sample std of each metric;
  contrasts.csv  for each pair of cells (a, b) where b is at or above a on
                 both axes (each axis's first value in runs.csv is its
                 baseline): one axis changed with the other held, and both
                 changed; b - a paired by seed: n, mean, std, t and the
                 two-sided p of the paired t-test (SciPy's ttest_rel).

  python3 scripts/recipe_contrasts.py docs/bayes/recipe_2x2/runs.csv \
      --metrics test_error_mean,test_error_predictive,nll,uce,entropy_confident
"""
import argparse
import csv
import itertools
import os
import statistics

from scipy import stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs_csv")
    ap.add_argument("--metrics", default="test_error_mean,nll,uce")
    a = ap.parse_args()
    metrics = a.metrics.split(",")
    rows = list(csv.DictReader(open(a.runs_csv)))
    head = list(rows[0].keys())
    axes = head[1:head.index("seed")]
    if len(axes) != 2:
        raise SystemExit(f"expected two setting axes before seed, found {axes}")
    cells = {}
    for r in rows:
        cells.setdefault(tuple(r[x] for x in axes), {})[int(r["seed"])] = r
    out = os.path.dirname(os.path.abspath(a.runs_csv))
    with open(os.path.join(out, "cells.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(axes + ["seeds"] + [f"{m}_{s}" for m in metrics for s in ("mean", "std")])
        for key, by_seed in cells.items():
            line = list(key) + [" ".join(str(s) for s in sorted(by_seed))]
            for m in metrics:
                v = [float(by_seed[s][m]) for s in sorted(by_seed)]
                line += [statistics.mean(v), statistics.stdev(v) if len(v) > 1 else ""]
            w.writerow(line)
    # each axis's values in order of first appearance: the first is the baseline
    order = [list(dict.fromkeys(r[x] for r in rows)) for x in axes]
    rank = {k: tuple(order[i].index(v) for i, v in enumerate(k)) for k in cells}
    with open(os.path.join(out, "contrasts.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"{x}_from" for x in axes] + [f"{x}_to" for x in axes]
                   + ["metric", "n", "mean", "std", "t", "p"])
        # every pair (a, b) with b at or above a on both axes: b - a
        for a_key, b_key in itertools.permutations(cells, 2):
            if not all(i <= j for i, j in zip(rank[a_key], rank[b_key])):
                continue
            seeds = sorted(set(cells[a_key]) & set(cells[b_key]))
            for m in metrics:
                x = [float(cells[a_key][s][m]) for s in seeds]
                y = [float(cells[b_key][s][m]) for s in seeds]
                d = [yi - xi for xi, yi in zip(x, y)]
                t, p = stats.ttest_rel(y, x) if len(d) > 1 else (float("nan"),) * 2
                w.writerow(list(a_key) + list(b_key) + [m, len(d), statistics.mean(d),
                           statistics.stdev(d) if len(d) > 1 else "", t, p])


if __name__ == "__main__":
    main()
