"""Trained models: run folders written by the Rust runner (``fanaroff
train``, :func:`fanaroff.run`), loaded with their weights, to predict with
uncertainty, prune and draw attention maps.

Example:
    >>> import fanaroff, tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (tmp / "exp.toml").write_text('''
    ... name = "doc"
    ... data = { synthetic = 32 }
    ... model = { kind = "bbb_lenet" }
    ... training = { epochs = 1, batch_size = 8 }
    ... evaluation = { samples = 2, entropy_samples = 2 }
    ... ''')
    >>> record = fanaroff.run(tmp / "exp.toml", out=tmp / "run")
    >>> run = fanaroff.models.load_run(tmp / "run")
    >>> test = run.data()["test"]
    >>> pred = run.predict(test["images"], draws=5, seed=0)
    >>> pred.samples.shape
    (5, 4, 2)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from . import _arrays, calibrate
from ._native import models as _m

__all__ = ["Run", "Prediction", "load_run", "CRITERIA"]

#: The pruning criteria, as the experiment files spell them.
CRITERIA = ("snr", "snr-db", "fisher-adam", "fisher-grad", "fisher-adam-obd",
            "fisher-grad-obd", "magnitude", "random")


@dataclass
class Prediction:
    """A predictive: ``samples`` ``[S, N, K]`` float32 (one draw for a
    deterministic model), their ``mean`` ``[N, K]`` float64, the
    ``entropy`` of the mean and the ``mutual_information`` (nats, ``[N]``)."""

    samples: np.ndarray
    mean: np.ndarray
    entropy: np.ndarray
    mutual_information: np.ndarray

    @property
    def classes(self) -> np.ndarray:
        """The predicted class of every image, ``[N]``."""
        return self.mean.argmax(axis=1)


class Run:
    """A finished run folder (``record.json``, ``experiment.toml``,
    ``model.safetensors``) with its model rebuilt and weights loaded.

    A folder without a record raises FileNotFoundError.
    """

    def __init__(self, path):
        self._run = _m.Run(os.fspath(path))
        self.path = os.fspath(path)

    @property
    def record(self) -> dict:
        """The run record (metrics, counts, times, versions)."""
        return json.loads(self._run.record_json())

    @property
    def experiment(self) -> str:
        """The experiment as it was run (TOML text)."""
        return self._run.experiment_toml()

    @property
    def kind(self) -> str:
        """The model kind, e.g. ``"bbb_lenet"``."""
        return self._run.kind()

    @property
    def stochastic(self) -> bool:
        """Whether predictions vary between weight draws."""
        return self._run.stochastic()

    def data(self) -> dict:
        """The run's images split as the run split them: a dict of data
        sets ``train``, ``val``, ``test`` and ``uncertain`` (each as
        :mod:`fanaroff.data` returns them)."""
        return self._run.data()

    def predict(self, images, draws: int = 50, seed: int = 0,
                batch_size: int | None = None) -> Prediction:
        """The predictive on `images` (``[N, H, W]`` or ``[N, 1, H, W]``
        uint8, as the readers give them; the run's scaling is applied):
        `draws` weight draws (one for a deterministic model). The same
        `seed` and `batch_size` (default: the run's evaluation batch) give
        the same draws, the ones the Rust library gives."""
        x = _arrays.images(images)
        if draws < 1:
            raise ValueError(f"draws: expected at least 1, got {draws}")
        b = self._run.eval_batch_size() if batch_size is None else int(batch_size)
        s = self._run.predict(x, int(draws), int(seed), b)
        s64 = s.astype(np.float64)
        mean = calibrate.predictive_mean(s64)
        return Prediction(s, mean, calibrate.entropy(mean), calibrate.mutual_information(s64))

    def prune(self, criterion: str = "snr", fraction: float = 0.5) -> dict:
        """Prunes `fraction` of the fully connected weights of each layer
        by `criterion` (one of :data:`CRITERIA`), in memory: later
        predictions use the pruned model; the folder is not changed.
        Returns ``{"criterion", "sparsity", "layers": [(name, total, kept)]}``."""
        c, sparsity, layers = self._run.prune(str(criterion), float(fraction))
        return {"criterion": c, "sparsity": sparsity, "layers": layers}

    def attention_maps(self, images, seed: int = 0) -> list:
        """Attention maps of an attention run: one ``[N, H, W]`` float32
        array per gate, upsampled to the image size, finest gate first."""
        return self._run.attention_maps(_arrays.images(images), int(seed))

    def __repr__(self) -> str:
        return f"Run({self.path!r}, kind={self.kind!r})"


def load_run(path) -> Run:
    """Opens the run folder `path` (see :class:`Run`)."""
    return Run(path)
