#!/usr/bin/env python3
"""Epoch timings of the PyTorch BBB LeNet and its deterministic twin
(../shared/bench/torch_bbb_reference.py) at a chosen batch size, with the
JSON keys of `15_bench_vs_reference` (`epoch_bbb`, `epoch_det`), for the
scaling figure of docs/performance.md:

  python3 bench/torch_lenet_epochs.py --batch 16 --threads 2 --out r.json
"""
import argparse
import json
import os
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "shared", "bench"))
import torch_bbb_reference as R  # noqa: E402
from torch_attention_reference import timed  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=R.BATCH)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--out", default="")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    xtr, ytr, _, _ = R.load_mirabest(R.find_data_dir())
    out = {"framework": "pytorch " + torch.__version__, "threads": a.threads, "batch": a.batch}
    bbb, det = R.BBBConvNet("exp"), R.DetConvNet()
    ob, od = (torch.optim.Adam(m.parameters(), lr=R.LR) for m in (bbb, det))
    out["epoch_bbb"] = timed(lambda: R.bbb_epoch(bbb, ob, xtr, ytr, batch=a.batch), a.repeats, 1)
    out["epoch_det"] = timed(lambda: R.det_epoch(det, od, xtr, ytr, batch=a.batch), a.repeats, 1)
    text = json.dumps(out, indent=2)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
