//! `fanaroff._native.scores`: conformal prediction sets, out-of-distribution
//! scores and risk-coverage of `fanaroff-calibrate`, without the GIL.

use crate::arrays::labels_for;
use crate::errors::{guarded, value};
use fanaroff_calibrate as cal;
use fanaroff_calibrate::{ConformityScore, SplitConformal};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn conformity(
    score: &str,
    lambda: f64,
    k_reg: usize,
    randomised: bool,
) -> PyResult<ConformityScore> {
    Ok(match score {
        "lac" => ConformityScore::Lac,
        "aps" => ConformityScore::Aps { randomised },
        "raps" => ConformityScore::Raps {
            lambda,
            k_reg,
            randomised,
        },
        other => {
            return Err(value(format!(
                "score {other:?}: expected \"lac\", \"aps\" or \"raps\""
            )));
        }
    })
}

/// Split conformal sets: calibrated on `(cal_probs, cal_labels)`, applied
/// to `probs`. Returns the sets (class indices) and the thresholds.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn conformal_sets(
    py: Python<'_>,
    cal_probs: PyReadonlyArray2<'_, f64>,
    cal_labels: PyReadonlyArray1<'_, i64>,
    probs: PyReadonlyArray2<'_, f64>,
    alpha: f64,
    score: &str,
    class_conditional: bool,
    lam: f64,
    k_reg: usize,
    randomised: bool,
    seed: u64,
) -> PyResult<(Vec<Vec<usize>>, Vec<f64>)> {
    let s = conformity(score, lam, k_reg, randomised)?;
    let y = labels_for(&cal_probs, &cal_labels)?;
    let (c, p) = (cal_probs.as_array(), probs.as_array());
    guarded(|| {
        py.detach(|| -> cal::Result<_> {
            let mut rng = StdRng::seed_from_u64(seed);
            let predictor = SplitConformal::new(s, alpha)?
                .class_conditional(class_conditional)
                .calibrate(c, &y, &mut rng)?;
            Ok((
                predictor.predict_sets(p, &mut rng)?,
                predictor.thresholds().to_vec(),
            ))
        })
        .map_err(value)
    })
}

/// `-max_k z_k` per row of the logits.
#[pyfunction]
fn max_logit_score(py: Python<'_>, logits: PyReadonlyArray2<'_, f64>) -> PyResult<Vec<f64>> {
    let z = logits.as_array();
    guarded(|| py.detach(|| cal::max_logit_score(z)).map_err(value))
}

/// The energy `-T ln sum_k exp(z_k / T)` per row of the logits.
#[pyfunction]
fn energy_score(
    py: Python<'_>,
    logits: PyReadonlyArray2<'_, f64>,
    temperature: f64,
) -> PyResult<Vec<f64>> {
    let z = logits.as_array();
    guarded(|| {
        py.detach(|| cal::energy_score(z, temperature))
            .map_err(value)
    })
}

/// Mahalanobis distances of `features` to the nearest class mean of
/// `(train_features, train_labels)` with a shared covariance (+ ridge).
#[pyfunction]
fn mahalanobis_score(
    py: Python<'_>,
    train_features: PyReadonlyArray2<'_, f64>,
    train_labels: PyReadonlyArray1<'_, i64>,
    features: PyReadonlyArray2<'_, f64>,
    classes: usize,
    ridge: f64,
) -> PyResult<Vec<f64>> {
    let n = train_features.as_array().nrows();
    let y = crate::arrays::labels(&train_labels, n, classes)?;
    let (t, f) = (train_features.as_array(), features.as_array());
    guarded(|| {
        py.detach(|| cal::Mahalanobis::fit(t, &y, classes, ridge)?.score(f))
            .map_err(value)
    })
}

/// AURC, AUGRC and the oracle's AURC of `confidence` against `correct`.
#[pyfunction]
fn risk_coverage(
    py: Python<'_>,
    confidence: PyReadonlyArray1<'_, f64>,
    correct: PyReadonlyArray1<'_, bool>,
) -> PyResult<(f64, f64, f64)> {
    let (c, ok) = (confidence.as_array().to_vec(), correct.as_array().to_vec());
    let r = guarded(|| py.detach(|| cal::risk_coverage(&c, &ok)).map_err(value))?;
    Ok((r.aurc, r.augrc, r.optimal_aurc))
}

/// The `scores` submodule.
pub fn module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    let m = PyModule::new(py, "scores")?;
    m.add_function(wrap_pyfunction!(conformal_sets, &m)?)?;
    m.add_function(wrap_pyfunction!(max_logit_score, &m)?)?;
    m.add_function(wrap_pyfunction!(energy_score, &m)?)?;
    m.add_function(wrap_pyfunction!(mahalanobis_score, &m)?)?;
    m.add_function(wrap_pyfunction!(risk_coverage, &m)?)?;
    Ok(m)
}
