"""fanaroff.calibrate: known values, scikit-learn, a numpy ECE, and bad
input."""

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from fanaroff import calibrate


def random_probs(n, k, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, k)) * 2
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(k, p=row) for row in p])
    return p, y


def numpy_ece(p, y, bins):
    """Equal-width ECE, vectorised: the binning fanaroff documents
    (bin b holds confidences in (b/B, (b+1)/B], 0 in the first bin)."""
    conf = p.max(axis=1)
    correct = p.argmax(axis=1) == y
    idx = np.clip(np.ceil(conf * bins).astype(np.int64) - 1, 0, bins - 1)
    count = np.bincount(idx, minlength=bins)
    sum_conf = np.bincount(idx, weights=conf, minlength=bins)
    sum_acc = np.bincount(idx, weights=correct, minlength=bins)
    return np.abs(sum_acc - sum_conf).sum() / len(y)


def test_known_values():
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    y = np.array([0, 1, 1])
    # bins (0.8, 0.9]: one right at 0.9 -> |1 - 0.9|; (0.7, 0.8]: right at
    # 0.8 -> 0.2; (0.5, 0.6]: wrong at 0.6 -> 0.6; ECE = (0.1+0.2+0.6)/3
    assert calibrate.ece(p, y, bins=10) == pytest.approx(0.3)
    assert calibrate.mce(p, y, bins=10) == pytest.approx(0.6)
    assert calibrate.brier(p, y) == pytest.approx((0.02 + 0.08 + 0.72) / 3)
    assert calibrate.nll(p, y) == pytest.approx(-np.log([0.9, 0.8, 0.4]).mean())
    assert calibrate.auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert calibrate.uce([[0.5, 0.5], [1.0, 0.0]], [0, 0], bins=10) == pytest.approx(0.5)
    s = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    assert calibrate.mutual_information(s)[0] == pytest.approx(np.log(2))
    assert calibrate.expected_entropy(s)[0] == pytest.approx(0.0)
    assert calibrate.entropy([[0.5, 0.5]])[0] == pytest.approx(np.log(2))
    # the spread is the sample standard deviation (n - 1)
    assert calibrate.error_over_draws([[[0.9, 0.1]], [[0.2, 0.8]]], [0]) == (0.5, np.sqrt(0.5))


@pytest.mark.parametrize("k", [2, 3])
def test_equal_to_scikit_learn(k):
    p, y = random_probs(500, k, seed=k)
    assert calibrate.nll(p, y) == pytest.approx(log_loss(y, p, labels=list(range(k))), rel=1e-12)
    if k == 2:
        # ours sums over both classes: twice the binary Brier score
        assert calibrate.brier(p, y) == pytest.approx(2 * brier_score_loss(y, p[:, 1]), rel=1e-12)
    onehot = np.eye(k)[y]
    assert calibrate.brier(p, y) == pytest.approx(((p - onehot) ** 2).sum(axis=1).mean(), rel=1e-12)
    scores = p.max(axis=1)
    wrong = p.argmax(axis=1) != y
    assert calibrate.auroc(scores, wrong) == pytest.approx(roc_auc_score(wrong, scores), rel=1e-12)


def test_auroc_ties_are_half():
    s = np.round(np.random.default_rng(0).random(300), 1)
    pos = np.random.default_rng(1).random(300) < 0.4
    assert calibrate.auroc(s, pos) == pytest.approx(roc_auc_score(pos, s), rel=1e-12)


@pytest.mark.parametrize("bins", [1, 10, 15])
def test_ece_equals_the_numpy_binning(bins):
    p, y = random_probs(2000, 2, seed=bins)
    assert calibrate.ece(p, y, bins=bins) == pytest.approx(numpy_ece(p, y, bins), abs=1e-12)
    d = calibrate.reliability_bins(p, y, bins=bins)
    assert d["count"].sum() == 2000
    assert d["ece"] == pytest.approx(calibrate.ece(p, y, bins=bins))
    mass = calibrate.reliability_bins(p, y, bins=bins, strategy="mass")
    assert np.ptp(mass["count"]) <= 1


def test_temperature_scaling():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    logits = np.stack([np.where(y == 0, 3.0, -3.0), np.zeros(400)], axis=1)
    logits += rng.normal(size=(400, 2)) * 3  # overconfident logits
    fit = calibrate.fit_temperature(logits, y)
    assert fit["nll_after"] < fit["nll_before"]
    p = calibrate.softmax(logits, fit["temperature"])
    assert calibrate.nll(p, y) == pytest.approx(fit["nll_after"], rel=1e-9)
    assert calibrate.softmax([[0.0, 0.0]]).tolist() == [[0.5, 0.5]]


def test_conversions_that_lose_nothing():
    p, y = random_probs(300, 3, seed=9)
    ref = calibrate.ece(p, y)
    # a strided view (every other row, columns reversed twice) needs no copy
    big = np.repeat(p, 2, axis=0)[::2]
    assert calibrate.ece(big, y) == ref
    fortran = np.asfortranarray(p)
    assert calibrate.ece(fortran, y) == ref
    assert calibrate.ece(p, y.astype(np.uint8)) == ref
    assert calibrate.ece(p, y.astype(float)) == ref
    assert calibrate.ece(p.tolist(), y.tolist()) == ref
    p32 = p.astype(np.float32)
    assert calibrate.ece(p32, y) == calibrate.ece(p32.astype(np.float64), y)


@pytest.mark.parametrize(
    "probs, labels, match",
    [
        ([[np.nan, 1.0]], [0], "NaN"),
        ([[0.7, 0.7]], [0], "sum"),
        ([[0.5, 0.5]], [2], "class index"),
        ([[0.5, 0.5]], [-1], "class index"),
        ([[0.5, 0.5]], [0, 1], "labels"),
        ([0.5, 0.5], [0], "dimensions"),
        ([[0.5, 0.5]], [0.5], "whole numbers"),
        (np.array([["a", "b"]]), [0], "real-valued"),
        ([[0.5 + 0j, 0.5]], [0], "real-valued"),
        (np.zeros((0, 2)), np.zeros(0, dtype=int), "empty"),
    ],
)
def test_bad_input_is_a_value_error(probs, labels, match):
    with pytest.raises(ValueError, match=match):
        calibrate.ece(probs, labels)


def test_bad_settings():
    p, y = random_probs(10, 2, seed=0)
    with pytest.raises(ValueError, match="bins"):
        calibrate.ece(p, y, bins=0)
    with pytest.raises(ValueError, match="strategy"):
        calibrate.ece(p, y, strategy="log")
    with pytest.raises(ValueError, match="scores"):
        calibrate.auroc([0.1, 0.2], [True])
    with pytest.raises(ValueError):
        calibrate.softmax([[0.0, 1.0]], temperature=-1.0)
    with pytest.raises(ValueError, match="booleans"):
        calibrate.auroc([0.1, 0.2], [0, 2])
