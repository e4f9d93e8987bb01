//! `fanaroff._native.calibrate`: the metrics of `fanaroff-calibrate` on
//! numpy arrays, computed without the GIL.

use crate::arrays::{labels_for, labels_for_samples};
use crate::errors::{guarded, value};
use fanaroff_calibrate as cal;
use fanaroff_calibrate::{BinStrategy, Binning};
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray3,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

fn binning(bins: usize, strategy: &str) -> PyResult<Binning> {
    let s: BinStrategy = strategy.parse().map_err(value)?;
    Ok(Binning::new(bins).map_err(value)?.with_strategy(s))
}

/// A metric of probabilities `[N, K]` and labels `[N]`.
fn scored(
    py: Python<'_>,
    probs: PyReadonlyArray2<'_, f64>,
    labels: PyReadonlyArray1<'_, i64>,
    f: impl FnOnce(ndarray::ArrayView2<'_, f64>, &[usize]) -> cal::Result<f64> + Send,
) -> PyResult<f64> {
    let y = labels_for(&probs, &labels)?;
    let p = probs.as_array();
    guarded(|| py.detach(|| f(p, &y)).map_err(value))
}

/// A binned calibration error of probabilities `[N, K]` and labels `[N]`:
/// `metric` is `ece`, `mce`, `uce` or `cuce`.
#[pyfunction]
fn binned(
    py: Python<'_>,
    probs: PyReadonlyArray2<'_, f64>,
    labels: PyReadonlyArray1<'_, i64>,
    bins: usize,
    strategy: &str,
    metric: &str,
) -> PyResult<f64> {
    let b = binning(bins, strategy)?;
    let f: fn(ndarray::ArrayView2<'_, f64>, &[usize], Binning) -> cal::Result<f64> = match metric {
        "ece" => cal::ece,
        "mce" => cal::mce,
        "uce" => cal::uce,
        "cuce" => |p, y, b| Ok(cal::class_uce(p, y, b)?.cuce),
        other => {
            return Err(value(format!(
                "metric {other:?}: expected ece, mce, uce or cuce"
            )));
        }
    };
    scored(py, probs, labels, move |p, y| f(p, y, b))
}

#[pyfunction]
fn brier(
    py: Python<'_>,
    probs: PyReadonlyArray2<'_, f64>,
    labels: PyReadonlyArray1<'_, i64>,
) -> PyResult<f64> {
    scored(py, probs, labels, cal::brier)
}

#[pyfunction]
fn nll(
    py: Python<'_>,
    probs: PyReadonlyArray2<'_, f64>,
    labels: PyReadonlyArray1<'_, i64>,
) -> PyResult<f64> {
    scored(py, probs, labels, cal::nll)
}

#[pyfunction]
fn auroc(
    py: Python<'_>,
    scores: PyReadonlyArray1<'_, f64>,
    positives: PyReadonlyArray1<'_, bool>,
) -> PyResult<f64> {
    let (s, p) = (scores.as_array(), positives.as_array());
    if s.len() != p.len() {
        return Err(value(format!(
            "auroc: {} scores but {} positive flags",
            s.len(),
            p.len()
        )));
    }
    let (s, p) = (s.to_vec(), p.to_vec());
    guarded(|| py.detach(|| cal::auroc(&s, &p)).map_err(value))
}

/// The top-label reliability diagram as arrays (empty bins: NaN means).
#[pyfunction]
fn reliability_bins<'py>(
    py: Python<'py>,
    probs: PyReadonlyArray2<'py, f64>,
    labels: PyReadonlyArray1<'py, i64>,
    bins: usize,
    strategy: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let b = binning(bins, strategy)?;
    let y = labels_for(&probs, &labels)?;
    let p = probs.as_array();
    let d = guarded(|| {
        py.detach(|| cal::reliability_diagram(p, &y, b))
            .map_err(value)
    })?;
    let col = |f: &dyn Fn(&cal::BinStat) -> f64| -> Vec<f64> { d.bins.iter().map(f).collect() };
    let out = PyDict::new(py);
    out.set_item("lower", col(&|s| s.lower).into_pyarray(py))?;
    out.set_item("upper", col(&|s| s.upper).into_pyarray(py))?;
    out.set_item("count", col(&|s| s.count as f64).into_pyarray(py))?;
    out.set_item(
        "confidence",
        col(&|s| s.mean_score.unwrap_or(f64::NAN)).into_pyarray(py),
    )?;
    out.set_item(
        "accuracy",
        col(&|s| s.mean_outcome.unwrap_or(f64::NAN)).into_pyarray(py),
    )?;
    out.set_item("ece", d.calibration_error)?;
    out.set_item("mce", d.max_calibration_error)?;
    Ok(out)
}

/// Fits a temperature on validation logits: `(t, nll_before, nll_after)`.
#[pyfunction]
fn fit_temperature(
    py: Python<'_>,
    logits: PyReadonlyArray2<'_, f64>,
    labels: PyReadonlyArray1<'_, i64>,
) -> PyResult<(f64, f64, f64)> {
    let y = labels_for(&logits, &labels)?;
    let z = logits.as_array();
    let t = guarded(|| {
        py.detach(|| cal::TemperatureScaling::fit(z, &y))
            .map_err(value)
    })?;
    Ok((t.temperature, t.nll_before, t.nll_after))
}

/// `softmax(logits / temperature)`.
#[pyfunction]
fn softmax<'py>(
    py: Python<'py>,
    logits: PyReadonlyArray2<'py, f64>,
    temperature: f64,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let z = logits.as_array();
    let t = cal::TemperatureScaling::with_temperature(temperature).map_err(value)?;
    let p = guarded(|| py.detach(|| t.apply(z)).map_err(value))?;
    Ok(p.into_pyarray(py))
}

/// `f` of an array without the GIL, its result as a numpy array.
fn computed<'py, In, Out>(
    py: Python<'py>,
    input: ndarray::ArrayView<'_, f64, In>,
    f: impl FnOnce(ndarray::ArrayView<'_, f64, In>) -> cal::Result<ndarray::Array<f64, Out>> + Send,
) -> PyResult<Bound<'py, numpy::PyArray<f64, Out>>>
where
    In: ndarray::Dimension,
    Out: ndarray::Dimension,
{
    let out = guarded(|| py.detach(|| f(input)).map_err(value))?;
    Ok(out.into_pyarray(py))
}

#[pyfunction]
fn entropy<'py>(
    py: Python<'py>,
    probs: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    computed(py, probs.as_array(), cal::entropy)
}

#[pyfunction]
fn mutual_information<'py>(
    py: Python<'py>,
    samples: PyReadonlyArray3<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    computed(py, samples.as_array(), cal::mutual_information)
}

#[pyfunction]
fn expected_entropy<'py>(
    py: Python<'py>,
    samples: PyReadonlyArray3<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    computed(py, samples.as_array(), cal::expected_entropy)
}

#[pyfunction]
fn predictive_mean<'py>(
    py: Python<'py>,
    samples: PyReadonlyArray3<'py, f64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    computed(py, samples.as_array(), cal::predictive_mean)
}

/// Error of the predictive mean of samples `[S, N, K]` per draw:
/// the mean and spread over draws of each draw's error rate.
#[pyfunction]
fn error_over_draws(
    py: Python<'_>,
    samples: PyReadonlyArray3<'_, f64>,
    labels: PyReadonlyArray1<'_, i64>,
) -> PyResult<(f64, f64)> {
    let y = labels_for_samples(&samples, &labels)?;
    let s = samples.as_array();
    guarded(|| {
        py.detach(|| {
            let errs: Vec<f64> = s
                .outer_iter()
                .map(|draw| cal::error_rate(draw, &y))
                .collect::<cal::Result<_>>()?;
            Ok(fanaroff_core::mean_std(&errs))
        })
        .map_err(|e: cal::Error| value(e))
    })
}

/// The `calibrate` submodule.
pub fn module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    let m = PyModule::new(py, "calibrate")?;
    m.add_function(wrap_pyfunction!(binned, &m)?)?;
    m.add_function(wrap_pyfunction!(brier, &m)?)?;
    m.add_function(wrap_pyfunction!(nll, &m)?)?;
    m.add_function(wrap_pyfunction!(auroc, &m)?)?;
    m.add_function(wrap_pyfunction!(reliability_bins, &m)?)?;
    m.add_function(wrap_pyfunction!(fit_temperature, &m)?)?;
    m.add_function(wrap_pyfunction!(softmax, &m)?)?;
    m.add_function(wrap_pyfunction!(entropy, &m)?)?;
    m.add_function(wrap_pyfunction!(mutual_information, &m)?)?;
    m.add_function(wrap_pyfunction!(expected_entropy, &m)?)?;
    m.add_function(wrap_pyfunction!(predictive_mean, &m)?)?;
    m.add_function(wrap_pyfunction!(error_over_draws, &m)?)?;
    Ok(m)
}
