"""Figures of the SpRAy study (experiments/explain/spray.toml): for each
model and seed, the t-SNE embedding of the pooled LRP maps coloured by
cluster (wrong predictions as crosses), and per cluster its mean map and
its example images with their maps. Reads the run folders of the sweep
(spray/*.npy, record.json) and the test images through the fanaroff Python
package (pip install ./crates/fanaroff-py).

    python3 scripts/spray_figures.py runs/spray docs/explanations [seed]
"""
import csv
import json
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from fanaroff import models


def load(run):
    d = run / "spray"
    rec = json.loads((run / "record.json").read_text())
    return {
        "emb": np.load(d / "embedding.npy"),
        "clusters": np.load(d / "clusters.npy"),
        "correct": np.load(d / "correct.npy").astype(bool),
        "mean_maps": np.load(d / "mean_maps.npy"),
        "rows": {r["cluster"]: r for r in rec["rows"] if r["part"] == "cluster"},
        "name": rec["name"],
    }


def heat(ax, m, title=None):
    v = np.abs(m).max() or 1.0
    ax.imshow(m, cmap="bwr", vmin=-v, vmax=v)
    ax.set_xticks([]), ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=7)


def figure(run, source_run, out, name):
    s = load(run)
    k = s["mean_maps"].shape[0]
    images = models.load_run(source_run).data()["test"]["images"]
    ex = 4
    fig = plt.figure(figsize=(2 + 1.3 * (ex + 1), 1.4 * max(k, 3)))
    grid = fig.add_gridspec(max(k, 3), ex + 3)
    ax = fig.add_subplot(grid[:, :2])
    for c in range(k):
        sel = s["clusters"] == c
        right, wrong = s["emb"][sel & s["correct"]], s["emb"][sel & ~s["correct"]]
        ax.scatter(right[:, 0], right[:, 1], s=10, color=f"C{c}", label=f"cluster {c}")
        ax.scatter(wrong[:, 0], wrong[:, 1], s=30, color=f"C{c}", marker="x")
    ax.set_title(f"{name}: t-SNE of pooled maps\n(x: wrong prediction)", fontsize=8)
    ax.set_xticks([]), ax.set_yticks([])
    ax.legend(fontsize=6, loc="best")
    for c in range(k):
        r = s["rows"][str(c)]
        heat(fig.add_subplot(grid[c, 2]),
             s["mean_maps"][c],
             f"c{c}: n={r['size']}, acc {100 * r['accuracy']:.0f}%\nsrc {100 * (r['source'] or 0):.0f}% oth {100 * (r['other'] or 0):.0f}%")
        for j, i in enumerate(int(v) for v in r["examples"].split()[:ex]):
            a = fig.add_subplot(grid[c, 3 + j])
            a.imshow(images[i], cmap="gray")
            a.set_xticks([]), a.set_yticks([])
            a.set_title(f"#{i}{'' if s['correct'][i] else ' wrong'}", fontsize=6)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def concept_figure(run, source_run, out, name):
    """The concepts of the last conv layer: per concept (channel) its share
    of the layer's relevance and its reference images (largest relevance
    for that channel first)."""
    rec = json.loads((run / "record.json").read_text())
    concepts = [r for r in rec["rows"] if r["part"] == "concept"]
    if not concepts:
        return False
    images = models.load_run(source_run).data()["test"]["images"]
    refs = [[int(v) for v in c["references"].split()] for c in concepts]
    k = max(len(r) for r in refs)
    fig, axes = plt.subplots(len(concepts), k, figsize=(1.3 * k, 1.45 * len(concepts)), squeeze=False)
    for row, (c, idx) in enumerate(zip(concepts, refs)):
        for j in range(k):
            a = axes[row][j]
            a.set_xticks([]), a.set_yticks([])
            if j < len(idx):
                a.imshow(images[idx[j]], cmap="gray")
                a.set_title(f"#{idx[j]}", fontsize=6)
        axes[row][0].set_ylabel(f"{c['cluster']}\n{100 * c['share']:.0f} %", fontsize=7)
    fig.suptitle(f"{name}: concepts of the last conv layer, reference images", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return True


def main(sweep, docs, seed="0"):
    sweep, docs = pathlib.Path(sweep), pathlib.Path(docs)
    variants = {int(r["index"]): r["variant"] for r in csv.DictReader(open(sweep / "runs.csv"))}
    for run in sorted((sweep / "runs").iterdir()):
        exp = (run / "experiment.toml").read_text()
        source = [l.split("=", 1)[1].strip().strip('"') for l in exp.splitlines() if l.startswith("from")]
        name = variants[int(run.name)]
        if not name.endswith(f"_s{seed}"):
            continue
        out = docs / f"spray_{name}.png"
        figure(run, pathlib.Path(source[0]), out, name)
        print(out)
        out = docs / f"spray_{name}_concepts.png"
        if concept_figure(run, pathlib.Path(source[0]), out, name):
            print(out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
