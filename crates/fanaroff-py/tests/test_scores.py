"""fanaroff.scores: conformal sets against the split-conformal formula
(and their coverage), OOD scores against numpy, risk-coverage by hand."""

import numpy as np
import pytest

from fanaroff import scores


def probs(n, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3)) * 2
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=r) for r in p])
    return p, y


def test_lac_threshold_is_the_conformal_quantile_and_covers():
    p_cal, y_cal = probs(500, 0)
    p_test, y_test = probs(4000, 1)
    alpha = 0.1
    sets, thresholds = scores.conformal_sets(p_cal, y_cal, p_test, alpha=alpha)
    s = 1 - p_cal[np.arange(len(y_cal)), y_cal]
    n = len(s)
    q = np.sort(s)[int(np.ceil((n + 1) * (1 - alpha))) - 1]
    assert thresholds == [pytest.approx(q, abs=1e-15)]
    # every set is {k : 1 - p_k <= q}
    expected = [list(np.flatnonzero(1 - r <= q)) for r in p_test]
    assert sets == expected
    cov = scores.set_coverage(sets, y_test)
    assert 0.88 <= cov <= 0.93, cov  # 1 - alpha on exchangeable data
    assert 1.0 <= scores.mean_set_size(sets) <= 3.0


def test_mondrian_aps_and_raps():
    p_cal, y_cal = probs(600, 2)
    p_test, y_test = probs(3000, 3)
    sets, th = scores.conformal_sets(p_cal, y_cal, p_test, alpha=0.2, class_conditional=True)
    assert len(th) == 3
    for k in range(3):
        cov_k = scores.set_coverage([s for s, y in zip(sets, y_test) if y == k], y_test[y_test == k])
        assert cov_k >= 0.75, (k, cov_k)
    for score in ["aps", "raps"]:
        sets, _ = scores.conformal_sets(p_cal, y_cal, p_test, alpha=0.2, score=score, randomised=True, seed=4)
        again, _ = scores.conformal_sets(p_cal, y_cal, p_test, alpha=0.2, score=score, randomised=True, seed=4)
        assert sets == again
        assert 0.77 <= scores.set_coverage(sets, y_test) <= 0.84
    with pytest.raises(ValueError, match="score"):
        scores.conformal_sets(p_cal, y_cal, p_test, score="thr")
    with pytest.raises(ValueError):
        scores.conformal_sets(p_cal, y_cal, p_test, alpha=1.5)
    with pytest.raises(ValueError):
        scores.set_coverage([[0]], [0, 1])


def test_ood_scores_equal_numpy():
    z = np.random.default_rng(5).normal(size=(50, 4)) * 3
    assert np.allclose(scores.max_logit_score(z), -z.max(axis=1), rtol=0, atol=0)
    t = 2.0
    m = (z / t).max(axis=1)
    energy = -t * (m + np.log(np.exp(z / t - m[:, None]).sum(axis=1)))
    assert np.allclose(scores.energy_score(z, t), energy, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError):
        scores.energy_score(z, 0.0)
    with pytest.raises(ValueError):
        scores.max_logit_score([[np.nan, 1.0]])


def test_mahalanobis_equals_numpy():
    rng = np.random.default_rng(6)
    f = rng.normal(size=(200, 3))
    y = rng.integers(0, 2, 200)
    f[y == 1] += 3
    x = rng.normal(size=(10, 3)) * 2
    ridge = 1e-3
    means = np.stack([f[y == k].mean(axis=0) for k in range(2)])
    centred = f - means[y]
    cov = centred.T @ centred / len(f)
    cov += ridge * np.trace(cov) / 3 * np.eye(3)  # ridge times the mean variance
    inv = np.linalg.inv(cov)
    d = np.stack([np.einsum("ij,jk,ik->i", x - m, inv, x - m) for m in means]).min(axis=0)
    ours = scores.mahalanobis_score(f, y, x, classes=2, ridge=ridge)
    assert np.allclose(ours, d, rtol=1e-9)


def test_risk_coverage():
    r = scores.risk_coverage([0.9, 0.8, 0.3], [True, True, False])
    assert r["excess_aurc"] == 0.0 and r["aurc"] == r["optimal_aurc"]
    worst = scores.risk_coverage([0.3, 0.8, 0.9], [True, True, False])
    assert worst["aurc"] > r["aurc"] and worst["augrc"] > r["augrc"]
    with pytest.raises(ValueError):
        scores.risk_coverage([0.5], [True, False])
