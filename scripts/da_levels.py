"""The stage-1 rule of domain adaptation (experiments/robustness/da_oracle.toml):
per noise level, the oracle trained at that level minus the clean model, in
accuracy points, on the noisy validation rows (the rule) and on the noisy test
rows (reported only), with a paired t-test over seeds.

    python3 scripts/da_levels.py docs/robustness/da_oracle/rows.csv [docs/robustness/da_oracle_val/rows.csv]

With the second file (experiments/robustness/da_oracle_val.toml: the same
models re-measured, validation copies made from clean validation images) the
validation rows come from it; its runs name their model by `study.from`
(`.../runs/NNNN`), mapped to variant and seed through the first file's
runs.csv. Test rows always come from the first file.
"""
import csv
import math
import os
import sys
from statistics import mean, stdev


def t_test(d):
    n = len(d)
    s = stdev(d) if n > 1 else float("nan")
    t = mean(d) / (s / math.sqrt(n)) if s > 0 else float("inf")
    # two-sided p from Student's t with n - 1 degrees of freedom; closed
    # form for 2 (three seeds): P(|T| > t) = 1 - t / sqrt(2 + t^2)
    p = 1 - abs(t) / math.sqrt(2 + t * t) if n == 3 else float("nan")
    return t, p


def read(path, key_of, splits):
    acc = {}
    for r in csv.DictReader(open(path)):
        if r["test"] != "gaussian_snr" or r["split"] not in splits:
            continue
        variant, seed = key_of(r)
        acc[(variant, r["split"], float(r["level"]), seed)] = float(r["accuracy"])
    return acc


def main(path, val_path=None):
    own = lambda r: (r["variant"], int(r["seed"]))
    if val_path is None:
        acc = read(path, own, ("val", "test"))
    else:
        runs = os.path.join(os.path.dirname(path), "runs.csv")
        by_index = {int(r["index"]): (r["variant"], int(r["seed"])) for r in csv.DictReader(open(runs))}
        source = lambda r: by_index[int(r["study.from"].rstrip("/").split("/")[-1])]
        acc = read(path, own, ("test",))
        acc.update(read(val_path, source, ("val",)))
    print("| level | split | clean (%) | oracle (%) | oracle - clean (points) | t | p | rule (>= 15 on val) |")
    print("|---|---|---|---|---|---|---|---|")
    for level in (20.0, 10.0, 5.0):
        oracle = f"oracle_snr{int(level)}"
        for split in ("val", "test"):
            seeds = sorted(s for (v, sp, lv, s) in acc if v == "clean" and sp == split and lv == level)
            c = [100 * acc[("clean", split, level, s)] for s in seeds]
            o = [100 * acc[(oracle, split, level, s)] for s in seeds]
            d = [b - a for a, b in zip(c, o)]
            t, p = t_test(d)
            rule = ("yes" if mean(d) >= 15 else "no") if split == "val" else ""
            print(f"| {level:g} | {split} | {mean(c):.1f} ± {stdev(c):.1f} | {mean(o):.1f} ± {stdev(o):.1f} | "
                  f"{mean(d):+.1f} | {t:.2f} | {p:.3f} | {rule} |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
