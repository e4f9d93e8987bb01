#!/usr/bin/env python3
"""Table of one LeNet bench sitting: ours after a change, ours before it and
PyTorch, run alternately in rounds (`15_bench_vs_reference` and
`torch_bbb_reference.py bench`, one JSON per program and round).

    python3 scripts/lenet_sitting.py docs/performance/lenet_2026-12-07c_intel

reads `<prefix>_{after,before,torch}_N.json` for every round N present and
prints, per work item, the median over rounds of each program's median, the
median over rounds of the per-round ratios (with their range), and the BBB
epoch's GFLOP/s against PyTorch's SGEMM rate measured in the same round.
"""
import glob
import json
import statistics
import sys

WORK = [
    ("BBB training epoch", ("epoch_bbb",)),
    ("deterministic training epoch", ("epoch_det",)),
    ("BBB predictive, 50 draws", ("inference_bbb_50",)),
    ("BBB forward + backward", ("minibatch", "bbb_fwd_bwd")),
    ("deterministic forward + backward", ("minibatch", "det_fwd_bwd")),
]


def median_of(d, path):
    for k in path:
        d = d[k]
    return d["median"]


def rounds(prefix):
    found = {}
    for kind in ("after", "before", "torch"):
        for f in glob.glob(f"{prefix}_{kind}_*.json"):
            n = int(f.rsplit("_", 1)[1].split(".")[0])
            found.setdefault(n, {})[kind] = json.load(open(f))
    return [found[n] for n in sorted(found) if len(found[n]) == 3]


def main(prefix):
    rs = rounds(prefix)
    if not rs:
        sys.exit(f"no complete rounds under {prefix}_*")
    print(f"{len(rs)} rounds from {prefix}_{{after,before,torch}}_N.json\n")
    print("| work | ours after (s) | ours before (s) | PyTorch (s) | after / PyTorch | range | after / before | range |")
    print("|---|---|---|---|---|---|---|---|")
    for name, path in WORK:
        a = [median_of(r["after"], path) for r in rs]
        b = [median_of(r["before"], path) for r in rs]
        t = [median_of(r["torch"], path) for r in rs]
        at = [x / y for x, y in zip(a, t)]
        ab = [x / y for x, y in zip(a, b)]
        med = statistics.median
        print(
            f"| {name} | {med(a):.4f} | {med(b):.4f} | {med(t):.4f} | **{med(at):.3f}** "
            f"| {min(at):.3f}-{max(at):.3f} | {med(ab):.3f} | {min(ab):.3f}-{max(ab):.3f} |"
        )
    print()
    for i, r in enumerate(rs, 1):
        ours = r["after"]["achieved_gflops"]["epoch_bbb"]
        sgemm = r["torch"]["peak_gflops"]
        print(f"round {i}: BBB epoch {ours:.1f} GFLOP/s, PyTorch SGEMM {sgemm:.1f} GFLOP/s: {100 * ours / sgemm:.0f} %")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/performance/lenet_2026-12-07c_intel")
