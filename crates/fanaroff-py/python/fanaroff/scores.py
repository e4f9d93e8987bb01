"""Scores beyond calibration (the `fanaroff-calibrate` crate): split
conformal prediction sets, out-of-distribution scores and risk-coverage.

Example:
    >>> import numpy as np
    >>> from fanaroff import scores
    >>> cal = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]])
    >>> sets, thresholds = scores.conformal_sets(cal, [0, 1, 0, 1], [[0.65, 0.35], [0.5, 0.5]], alpha=0.2)
    >>> sets  # threshold 0.4 on 1 - p_k
    [[0], []]
"""

from __future__ import annotations

import numpy as np

from . import _arrays
from ._native import scores as _s

__all__ = ["conformal_sets", "set_coverage", "mean_set_size", "max_logit_score",
           "energy_score", "mahalanobis_score", "risk_coverage"]


def conformal_sets(cal_probs, cal_labels, probs, alpha: float = 0.1, score: str = "lac",
                   class_conditional: bool = False, lam: float = 0.01, k_reg: int = 1,
                   randomised: bool = False, seed: int = 0):
    """Split conformal prediction sets with coverage >= 1 - `alpha` on
    exchangeable data: thresholds from the calibration set, then for each
    row of `probs` the classes whose conformity score is within them.
    `score` is ``"lac"`` (1 - p_k), ``"aps"`` or ``"raps"`` (with `lam` and
    `k_reg`; `randomised` draws u ~ U(0, 1) per image from `seed`);
    `class_conditional` gives one threshold per class (Mondrian).
    Returns ``(sets, thresholds)``: a list of class-index lists and the
    thresholds.

    >>> sets, th = conformal_sets([[0.9, 0.1], [0.2, 0.8]], [0, 1], [[0.95, 0.05]], alpha=0.5)
    >>> sets, [round(t, 6) for t in th]
    ([[0]], [0.2])
    """
    p_cal = _arrays.floats(cal_probs, "cal_probs", 2)
    p = _arrays.floats(probs, "probs", 2)
    return _s.conformal_sets(p_cal, _arrays.labels(cal_labels, "cal_labels"), p, float(alpha), str(score),
                             bool(class_conditional), float(lam), int(k_reg), bool(randomised), int(seed))


def set_coverage(sets, labels) -> float:
    """The fraction of sets that hold their label.

    >>> set_coverage([[0], [0, 1], [1]], [0, 1, 0])
    0.6666666666666666
    """
    y = _arrays.labels(labels)
    if len(sets) == 0 or len(sets) != len(y):
        raise ValueError(f"set_coverage: {len(sets)} sets for {len(y)} labels")
    return float(np.mean([int(t) in s for s, t in zip(sets, y)]))


def mean_set_size(sets) -> float:
    """The mean number of classes per set.

    >>> mean_set_size([[0], [0, 1]])
    1.5
    """
    if len(sets) == 0:
        raise ValueError("mean_set_size: no sets")
    return float(np.mean([len(s) for s in sets]))


def max_logit_score(logits) -> np.ndarray:
    """``-max_k z_k`` per row (Hendrycks et al. 2022): higher is more out of
    distribution.

    >>> max_logit_score([[2.0, -1.0]]).tolist()
    [-2.0]
    """
    return np.asarray(_s.max_logit_score(_arrays.floats(logits, "logits", 2)))


def energy_score(logits, temperature: float = 1.0) -> np.ndarray:
    """The energy ``-T ln sum_k exp(z_k / T)`` per row (Liu et al. 2020):
    higher is more out of distribution.

    >>> round(float(energy_score([[0.0, 0.0]])[0]), 6)
    -0.693147
    """
    return np.asarray(_s.energy_score(_arrays.floats(logits, "logits", 2), float(temperature)))


def mahalanobis_score(train_features, train_labels, features, classes: int | None = None,
                      ridge: float = 1e-3) -> np.ndarray:
    """Squared Mahalanobis distance of each row of `features` to the
    nearest class mean of the training features, with their shared
    covariance plus `ridge` times the mean variance on the diagonal (Lee
    et al. 2018): higher is more out of distribution.

    >>> f = [[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]]
    >>> round(float(mahalanobis_score(f, [0, 0, 0, 0], [[1.0, 2.0]], ridge=0.0)[0]), 6)
    4.0
    """
    y = _arrays.labels(train_labels, "train_labels")
    k = int(y.max()) + 1 if classes is None and len(y) else int(classes or 0)
    return np.asarray(_s.mahalanobis_score(_arrays.floats(train_features, "train_features", 2), y,
                                           _arrays.floats(features, "features", 2), k, float(ridge)))


def risk_coverage(confidence, correct) -> dict:
    """Selective classification: ``aurc`` (area under the risk-coverage
    curve), ``augrc`` (generalised), ``optimal_aurc`` (an oracle that keeps
    the right predictions first) and ``excess_aurc``.

    >>> risk_coverage([0.9, 0.8, 0.3], [True, True, False])["excess_aurc"]
    0.0
    """
    aurc, augrc, opt = _s.risk_coverage(_arrays.floats(confidence, "confidence", 1),
                                        _arrays.flags(correct, "correct"))
    return {"aurc": aurc, "augrc": augrc, "optimal_aurc": opt, "excess_aurc": aurc - opt}
