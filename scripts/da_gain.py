#!/usr/bin/env python3
"""Domain adaptation against its oracle (docs/robustness.md, stage 2).

    python3 scripts/da_gain.py ORACLE_ROWS ORACLE_VAL_ROWS MMD_ROWS [--level 20]

ORACLE_ROWS: rows.csv of experiments/robustness/da_oracle.toml (test rows of
the clean model and of the oracles); ORACLE_VAL_ROWS: rows.csv of
da_oracle_val.toml (their unbiased validation rows); MMD_ROWS: rows.csv of
da_mmd.toml (axes step.lambda, step.kernel, seed).

For each kernel, lambda is chosen on the mean validation accuracy at the
target level (noisy validation copies); the test accuracy of that lambda
is then compared with the clean model and the oracle of the same seed:
gain = (DA - clean) / (oracle - clean), per seed. The paper's 2.3x
quantity is the flip distance (penultimate distance between an image and
its misclassified perturbed copy, over the distance between the clean
class centroids), DA over clean, per seed. Paired t-tests over seeds,
two-sided. Prints markdown tables.
"""
import argparse
import csv
import math
import statistics as st
from collections import defaultdict

from scipy import stats


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def val_rows(oracle_rows, val_path):
    """The re-measured rows, named by the variant of the run they loaded
    (`study.from = .../runs/NNNN`, NNNN an index of the oracle sweep)."""
    runs = oracle_rows.replace("rows.csv", "runs.csv")
    by_index = {int(r["index"]): (r["variant"], r["seed"]) for r in rows(runs)}
    out = []
    for r in rows(val_path):
        variant, seed = by_index[int(r["study.from"].rstrip("/").split("/")[-1])]
        out.append(dict(r, variant=variant, seed=seed))
    return out


def num(v):
    return None if v in ("", "null", None) else float(v)


def acc_at(table, level, split, key):
    """{(key..., seed): accuracy} of the gaussian_snr rows at `level`."""
    out = {}
    for r in table:
        if r["test"] == "gaussian_snr" and r["split"] == split and float(r["level"]) == level:
            out[tuple(r[k] for k in key) + (int(r["seed"]),)] = float(r["accuracy"])
    return out


def flip(table, key):
    out = {}
    for r in table:
        if r["test"] == "flip_distance" and num(r["normalised_distance"]) is not None:
            out[tuple(r[k] for k in key) + (int(r["seed"]),)] = float(r["normalised_distance"])
    return out


def mean_sd(xs):
    return st.mean(xs), (st.stdev(xs) if len(xs) > 1 else float("nan"))


def paired(a, b):
    d = [x - y for x, y in zip(a, b)]
    if len(d) < 2 or all(v == d[0] for v in d):
        return float("nan"), float("nan")
    t, p = stats.ttest_rel(a, b)
    return t, p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("oracle")
    ap.add_argument("oracle_val")
    ap.add_argument("mmd")
    ap.add_argument("--level", type=float, default=20.0)
    a = ap.parse_args()
    lv = a.level
    oracle = f"oracle_snr{int(lv)}"
    o_test = acc_at(rows(a.oracle), lv, "test", ["variant"])
    o_val = acc_at(val_rows(a.oracle, a.oracle_val), lv, "val", ["variant"])
    o_flip = flip(rows(a.oracle), ["variant"])
    m = rows(a.mmd)
    m_val = acc_at(m, lv, "val", ["step.kernel", "step.lambda"])
    m_test = acc_at(m, lv, "test", ["step.kernel", "step.lambda"])
    m_flip = flip(m, ["step.kernel", "step.lambda"])
    by = defaultdict(lambda: defaultdict(dict))
    for (k, lam, s), v in m_val.items():
        by[k][lam][s] = v
    print(f"### Choice of lambda on validation (SNR {lv:g}, accuracy %)\n")
    print("| kernel | lambda | seeds | val accuracy | test accuracy |")
    print("|---|---|---|---|---|")
    chosen = {}
    for k in sorted(by):
        best = None
        for lam in sorted(by[k], key=float):
            seeds = sorted(by[k][lam])
            va = mean_sd([by[k][lam][s] * 100 for s in seeds])
            te = [m_test[(k, lam, s)] * 100 for s in seeds if (k, lam, s) in m_test]
            tm = mean_sd(te) if te else (float("nan"), float("nan"))
            print(f"| {k} | {lam} | {len(seeds)} | {va[0]:.1f} ± {va[1]:.1f} | {tm[0]:.1f} ± {tm[1]:.1f} |")
            if best is None or va[0] > best[1]:
                best = (lam, va[0])
        chosen[k] = best[0]
    print(f"\n### The chosen lambda against the clean model and the oracle (test, SNR {lv:g})\n")
    print("| kernel | lambda | seeds | clean (%) | DA (%) | oracle (%) | DA - clean (points) | t | p | gain / oracle gap | flip distance clean | DA | DA / clean | t | p |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for k, lam in chosen.items():
        seeds = sorted(s for (kk, ll, s) in m_test if kk == k and ll == lam
                       and ("clean", s) in o_test and (oracle, s) in o_test)
        c = [o_test[("clean", s)] * 100 for s in seeds]
        d = [m_test[(k, lam, s)] * 100 for s in seeds]
        o = [o_test[(oracle, s)] * 100 for s in seeds]
        t, p = paired(d, c)
        gain = [(x - y) / (z - y) for x, y, z in zip(d, c, o)]
        fs = [s for s in seeds if ("clean", s) in o_flip and (k, lam, s) in m_flip]
        fc = [o_flip[("clean", s)] for s in fs]
        fd = [m_flip[(k, lam, s)] for s in fs]
        ratio = [x / y for x, y in zip(fd, fc)]
        ft, fp = paired(fd, fc)
        cm, dm, om, gm, rm = mean_sd(c), mean_sd(d), mean_sd(o), mean_sd(gain), mean_sd(ratio) if ratio else (math.nan, math.nan)
        diff = mean_sd([x - y for x, y in zip(d, c)])
        fcm, fdm = (mean_sd(fc), mean_sd(fd)) if fs else ((math.nan,) * 2, (math.nan,) * 2)
        print(f"| {k} | {lam} | {len(seeds)} | {cm[0]:.1f} ± {cm[1]:.1f} | {dm[0]:.1f} ± {dm[1]:.1f} | {om[0]:.1f} ± {om[1]:.1f} "
              f"| {diff[0]:+.1f} ± {diff[1]:.1f} | {t:.2f} | {p:.3f} | {gm[0]:.2f} ± {gm[1]:.2f} "
              f"| {fcm[0]:.3f} | {fdm[0]:.3f} | {rm[0]:.2f} ± {rm[1]:.2f} | {ft:.2f} | {fp:.3f} |")
    kernel_difference(chosen, m_test)
    if ("clean", 0) in o_flip and (oracle, 0) in o_flip:
        seeds = sorted(s for (v, s) in o_flip if v == "clean" and (oracle, s) in o_flip)
        r = [o_flip[(oracle, s)] / o_flip[("clean", s)] for s in seeds]
        print(f"\nOracle flip distance over clean: {mean_sd(r)[0]:.2f} ± {mean_sd(r)[1]:.2f} ({len(seeds)} seeds).")
    vs = sorted(s for (v, s) in o_val if v == "clean")
    if vs:
        print(f"Validation, clean / oracle: {mean_sd([o_val[('clean', s)] * 100 for s in vs])[0]:.1f} / "
              f"{mean_sd([o_val[(oracle, s)] * 100 for s in vs if (oracle, s) in o_val])[0]:.1f} %.")


def kernel_difference(chosen, m_test):
    """The first kernel minus the second, each at its own chosen lambda,
    on the noisy test copies, paired by seed."""
    if len(chosen) != 2:
        return
    (k1, l1), (k2, l2) = sorted(chosen.items(), reverse=True)
    seeds = sorted(s for (k, lam, s) in m_test if k == k1 and lam == l1 and (k2, l2, s) in m_test)
    a = [m_test[(k1, l1, s)] * 100 for s in seeds]
    b = [m_test[(k2, l2, s)] * 100 for s in seeds]
    d = mean_sd([x - y for x, y in zip(a, b)])
    t, p = paired(a, b)
    print(f"\nKernels at their chosen lambda, {k1} ({l1}) minus {k2} ({l2}) on the noisy test copies: "
          f"{d[0]:+.1f} ± {d[1]:.1f} points (paired t-test, {len(seeds)} seeds: t = {t:.2f}, p = {p:.3f}).")


if __name__ == "__main__":
    main()
