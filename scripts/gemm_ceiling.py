#!/usr/bin/env python3
"""How fast PyTorch's own BLAS runs the LeNet's matrix products, against its
4096^3 SGEMM rate: the ceiling of the issue-35 target "the BBB epoch at 80 %
of PyTorch's SGEMM rate".

    python3 scripts/gemm_ceiling.py --threads 2 --out r.json
    python3 scripts/gemm_ceiling.py --summarise r1.json r2.json ...
    python3 scripts/gemm_ceiling.py --summarise r1.json r2.json --ours o1.json o2.json

Takes the layer shapes and FLOP counts from the reference bench
(`../shared/bench/torch_bbb_reference.py`, `flop_table`): per training image,
each convolution is three im2col GEMMs (forward `[co x K] x [K x N]`, weight
gradient `[co x N] x [N x K]`, input gradient `[K x co] x [co x N]`, none for
the first layer), N = ho * ho; each linear layer three GEMMs at the
reference's batch. Times every product with `torch.mm` (median of repeats,
after warm-up), in two forms:

- `per_image`: one image's N columns, as fanaroff's implicit convolution
  runs them;
- `per_image_1t_x_threads`: the same on one thread, times the thread
  count: images split across threads with perfect scaling, as fanaroff
  splits a batch;
- `per_batch`: the batch's N * B columns side by side, the most a batched
  im2col could hand the BLAS.

For each form it prints the time an epoch of nothing but these products
would take per image and the rate that implies, as a fraction of the
4096^3 `torch.mm` rate measured in the same run. An epoch does more than
its GEMMs, so its rate is below this ceiling.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "bench"))
import torch_bbb_reference as ref  # noqa: E402


def products(batch, per_batch):
    """(name, m, k, n, times per image) of every GEMM in one training image."""
    out, h = [], ref.IMSIZE
    for kind, ci, co, k, p in ref.ARCH:
        if kind == "conv":
            ho = h + 2 * p - k + 1
            kk, n = ci * k * k, ho * ho
            cols, per = (n * batch, 1.0 / batch) if per_batch else (n, 1.0)
            tag = "conv %d->%d" % (ci, co)
            out.append((tag + " fwd", co, kk, cols, per))
            out.append((tag + " dW", co, cols, kk, per))
            if ci != 1:
                out.append((tag + " dX", kk, co, cols, per))
            h = ho // 2
        else:
            tag = "fc %d->%d" % (ci, co)
            per = 1.0 / batch
            out.append((tag + " fwd", batch, ci, co, per))
            out.append((tag + " dW", co, batch, ci, per))
            out.append((tag + " dX", batch, co, ci, per))
    return out


def time_mm(m, k, n, repeats):
    a, b, c = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
    flop = 2.0 * m * n * k
    inner = max(1, int(2e8 / flop))  # about 0.2 GFLOP per timed call
    for _ in range(3):
        torch.mm(a, b, out=c)
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            torch.mm(a, b, out=c)
        ts.append((time.perf_counter() - t0) / inner)
    return statistics.median(ts)


def form(batch, per_batch, repeats, scale):
    """Every product timed; rates multiplied by `scale` (the thread count
    over the threads used, for the perfect-scaling form)."""
    rows, total_s, total_flop = [], 0.0, 0.0
    for name, m, k, n, per in products(batch, per_batch):
        s = time_mm(m, k, n, repeats) / scale
        flop = 2.0 * m * n * k
        rows.append(dict(name=name, m=m, k=k, n=n, seconds=s, gflops=flop / s / 1e9))
        total_s += s * per
        total_flop += flop * per
    return dict(rows=rows, seconds_per_image=total_s, flop_per_image=total_flop,
                gflops=total_flop / total_s / 1e9)


def cpu_name():
    """The CPU's model name and its AVX-512 / AVX2 flags, from /proc/cpuinfo."""
    try:
        info = open("/proc/cpuinfo").read()
    except OSError:
        return "unknown"
    name = next((l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name")), "?")
    flags = next((l.split(":", 1)[1].split() for l in info.splitlines() if l.startswith("flags")), [])
    vec = sorted(f for f in flags if f.startswith("avx512") or f in ("avx2", "fma"))
    return "%s (%s)" % (name, " ".join(vec))


FORMS = ("per_image", "per_image_1t_x_threads", "per_batch")


def summarise(files, ours=None):
    """Median and range over runs of each form's fraction of the 4096^3 rate."""
    runs = [json.load(open(f)) for f in files]
    peaks = [r["sgemm4096_gflops"] for r in runs]
    print(runs[0].get("cpu", "cpu not recorded"))
    print("%d runs, %d threads, torch %s; 4096^3 torch.mm: median %.1f GFLOP/s (%.1f-%.1f)" % (
        len(runs), runs[0]["threads"], runs[0]["torch"], statistics.median(peaks), min(peaks), max(peaks)))
    print("| form | GFLOP/s (median) | fraction of the 4096^3 rate (median) | range |")
    print("|---|---|---|---|")
    for key in FORMS:
        g = [r[key]["gflops"] for r in runs]
        f = [r[key]["fraction_of_sgemm4096"] for r in runs]
        print("| %s | %.1f | %.0f %% | %.0f-%.0f %% |" % (
            key, statistics.median(g), 100 * statistics.median(f), 100 * min(f), 100 * max(f)))
    if ours:
        against_ours(runs, [json.load(open(f)) for f in ours])


def against_ours(runs, ours):
    """Per round: fanaroff's epoch GFLOP/s (`15_bench_vs_reference` JSON,
    run just before the round's ceiling) over the ceiling and over the
    4096^3 rate; medians and ranges over rounds."""
    if len(ours) != len(runs):
        sys.exit("--ours needs one file per ceiling file, in the same order")
    print("\n| epoch | GFLOP/s (median) | over the ceiling (`per_image_1t_x_threads`) | over the 4096^3 rate |")
    print("|---|---|---|---|")
    for key in ("epoch_bbb", "epoch_det"):
        g = [o["achieved_gflops"][key] for o in ours]
        c = [x / r["per_image_1t_x_threads"]["gflops"] for x, r in zip(g, runs)]
        p = [x / r["sgemm4096_gflops"] for x, r in zip(g, runs)]
        print("| %s | %.1f | %.0f %% (%.0f-%.0f) | %.0f %% (%.0f-%.0f) |" % (
            key, statistics.median(g), 100 * statistics.median(c), 100 * min(c), 100 * max(c),
            100 * statistics.median(p), 100 * min(p), 100 * max(p)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", help="JSON file for the results")
    ap.add_argument("--summarise", nargs="+", metavar="JSON",
                    help="print the medians over earlier runs' JSON files instead")
    ap.add_argument("--ours", nargs="+", metavar="JSON",
                    help="with --summarise: fanaroff's 15_bench_vs_reference JSON of each round")
    args = ap.parse_args()
    if args.summarise:
        summarise(args.summarise, args.ours)
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    peak = 2.0 * 4096 ** 3 / time_mm(4096, 4096, 4096, args.repeats) / 1e9
    res = dict(torch=torch.__version__, threads=args.threads, batch=ref.BATCH,
               cpu=cpu_name(), sgemm4096_gflops=peak)
    forms = zip(FORMS, (False, False, True), (args.threads, 1, args.threads))
    for key, per_batch, threads in forms:
        torch.set_num_threads(threads)
        f = form(ref.BATCH, per_batch, args.repeats, args.threads / threads)
        torch.set_num_threads(args.threads)
        f["fraction_of_sgemm4096"] = f["gflops"] / peak
        res[key] = f
        print("%s (%d threads, rates as if on %d):" % (key, threads, args.threads))
        for r in f["rows"]:
            print("  %-22s m %5d k %6d n %7d  %7.1f GFLOP/s  %4.0f %%" % (
                r["name"], r["m"], r["k"], r["n"], r["gflops"], 100 * r["gflops"] / peak))
        print("  all products: %.1f GFLOP/s, %.0f %% of the 4096^3 rate (%.1f GFLOP/s)" % (
            f["gflops"], 100 * f["fraction_of_sgemm4096"], peak))
    res["sgemm4096_gflops_after"] = 2.0 * 4096 ** 3 / time_mm(4096, 4096, 4096, args.repeats) / 1e9
    print("4096^3 before / after: %.1f / %.1f GFLOP/s" % (peak, res["sgemm4096_gflops_after"]))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
