#!/usr/bin/env python3
"""Peak resident memory and step time of PyTorch's deterministic LeNet step.

Companion of `cargo run --release --example 13_bench_lenet`: builds the same model
as ../shared/bench/torch_bbb_reference.py (DetConvNet), runs training steps
(forward, backward, Adam) on a 50 x 1 x 150 x 150 batch and inference, and
prints the median times and the process's peak RSS.

    python3 benches/torch/det_step_memory.py [--threads 2] [--repeats 20]
"""
import argparse
import os
import resource
import statistics
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "shared", "bench"))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torch_bbb_reference as R  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=20)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    det = R.DetConvNet()
    opt = torch.optim.Adam(det.parameters(), lr=R.LR)
    x = torch.rand(R.BATCH, 1, R.IMSIZE, R.IMSIZE)
    y = torch.arange(R.BATCH) % 2

    def step():
        opt.zero_grad(set_to_none=True)
        F.nll_loss(det(x), y, reduction="sum").backward()
        opt.step()

    def infer():
        with torch.no_grad():
            det(x)

    out = {}
    for name, fn in (("train step", step), ("inference", infer)):
        for _ in range(3):
            fn()
        ts = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        out[name] = statistics.median(ts)
        print("%-11s %.4f s -> %.0f images/s" % (name, out[name], R.BATCH / out[name]))
    print("peak resident memory: %.0f MiB" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


if __name__ == "__main__":
    main()
