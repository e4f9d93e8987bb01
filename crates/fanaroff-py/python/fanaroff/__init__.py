"""fanaroff: uncertainty-aware deep learning for radio-galaxy images.

The Python face of the fanaroff Rust crates:

- :mod:`fanaroff.calibrate`: ECE, MCE, UCE, cUCE, Brier, NLL, AUROC,
  reliability bins, temperature scaling, entropy and mutual information;
- :mod:`fanaroff.scores`: conformal prediction sets, out-of-distribution
  scores (max-logit, energy, Mahalanobis), risk-coverage;
- :mod:`fanaroff.data`: MiraBest, FITS cut-outs, synthetic galaxies;
- :mod:`fanaroff.models`: trained run folders (predict with uncertainty,
  prune, attention maps);
- :func:`run`: an experiment file run by the Rust runner.

Heavy work runs in Rust without the GIL; errors arrive as ValueError,
FileNotFoundError or OSError with the Rust message.
"""

from __future__ import annotations

import json
import os

from . import calibrate, data, models, scores
from ._native import __version__
from ._native import models as _m

__all__ = ["calibrate", "data", "models", "scores", "run", "__version__"]


def run(experiment, out=None, threads: int | None = None, progress: bool = False) -> dict:
    """Runs the experiment file `experiment` (TOML, as ``fanaroff train``
    takes it) in the folder `out` (default ``runs/<file stem>``) and
    returns the run record as a dict. A folder with an unfinished run
    resumes from its checkpoint.

    Example (see :mod:`fanaroff.models` for a complete one)::

        record = fanaroff.run("experiments/quickstart.toml", out="runs/quick")
        record["metrics"]["test_error_mean"]
    """
    path = os.fspath(experiment)
    if out is None:
        out = os.path.join("runs", os.path.splitext(os.path.basename(path))[0])
    return json.loads(_m.run(path, os.fspath(out), threads, bool(progress)))
