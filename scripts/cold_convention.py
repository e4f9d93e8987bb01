#!/usr/bin/env python3
"""Does the cold-posterior effect follow the `ln q` gradient convention?
(docs/bayes.md, issue 34.)

Joins, for each implementation, the runs at T = 1 and at T = 0.01 of the
same setting (lr 1e-4, 300 epochs) under both conventions, and tests, paired
by seed (two-sided paired t-test, SciPy's ttest_rel):

  * at each T, DetachedMu - Total;
  * for each convention, T = 1 - T = 0.01 (the cold-posterior effect);
  * the interaction, (T1 - T0.01 | DetachedMu) - (T1 - T0.01 | Total).

fanaroff:  T = 1 from `sweep collect` of experiments/recipe/bbb_t1.toml
           (docs/bayes/recipe_t1/runs.csv), T = 0.01 from the lr 1e-4 column
           of the 2 x 2 grid (docs/bayes/recipe_2x2/runs.csv), seeds present
           in both.
PyTorch:   ../shared/bench/torch_mbconf.py JSONs, LOGQ_TT_sS.json
           (docs/bayes/torch_converse/).

Only seeds with all four cells of an implementation enter its tests; a
test needs at least two seeds. Writes markdown to stdout.

  python3 scripts/cold_convention.py > docs/bayes/cold_convention.md
"""
import argparse
import csv
import glob
import json
import os
import re
import statistics

from scipy import stats

CONVENTIONS = ("Total", "DetachedMu")
TEMPS = ("1", "0.01")


def fanaroff_cells(t1_csv, grid_csv, lr="0.0001"):
    """{(convention, T): {seed: (test error %, entropy bits)}} for fanaroff."""
    cells = {}
    for path, temp in ((t1_csv, "1"), (grid_csv, "0.01")):
        for r in csv.DictReader(open(path)):
            if temp == "0.01" and r["training.optimizer.lr"] != lr:
                continue
            key = (r["model.variational.log_q_gradient"], temp)
            value = (100 * float(r["test_error_mean"]), float(r["entropy_confident"]))
            cells.setdefault(key, {})[int(r["seed"])] = value
    return cells


def torch_cells(folder):
    """The same mapping for the PyTorch runs."""
    names = {"total": "Total", "detached": "DetachedMu"}
    cells = {}
    for path in sorted(glob.glob(os.path.join(folder, "*_T*_s*.json"))):
        m = re.match(r"(total|detached)_T([0-9.]+)_s(\d+)\.json$", os.path.basename(path))
        if not m:
            continue
        r = json.load(open(path))
        key = (names[m.group(1)], m.group(2))
        cells.setdefault(key, {})[int(m.group(3))] = (r["test_err_mean"], r["entropy_conf"])
    return cells


def fmt_mean(values):
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}"


def cell_table(name, cells):
    lines = [f"### {name}: test error (%) per seed", "",
             "| ln q gradient | T | seeds | per seed | mean ± std | entropy, confident test (bits) |",
             "|---|---|---|---|---|---|"]
    for conv in CONVENTIONS:
        for temp in TEMPS:
            c = cells.get((conv, temp), {})
            seeds = sorted(c)
            errs = [c[s][0] for s in seeds]
            ents = [c[s][1] for s in seeds]
            per_seed = ", ".join(f"{e:.1f}" for e in errs) or "-"
            ent = f"{statistics.mean(ents):.3f}" if ents else "-"
            lines.append(f"| {conv} | {temp} | {', '.join(map(str, seeds)) or '-'} "
                         f"| {per_seed} | {fmt_mean(errs)} | {ent} |")
    return lines


def paired(label, a, b):
    """b - a over the seeds both have: a markdown row, or None."""
    seeds = sorted(set(a) & set(b))
    if len(seeds) < 2:
        return f"| {label} | {len(seeds)} | - | - | - |"
    d = [b[s] - a[s] for s in seeds]
    t, p = stats.ttest_rel([b[s] for s in seeds], [a[s] for s in seeds])
    return (f"| {label} | {len(seeds)} ({', '.join(map(str, seeds))}) "
            f"| {statistics.mean(d):+.1f} ± {statistics.stdev(d):.1f} | {t:.2f} | {p:.3g} |")


def tests_table(name, cells):
    err = {k: {s: v[0] for s, v in c.items()} for k, c in cells.items()}
    get = lambda conv, temp: err.get((conv, temp), {})
    cold = {conv: {s: get(conv, "1")[s] - get(conv, "0.01")[s]
                   for s in set(get(conv, "1")) & set(get(conv, "0.01"))}
            for conv in CONVENTIONS}
    lines = [f"### {name}: paired differences of the test error (points)", "",
             "| difference (b - a) | seeds | mean ± std | t | p |", "|---|---|---|---|---|"]
    for temp in TEMPS:
        lines.append(paired(f"DetachedMu - Total at T = {temp}",
                            get("Total", temp), get("DetachedMu", temp)))
    for conv in CONVENTIONS:
        lines.append(paired(f"T = 1 - T = 0.01 with {conv}", get(conv, "0.01"), get(conv, "1")))
    lines.append(paired("interaction: cold effect with DetachedMu - with Total",
                        cold["Total"], cold["DetachedMu"]))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--t1", default="docs/bayes/recipe_t1/runs.csv")
    ap.add_argument("--grid", default="docs/bayes/recipe_2x2/runs.csv")
    ap.add_argument("--torch", default="docs/bayes/torch_converse")
    a = ap.parse_args()
    for path in (a.t1, a.grid, a.torch):
        if not os.path.exists(path):
            raise SystemExit(f"{path}: not found (run from the repository root, or pass --t1/--grid/--torch)")
    out = ["# The cold-posterior effect against the ln q gradient convention", "",
           "Made by `python3 scripts/cold_convention.py` from "
           f"`{a.t1}`, `{a.grid}` (lr 1e-4) and `{a.torch}/*.json`.", ""]
    for name, cells in (("fanaroff", fanaroff_cells(a.t1, a.grid)),
                        ("PyTorch", torch_cells(a.torch))):
        out += cell_table(name, cells) + [""] + tests_table(name, cells) + [""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
