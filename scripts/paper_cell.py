#!/usr/bin/env python3
"""A cell's seeds against a published single run (docs/attention.md,
issue 34: the paper's range x fine-tuned cell, 91.7 % from one run).

Reads the `runs.csv` of `fanaroff sweep collect` and prints, as markdown,
each seed's test accuracy (100 - the error of the predictive mean, %), the
mean and sample standard deviation over seeds, and where the published
number falls among them: as a new draw from the seeds' distribution,
t = (published - mean) / (sd sqrt(1 + 1/n)) with n - 1 degrees of freedom
(two-sided). A published number from one run is one run, not a mean, so
this is the comparison that fits it.

  python3 scripts/paper_cell.py docs/attention/paper_cell/runs.csv --published 91.7
"""
import argparse
import csv
import math
import statistics

from scipy import stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs_csv")
    ap.add_argument("--published", type=float, required=True, help="accuracy (%%) of the published run")
    ap.add_argument("--metric", default="test_error_predictive")
    a = ap.parse_args()
    rows = list(csv.DictReader(open(a.runs_csv)))
    if not rows:
        raise SystemExit(f"{a.runs_csv}: no runs")
    head = list(rows[0].keys())
    axes = [c for c in head[1:head.index("seed")] if len({r[c] for r in rows}) > 1]
    if axes:
        raise SystemExit(f"{a.runs_csv}: more than one cell (axes {axes}); give the runs of one cell")
    acc = {int(r["seed"]): 100 * (1 - float(r[a.metric])) for r in rows}
    print("| seed | test accuracy (%) | epochs run | best epoch | training (h) |")
    print("|---|---|---|---|---|")
    for r in rows:
        hours = float(r["train_seconds"]) / 3600
        print(f"| {r['seed']} | {acc[int(r['seed'])]:.1f} | {r['epochs_run']} | {r['best_epoch']} | {hours:.1f} |")
    vals = list(acc.values())
    n = len(vals)
    if n < 2:
        print(f"\n{n} seed: no spread, no test.")
        return
    mean, sd = statistics.mean(vals), statistics.stdev(vals)
    t = (a.published - mean) / (sd * math.sqrt(1 + 1 / n))
    p = 2 * stats.t.sf(abs(t), n - 1)
    print(f"\nMean over {n} seeds: {mean:.1f} ± {sd:.1f} %. The published {a.published} % as a new draw:"
          f" t = {t:.2f}, {n - 1} degrees of freedom, two-sided p = {p:.3g}.")


if __name__ == "__main__":
    main()
