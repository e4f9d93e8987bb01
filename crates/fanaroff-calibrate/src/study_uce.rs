//! UCE in the convention of the radio-galaxy BBB study's own evaluation
//! code (Mohan et al., repository `devinamhn/RadioGalaxies-BNNs`,
//! `eval/uncertainty`), which differs from [`uce`](fn@crate::uce) in four ways.
//!
//! | | [`uce`](fn@crate::uce) (Laves et al.) | [`study_uce`] |
//! |---|---|---|
//! | error of an input | 0/1 error of the predictive mean | fraction of weight draws whose argmax is wrong |
//! | bins | any [`Binning`](crate::Binning), default 10 | 8 equal-width bins `(lo, hi]`: `u = 0` falls in none |
//! | error scale | as is | times `K / (K - 1)` (2 for FRI / FRII), so a uniform guess has error 1 like its normalised entropy |
//! | unit | fraction | percent |
//!
//! Both use the normalised entropy of the predictive mean as the
//! uncertainty and weight bins by their share of all inputs.

use ndarray::{ArrayView3, Axis};
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::input::{DEFAULT_SUM_TOLERANCE, check_labels, check_samples};
use crate::uncertainty::{argmax, entropy_of};

/// The study's bin count.
pub const STUDY_UCE_BINS: usize = 8;

/// UCE, per-class UCE and cUCE in the study's convention, in percent.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct StudyUce {
    /// UCE over all inputs.
    pub uce: f64,
    /// UCE over the inputs of each true class (`None` for an absent class).
    pub per_class: Vec<Option<f64>>,
    /// Mean of the defined per-class values.
    pub cuce: f64,
    /// Bins used.
    pub bins: usize,
}

/// UCE of Monte Carlo samples `[S, N, K]` in the study's convention (see
/// the [module](self) table).
///
/// ```text
/// u_n   = H[mean_s p_sn] / ln K
/// e_n   = (1/S) sum_s 1[argmax_k p_snk != y_n]
/// UCE   = 100 sum_b (|b| / N) | u_b - K/(K-1) e_b |,   b = (j/B, (j+1)/B]
/// ```
///
/// # Errors
/// Invalid samples or labels, fewer than two classes, zero bins.
///
/// # Example
/// ```
/// use fanaroff_calibrate::study_uce;
/// use ndarray::array;
/// // one input, two draws: [0.9, 0.1] and [0.3, 0.7], label 0
/// let s = array![[[0.9, 0.1]], [[0.3, 0.7]]];
/// let r = study_uce(s.view(), &[0], 8).unwrap();
/// // mean [0.6, 0.4]: u = H / ln 2 = 0.97095; e = 1/2, scaled 1.0
/// assert!((r.uce - 100.0 * (1.0 - 0.970_950_6)).abs() < 1e-4);
/// ```
pub fn study_uce(samples: ArrayView3<'_, f64>, labels: &[usize], bins: usize) -> Result<StudyUce> {
    check_samples(samples, DEFAULT_SUM_TOLERANCE)?;
    let (n, k) = (samples.shape()[1], samples.shape()[2]);
    check_labels(labels, n, k)?;
    if k < 2 || bins == 0 {
        return Err(Error::param(
            "study_uce",
            format!("K = {k}, bins = {bins}"),
            "needs K >= 2 and at least one bin",
        ));
    }
    let mean = samples.mean_axis(Axis(0)).expect("S > 0 checked");
    let ln_k = (k as f64).ln();
    let scale = k as f64 / (k as f64 - 1.0);
    let u: Vec<f64> = mean.outer_iter().map(|r| entropy_of(r) / ln_k).collect();
    let e: Vec<f64> = (0..n)
        .map(|i| {
            let wrong = samples
                .outer_iter()
                .filter(|d| argmax(d.row(i)) != labels[i])
                .count();
            scale * wrong as f64 / samples.shape()[0] as f64
        })
        .collect();
    let all: Vec<usize> = (0..n).collect();
    let per_class: Vec<Option<f64>> = (0..k)
        .map(|c| {
            let idx: Vec<usize> = all.iter().copied().filter(|&i| labels[i] == c).collect();
            (!idx.is_empty()).then(|| binned(&u, &e, &idx, bins))
        })
        .collect();
    let defined: Vec<f64> = per_class.iter().flatten().copied().collect();
    Ok(StudyUce {
        uce: binned(&u, &e, &all, bins),
        cuce: defined.iter().sum::<f64>() / defined.len() as f64,
        per_class,
        bins,
    })
}

/// `100 sum_b (|b| / |idx|) |mean u - mean e|` over the inputs `idx`, bins
/// `(j/B, (j+1)/B]`.
fn binned(u: &[f64], e: &[f64], idx: &[usize], bins: usize) -> f64 {
    let total = idx.len() as f64;
    (0..bins)
        .map(|j| {
            let (lo, hi) = (j as f64 / bins as f64, (j + 1) as f64 / bins as f64);
            let members: Vec<usize> = idx
                .iter()
                .copied()
                .filter(|&i| u[i] > lo && u[i] <= hi)
                .collect();
            if members.is_empty() {
                return 0.0;
            }
            let m = members.len() as f64;
            let ub = members.iter().map(|&i| u[i]).sum::<f64>() / m;
            let eb = members.iter().map(|&i| e[i]).sum::<f64>() / m;
            (m / total) * (ub - eb).abs()
        })
        .sum::<f64>()
        * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn hand_computed_two_class_case() {
        // three inputs, two draws each
        let s = array![
            [[1.0, 0.0], [0.5, 0.5], [0.2, 0.8]],
            [[1.0, 0.0], [0.5, 0.5], [0.6, 0.4]]
        ];
        let labels = [0, 1, 1];
        let r = study_uce(s.view(), &labels, 8).unwrap();
        // input 0: u = 0 -> in no bin; input 1: u = 1, both draws argmax 0
        // (wrong), e = 2 * 1 = 2 -> bin 8 alone: |1 - 2| / 3;
        // input 2: mean [0.4, 0.6], u = 0.970951 (bin 8 as well), one wrong
        // draw, e = 1. Bin 8 holds inputs 1 and 2: u_b = 0.985475, e_b = 1.5.
        let u2 = -(0.4f64 * 0.4f64.ln() + 0.6 * 0.6f64.ln()) / 2f64.ln();
        let expect = 100.0 * (2.0 / 3.0) * ((1.0 + u2) / 2.0 - 1.5).abs();
        assert_abs_diff_eq!(r.uce, expect, epsilon = 1e-9);
        assert_eq!(r.per_class[0], Some(0.0));
        let fr2 = 100.0 * ((1.0 + u2) / 2.0 - 1.5).abs();
        assert_abs_diff_eq!(r.per_class[1].unwrap(), fr2, epsilon = 1e-9);
        assert_abs_diff_eq!(r.cuce, fr2 / 2.0, epsilon = 1e-9);
        assert!(study_uce(s.view(), &labels, 0).is_err());
        assert!(study_uce(s.view(), &[0, 1], 8).is_err());
    }
}
