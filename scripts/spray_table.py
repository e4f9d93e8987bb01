"""Tables of the SpRAy study (experiments/explain/spray.toml) from its
collected rows: per model, over seeds (mean ± std), the number of clusters,
where the relevance falls, how the errors spread over the clusters, the
concepts of the last conv layer and the spread over weight draws.

    python3 scripts/spray_table.py docs/explanations/spray/rows.csv
"""
import csv
import sys
from collections import defaultdict
from statistics import mean, stdev


def ms(v, scale=1.0, digits=1):
    v = [scale * x for x in v if x == x]
    if not v:
        return "-"
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{mean(v):.{digits}f} ± {stdev(v):.{digits}f}"


def num(r, k):
    try:
        return float(r[k])
    except (KeyError, ValueError):
        return float("nan")


def main(path):
    rows = list(csv.DictReader(open(path)))
    by_model = defaultdict(lambda: defaultdict(list))
    for r in rows:
        model, seed = r["variant"].rsplit("_s", 1)
        by_model[model][r["part"]].append((int(seed), r))
    print("| model | seeds | test acc. (%) | clusters per seed | source (%) | other sources (%) | border (%) | class purity | errors: chi2 p per seed | worst cluster: errors / size share |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model, parts in by_model.items():
        alls = [r for _, r in sorted(parts["all"])]
        worst = []
        for seed, a in sorted(parts["all"]):
            cl = [r for s, r in parts["cluster"] if s == seed]
            e, n = num(a, "errors"), num(a, "size")
            if e > 0:
                worst.append(max((num(r, "errors") / e) / (num(r, "size") / n) for r in cl))
        ps = " / ".join(f"{num(a, 'error_chi2_p'):.2f}" for a in alls)
        # how far the clusters are split by predicted class: the size-weighted
        # mean of |2 p - 1| (p: FRII share of a cluster's predictions); 0 mixed, 1 pure
        purity = []
        for seed, a in sorted(parts["all"]):
            cl = [r for s, r in parts["cluster"] if s == seed]
            purity.append(sum(num(r, "size") * abs(2 * num(r, "predicted_class1") - 1) for r in cl) / num(a, "size"))
        ks = " / ".join(f"{int(num(a, 'k'))}" for a in alls)
        print(f"| {model} | {len(alls)} | {ms([num(a, 'accuracy') for a in alls], 100)} | {ks} | "
              f"{ms([num(a, 'source') for a in alls], 100)} | {ms([num(a, 'other') for a in alls], 100)} | "
              f"{ms([num(a, 'border') for a in alls], 100)} | {ms(purity, 1, 2)} | {ps} | {ms(worst, 1, 2)} |")
    print()
    print("Per cluster (seed, cluster: size, accuracy %, predicted FRII %, source / other / border %):")
    print()
    for model, parts in by_model.items():
        cells = []
        for seed, r in sorted(parts["cluster"], key=lambda t: (t[0], int(t[1]["cluster"]))):
            cells.append(f"s{seed} c{r['cluster']}: {int(num(r, 'size'))}, {100 * num(r, 'accuracy'):.0f}, "
                         f"{100 * num(r, 'predicted_class1'):.0f}, "
                         f"{100 * num(r, 'source'):.0f} / {100 * num(r, 'other'):.0f} / {100 * num(r, 'border'):.0f}")
        print(f"- **{model}**: " + "; ".join(cells))
    print()
    for model, parts in by_model.items():
        if parts["concept"]:
            cells = [f"s{s} {r['cluster']} {100 * num(r, 'share'):.0f} %" for s, r in sorted(parts["concept"], key=lambda t: t[0])]
            print(f"- **{model}** concepts (share of the layer's relevance): " + "; ".join(cells))
        if parts["draws"]:
            d = [r for _, r in sorted(parts["draws"])]
            print(f"- **{model}** over weight draws: map spread (sum |std| / sum |mean|) "
                  f"{ms([num(r, 'map_spread') for r in d], 1, 2)}, std of the source share "
                  f"{ms([num(r, 'source_std') for r in d], 100)} points")


if __name__ == "__main__":
    main(sys.argv[1])
