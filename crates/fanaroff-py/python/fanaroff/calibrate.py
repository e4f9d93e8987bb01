"""Calibration and uncertainty metrics (the `fanaroff-calibrate` crate).

Probabilities are `[N, K]` arrays whose rows sum to 1, samples are
`[S, N, K]` (one `[N, K]` per weight draw), labels are `[N]` class
indices. Every function checks its input (NaN, rows that do not sum to 1,
labels out of range, mismatched lengths raise ValueError) and releases the
GIL while it computes.

Example:
    >>> import numpy as np
    >>> from fanaroff import calibrate
    >>> p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> y = np.array([0, 1, 1])
    >>> round(calibrate.ece(p, y, bins=10), 4)
    0.3
"""

from __future__ import annotations

import numpy as np

from . import _arrays
from ._native import calibrate as _c

__all__ = [
    "ece", "mce", "uce", "cuce", "brier", "nll", "auroc", "reliability_bins",
    "fit_temperature", "softmax", "entropy", "mutual_information",
    "expected_entropy", "predictive_mean", "error_over_draws",
]


def _pair(probs, labels):
    return _arrays.floats(probs, "probs", 2), _arrays.labels(labels)


def ece(probs, labels, bins: int = 15, strategy: str = "width") -> float:
    """Expected calibration error of the top-label confidence.

    ``sum_b |B_b|/N * |acc(B_b) - conf(B_b)|`` over `bins` bins of the
    confidence ``max_k p_nk``; `strategy` is ``"width"`` (equal-width bins
    on [0, 1]) or ``"mass"`` (equal-mass bins).

    >>> round(ece([[0.9, 0.1], [0.2, 0.8]], [0, 1], bins=10), 6)
    0.15
    """
    return _c.binned(*_pair(probs, labels), bins, strategy, "ece")


def mce(probs, labels, bins: int = 15, strategy: str = "width") -> float:
    """Maximum calibration error: the largest bin gap of the top-label
    reliability diagram.

    >>> round(mce([[0.9, 0.1], [0.2, 0.8]], [0, 1], bins=10), 6)
    0.2
    """
    return _c.binned(*_pair(probs, labels), bins, strategy, "mce")


def uce(probs, labels, bins: int = 15, strategy: str = "width") -> float:
    """Uncertainty calibration error (Laves et al. 2019): the ECE of the
    normalised predictive entropy against the error.

    >>> round(uce([[0.5, 0.5], [1.0, 0.0]], [0, 0], bins=10), 6)
    0.5
    """
    return _c.binned(*_pair(probs, labels), bins, strategy, "uce")


def cuce(probs, labels, bins: int = 15, strategy: str = "width") -> float:
    """Class-wise UCE: the UCE on the inputs of each true class, averaged
    over the classes present.

    >>> round(cuce([[0.5, 0.5], [1.0, 0.0]], [0, 1], bins=10), 6)
    1.0
    """
    return _c.binned(*_pair(probs, labels), bins, strategy, "cuce")


def brier(probs, labels) -> float:
    """Brier score summed over classes, averaged over inputs:
    ``mean_n sum_k (p_nk - 1[y_n = k])^2`` (for two classes, twice
    scikit-learn's binary ``brier_score_loss``).

    >>> round(brier([[0.9, 0.1], [0.2, 0.8]], [0, 1]), 6)
    0.05
    """
    return _c.brier(*_pair(probs, labels))


def nll(probs, labels) -> float:
    """Mean negative log-likelihood of the true class (probabilities below
    1e-12 count as 1e-12), as scikit-learn's ``log_loss``.

    >>> round(nll([[0.5, 0.5]], [1]), 6)
    0.693147
    """
    return _c.nll(*_pair(probs, labels))


def auroc(scores, positives) -> float:
    """Area under the ROC curve of `scores` for telling `positives` (True)
    from the rest, ties counted half (scikit-learn's ``roc_auc_score``).

    >>> auroc([0.1, 0.4, 0.35, 0.8], [False, False, True, True])
    0.75
    """
    return _c.auroc(_arrays.floats(scores, "scores", 1), _arrays.flags(positives, "positives"))


def reliability_bins(probs, labels, bins: int = 15, strategy: str = "width") -> dict:
    """The top-label reliability diagram: a dict of arrays ``lower``,
    ``upper`` (bin edges), ``count``, ``confidence`` and ``accuracy`` (NaN
    for empty bins) and the floats ``ece`` and ``mce``.

    >>> d = reliability_bins([[0.9, 0.1], [0.2, 0.8]], [0, 1], bins=5)
    >>> d["count"].tolist()
    [0.0, 0.0, 0.0, 0.0, 2.0]
    """
    return _c.reliability_bins(*_pair(probs, labels), bins, strategy)


def fit_temperature(logits, labels) -> dict:
    """Temperature scaling (Guo et al. 2017) fitted on validation logits
    `[N, K]`: a dict with ``temperature``, ``nll_before`` and ``nll_after``.
    Apply it with ``softmax(test_logits, temperature)``.

    >>> fit_temperature([[4.0, 0.0], [0.0, 4.0], [3.0, 0.0]], [0, 1, 1])["temperature"] > 1
    True
    """
    t, before, after = _c.fit_temperature(_arrays.floats(logits, "logits", 2), _arrays.labels(labels))
    return {"temperature": t, "nll_before": before, "nll_after": after}


def softmax(logits, temperature: float = 1.0) -> np.ndarray:
    """``softmax(logits / temperature)`` row by row, `[N, K]`.

    >>> softmax([[0.0, 0.0]]).tolist()
    [[0.5, 0.5]]
    """
    return _c.softmax(_arrays.floats(logits, "logits", 2), float(temperature))


def entropy(probs) -> np.ndarray:
    """Predictive entropy in nats per input, `[N]`.

    >>> entropy([[0.5, 0.5], [1.0, 0.0]]).round(6).tolist()
    [0.693147, 0.0]
    """
    return _c.entropy(_arrays.floats(probs, "probs", 2))


def mutual_information(samples) -> np.ndarray:
    """Mutual information between prediction and weights (the epistemic
    part of the entropy, Gal 2016) from samples `[S, N, K]`, in nats, `[N]`.

    >>> s = [[[1.0, 0.0]], [[0.0, 1.0]]]
    >>> mutual_information(s).round(6).tolist()
    [0.693147]
    """
    return _c.mutual_information(_arrays.floats(samples, "samples", 3))


def expected_entropy(samples) -> np.ndarray:
    """Mean over draws of each draw's entropy (the aleatoric part), `[N]`.

    >>> expected_entropy([[[0.5, 0.5]], [[1.0, 0.0]]]).round(6).tolist()
    [0.346574]
    """
    return _c.expected_entropy(_arrays.floats(samples, "samples", 3))


def predictive_mean(samples) -> np.ndarray:
    """Mean over draws of samples `[S, N, K]`, `[N, K]`.

    >>> predictive_mean([[[1.0, 0.0]], [[0.0, 1.0]]]).tolist()
    [[0.5, 0.5]]
    """
    return _c.predictive_mean(_arrays.floats(samples, "samples", 3))


def error_over_draws(samples, labels) -> tuple:
    """Mean and sample standard deviation (n - 1) over draws of each
    draw's error rate (the BBB paper's "test error"), from samples
    `[S, N, K]`.

    >>> error_over_draws([[[0.9, 0.1]], [[0.2, 0.8]]], [0])
    (0.5, 0.7071067811865476)
    """
    return _c.error_over_draws(_arrays.floats(samples, "samples", 3), _arrays.labels(labels))
