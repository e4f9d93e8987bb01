"""fanaroff from Python: train a Bayesian CNN through an experiment file,
predict with uncertainty, and draw a reliability diagram.

    pip install ./crates/fanaroff-py     # and matplotlib for the figure
    python examples/python/quickstart.py                       # synthetic galaxies (no download)
    python examples/python/quickstart.py --mirabest ../shared/data/mirabest/MiraBest_full_batches.tar.gz
Without --mirabest: 1000 synthetic galaxies (about a minute); with it, MBFRConfident."""

import argparse
import pathlib

import numpy as np

import fanaroff
from fanaroff import calibrate, data, models

EXPERIMENT = """
name = "python_quickstart"
seed = 0
data = {data}
model = {{ kind = "bbb_lenet" }}
training = {{ epochs = {epochs}, batch_size = 50, optimizer = {{ kind = "adam", lr = 1e-3 }}, progress = true }}
evaluation = {{ samples = 20, entropy_samples = 20 }}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirabest", help="a MiraBest release (.tar.gz or folder); default: synthetic images")
    ap.add_argument("--epochs", type=int, default=None, help="training epochs (default 10 synthetic, 60 MiraBest)")
    ap.add_argument("--out", default="runs/python_quickstart", help="run folder")
    args = ap.parse_args()
    out = pathlib.Path(args.out)

    # 1. Images: a look at the data the run will use.
    if args.mirabest:
        mb = data.read_mirabest(args.mirabest, "train", "MBFRConfident")
        print(f"MiraBest MBFRConfident train: {mb['images'].shape}, FRII fraction {mb['labels'].mean():.2f}")
        source = f'{{ mirabest = "{pathlib.Path(args.mirabest).resolve()}" }}'
        epochs = args.epochs or 60
    else:
        syn = data.synthetic(4, seed=0)
        print(f"synthetic galaxies: {syn['images'].shape} {syn['images'].dtype}, labels {syn['labels']}")
        source = "{ synthetic = 1000 }"
        epochs = args.epochs or 10

    # 2. Train through an experiment file (the Rust runner; GIL released).
    out.parent.mkdir(parents=True, exist_ok=True)
    exp = out.parent / "python_quickstart.toml"
    exp.write_text(EXPERIMENT.format(data=source, epochs=epochs))
    record = fanaroff.run(exp, out=out)
    m = record["metrics"]
    print(f"test error {m['test_error_mean']:.3f} +- {m['test_error_std']:.3f} over weight draws, "
          f"ECE {m['ece']:.3f}, trained in {record['train_seconds']:.0f} s")

    # 3. Load the run and predict with uncertainty.
    run = models.load_run(out)
    test = run.data()["test"]
    pred = run.predict(test["images"], draws=50, seed=0)
    y = test["labels"]
    wrong = pred.classes != y
    mi = [pred.mutual_information[w].mean() if w.any() else np.nan for w in (~wrong, wrong)]
    auc = calibrate.auroc(pred.entropy, wrong) if 0 < wrong.sum() < len(y) else np.nan
    print(f"predictive error {wrong.mean():.3f}; mean mutual information {mi[0]:.4f} (right) vs "
          f"{mi[1]:.4f} (wrong); AUROC of entropy for errors {auc:.3f}")
    print(f"ECE {calibrate.ece(pred.mean, y, bins=10):.3f}, UCE {calibrate.uce(pred.mean, y, bins=10):.3f}, "
          f"NLL {calibrate.nll(pred.mean, y):.3f}, Brier {calibrate.brier(pred.mean, y):.3f}")

    # 4. A reliability diagram (equal-mass bins: every bar holds as many images).
    bins = calibrate.reliability_bins(pred.mean, y, bins=5, strategy="mass")
    print("equal-mass bins: confidence", bins["confidence"], "accuracy", bins["accuracy"])
    try:
        import matplotlib
    except ImportError:
        print("no matplotlib: `pip install matplotlib` for the reliability diagram")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4))
    full, centre = bins["count"] > 0, (bins["lower"] + bins["upper"]) / 2
    ax.bar(centre[full], bins["accuracy"][full], width=0.9 * (bins["upper"] - bins["lower"])[full],
           edgecolor="k", label="accuracy")
    ax.plot(bins["confidence"][full], bins["confidence"][full], "o", color="C3", label="mean confidence")
    ax.plot([0.5, 1], [0.5, 1], "k--", lw=1)
    ax.set(xlim=(0.45, 1.0), ylim=(0, 1), xlabel="confidence", ylabel="accuracy",
           title=f"ECE {bins['ece']:.3f} (equal mass)")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(out / "reliability.png", dpi=120)
    print(f"reliability diagram: {out / 'reliability.png'}")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
