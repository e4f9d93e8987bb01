//! Out-of-distribution scores from logits, and the false-positive rate at
//! 95 % true-positive rate. Every score here is "higher = more likely out
//! of distribution", the convention of [`ood_detection`](crate::ood_detection);
//! predictive entropy and mutual information (from [`Uncertainty`](crate::Uncertainty))
//! already follow it.

use crate::error::{Error, Result};
use ndarray::ArrayView2;

fn check_logits(logits: ArrayView2<'_, f64>) -> Result<()> {
    if logits.nrows() == 0 || logits.ncols() == 0 {
        return Err(Error::empty("logits need at least one row and one class"));
    }
    match logits.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((i, j), &v)) => Err(Error::NonFinite {
            location: format!("logits [{i}, {j}]"),
            value: v,
        }),
        None => Ok(()),
    }
}

/// `-max_k z_k` per row of the logits `[N, K]` (Hendrycks et al. 2022).
///
/// # Errors
/// Empty or non-finite logits.
pub fn max_logit_score(logits: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
    check_logits(logits)?;
    Ok(logits
        .outer_iter()
        .map(|r| -r.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        .collect())
}

/// The energy `-T ln sum_k exp(z_k / T)` per row of the logits (Liu et
/// al. 2020), computed with log-sum-exp.
///
/// # Errors
/// Empty or non-finite logits; a temperature that is not positive.
///
/// # Example
/// ```
/// use fanaroff_calibrate::energy_score;
/// let e = energy_score(ndarray::array![[0.0, 0.0], [10.0, 0.0]].view(), 1.0).unwrap();
/// assert!((e[0] + 2f64.ln()).abs() < 1e-12);
/// assert!(e[1] < e[0]); // a confident row is less "out of distribution"
/// ```
pub fn energy_score(logits: ArrayView2<'_, f64>, temperature: f64) -> Result<Vec<f64>> {
    check_logits(logits)?;
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(Error::param(
            "temperature",
            temperature,
            "must be finite and > 0",
        ));
    }
    Ok(logits
        .outer_iter()
        .map(|r| {
            let m = r.iter().copied().fold(f64::NEG_INFINITY, f64::max) / temperature;
            let s: f64 = r.iter().map(|z| (z / temperature - m).exp()).sum();
            -temperature * (m + s.ln())
        })
        .collect())
}

/// The fraction of out-of-distribution inputs accepted as in-distribution
/// when the threshold accepts `tpr` of the in-distribution ones (FPR at
/// 95 % TPR with `tpr = 0.95`, in-distribution as the positive class).
/// The threshold is the smallest in-distribution score `t` with at least
/// `tpr` of the in-distribution scores at or below it; an input is
/// accepted when its score is at most `t`.
///
/// # Errors
/// An empty set, NaN scores, `tpr` outside `(0, 1]`.
///
/// # Example
/// ```
/// use fanaroff_calibrate::fpr_at_tpr;
/// let ind: Vec<f64> = (0..20).map(f64::from).collect(); // 0..19
/// let ood = [18.5, 30.0, 5.0, 40.0];
/// // 95 % of 20 scores is 19: threshold 18; of the OOD scores only 5 is at or below it
/// assert_eq!(fpr_at_tpr(&ind, &ood, 0.95).unwrap(), 0.25);
/// ```
pub fn fpr_at_tpr(in_scores: &[f64], out_scores: &[f64], tpr: f64) -> Result<f64> {
    if in_scores.is_empty() || out_scores.is_empty() {
        return Err(Error::empty(
            "FPR at TPR needs in- and out-of-distribution scores",
        ));
    }
    if !(tpr > 0.0 && tpr <= 1.0) {
        return Err(Error::param("tpr", tpr, "must be in (0, 1]"));
    }
    if let Some(v) = in_scores.iter().chain(out_scores).find(|v| v.is_nan()) {
        return Err(Error::NonFinite {
            location: "OOD scores".into(),
            value: *v,
        });
    }
    let mut sorted = in_scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let need = ((tpr * sorted.len() as f64) - 1e-9).ceil().max(1.0) as usize;
    let t = sorted[need - 1];
    let accepted = out_scores.iter().filter(|&&s| s <= t).count();
    Ok(accepted as f64 / out_scores.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn hand_values() {
        let z = array![[2.0, -1.0, 0.5], [-3.0, -2.0, -4.0]];
        assert_eq!(max_logit_score(z.view()).unwrap(), vec![-2.0, 2.0]);
        // at T = 2: -2 ln(e^1 + e^-0.5 + e^0.25)
        let e = energy_score(z.view(), 2.0).unwrap();
        let want = -2.0 * (1f64.exp() + (-0.5f64).exp() + 0.25f64.exp()).ln();
        assert!((e[0] - want).abs() < 1e-12);
        // large logits do not overflow
        assert!(energy_score(array![[1000.0, 999.0]].view(), 1.0).unwrap()[0].is_finite());
        // every in-distribution score accepted at TPR 1: OOD at or below the maximum
        assert_eq!(
            fpr_at_tpr(&[1.0, 2.0, 3.0], &[0.5, 3.0, 4.0], 1.0).unwrap(),
            2.0 / 3.0
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        let empty = ndarray::Array2::<f64>::zeros((0, 2));
        assert!(max_logit_score(empty.view()).is_err());
        assert!(max_logit_score(array![[f64::NAN, 1.0]].view()).is_err());
        assert!(energy_score(array![[1.0, 2.0]].view(), 0.0).is_err());
        assert!(energy_score(array![[1.0, f64::INFINITY]].view(), 1.0).is_err());
        assert!(fpr_at_tpr(&[], &[1.0], 0.95).is_err());
        assert!(fpr_at_tpr(&[1.0], &[f64::NAN], 0.95).is_err());
        assert!(fpr_at_tpr(&[1.0], &[1.0], 0.0).is_err());
    }
}
