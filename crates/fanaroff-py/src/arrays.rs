//! Checks on the arrays that come in from Python. The Python layer has
//! already converted dtypes where that is lossless (`fanaroff/_arrays.py`);
//! here shapes are checked and arrays are viewed without copies (strided
//! views work, so non-contiguous arrays need no copy either).

use numpy::{PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray3};
use pyo3::PyResult;
use pyo3::exceptions::PyValueError;

/// Labels `[N]` as class indices, each below `k`.
pub fn labels(y: &PyReadonlyArray1<'_, i64>, n: usize, k: usize) -> PyResult<Vec<usize>> {
    let y = y.as_array();
    if y.len() != n {
        return Err(PyValueError::new_err(format!(
            "labels: {} labels for {n} predictions",
            y.len()
        )));
    }
    y.iter()
        .map(|&v| {
            if v < 0 || v as usize >= k {
                Err(PyValueError::new_err(format!(
                    "labels: label {v} is not a class index in 0..{k}"
                )))
            } else {
                Ok(v as usize)
            }
        })
        .collect()
}

/// Labels for probabilities `[N, K]`.
pub fn labels_for(
    p: &PyReadonlyArray2<'_, f64>,
    y: &PyReadonlyArray1<'_, i64>,
) -> PyResult<Vec<usize>> {
    let (n, k) = p.as_array().dim();
    labels(y, n, k)
}

/// Labels for samples `[S, N, K]`.
pub fn labels_for_samples(
    s: &PyReadonlyArray3<'_, f64>,
    y: &PyReadonlyArray1<'_, i64>,
) -> PyResult<Vec<usize>> {
    let (_, n, k) = s.as_array().dim();
    labels(y, n, k)
}
