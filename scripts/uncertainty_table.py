"""Tables of the uncertainty study from collected rows (docs/uncertainty.md).

    python3 scripts/uncertainty_table.py docs/uncertainty/small/rows.csv [docs/uncertainty/ensemble/rows.csv]

Methods are labelled `<variant>` for the trained model itself and
`<variant> + <laplace method>` for its Laplace posteriors; rows of a second
file add their `ensemble` method. Values are mean ± sample std over seeds.
Near-OOD: MBFRUncertain and the hybrids; far-OOD: synthetic galaxies and
noisy copies (peak SNR 5); the AUROC columns of the main table use the
predictive entropy, a score every method has.
"""
import csv
import sys
from collections import defaultdict
from statistics import mean, stdev


def label(r):
    m, v = r["method"], r.get("variant", "")
    if m.startswith("laplace"):
        return f"{v} + {m.replace('laplace_ggn_', 'LA ').replace('_marginal_likelihood', ' (evidence)').replace('_validation_nll', ' (val NLL)')}"
    if m == "ensemble":
        return "ensemble of 5 LeNets"
    return v or m


def load(paths, second_only=None):
    cells = defaultdict(list)
    order = []
    for k, path in enumerate(paths):
        for r in csv.DictReader(open(path)):
            if k > 0 and r["method"] != "ensemble":
                continue
            name = label(r)
            if name not in order:
                order.append(name)
            cells[(name, r["set"], r["score"])].append(r)
    return cells, order


def ms(rows, key, scale=1.0, digits=3):
    v = [float(r[key]) * scale for r in rows if r.get(key) not in (None, "", "null", "NaN")]
    if not v:
        return "–"
    s = stdev(v) if len(v) > 1 else 0.0
    return f"{mean(v):.{digits}f} ± {s:.{digits}f}"


def main(paths):
    cells, order = load(paths)
    print("| method | seeds | error (%) | NLL | ECE | ECE (equal mass) | UCE | AURC | set size | coverage | worst class | near-OOD AUROC | far-OOD AUROC |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for m in order:
        t = cells[(m, "test", "")]
        near = [r for s in ("uncertain", "hybrid") for r in cells[(m, s, "entropy")]]
        far = [r for s in ("synthetic", "noisy") for r in cells[(m, s, "entropy")]]
        seeds = ",".join(sorted({r["seed"] for r in t}))
        print(f"| {m} | {seeds} | {ms(t, 'error', 100, 2)} | {ms(t, 'nll')} | {ms(t, 'ece')} | {ms(t, 'ece_adaptive')} | "
              f"{ms(t, 'uce')} | {ms(t, 'aurc')} | {ms(t, 'set_size', 1, 2)} | {ms(t, 'coverage')} | "
              f"{ms(t, 'coverage_worst_class')} | {ms(near, 'auroc')} | {ms(far, 'auroc')} |")
    scores = ["max_softmax", "entropy", "mutual_information", "max_logit", "energy", "mahalanobis"]
    for s in ("uncertain", "hybrid", "synthetic", "noisy"):
        print(f"\nAUROC against `{s}` (shifted images positive):\n")
        print("| method | " + " | ".join(scores) + " |")
        print("|---|" + "---|" * len(scores))
        for m in order:
            print(f"| {m} | " + " | ".join(ms(cells[(m, s, sc)], "auroc", 1, 2) for sc in scores) + " |")
    base = {m.split(" + ")[0] for m in order}
    pairs = [(m, m.split(" + ")[0]) for m in order if " + " in m]
    pairs += [(m, "lenet") for m in ("bbb", "mc_dropout", "ensemble of 5 LeNets") if m in order and "lenet" in base]
    if "bbb" in order:
        pairs += [(m, "bbb") for m in ("ensemble of 5 LeNets", "mc_dropout", "lenet + LA kron (val NLL)") if m in order]
    paired(cells, pairs)



def paired(cells, pairs, keys=("error", "nll", "ece", "aurc")):
    """Paired differences over seeds (a - b) on the test rows, with a
    two-sided paired t-test (3 seeds: 2 degrees of freedom, closed form)."""
    import math
    print("\n| a - b | metric | seeds | mean difference | t | p |")
    print("|---|---|---|---|---|---|")
    for a, b in pairs:
        ra = {r["seed"]: r for r in cells[(a, "test", "")]}
        rb = {r["seed"]: r for r in cells[(b, "test", "")]}
        seeds = sorted(set(ra) & set(rb))
        for k in keys:
            d = [float(ra[s][k]) - float(rb[s][k]) for s in seeds]
            sd = stdev(d)
            if sd == 0:
                t, p = (0.0, 1.0) if mean(d) == 0 else (float("inf"), 0.0)
            else:
                t = mean(d) / (sd / math.sqrt(len(d)))
                p = 1 - abs(t) / math.sqrt(2 + t * t) if len(d) == 3 else float("nan")
            print(f"| {a} - {b} | {k} | {','.join(seeds)} | {mean(d):+.4f} | {t:.2f} | {p:.3f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
