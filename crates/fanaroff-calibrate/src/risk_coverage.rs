//! Selective classification summarised by one number: the area under the
//! risk-coverage curve (AURC, Geifman et al. 2019) and under the
//! generalised risk-coverage curve (AUGRC, Traub et al. 2024).
//!
//! The `n` predictions are accepted in decreasing order of confidence. After
//! accepting `i` of them, with `e_i` errors among them,
//!
//! ```text
//! risk(i)             = e_i / i        (error rate of the accepted)
//! generalised risk(i) = e_i / n        (accepted and wrong, per prediction)
//! AURC  = (1/n) sum_{i=1..n} risk(i)
//! AUGRC = (1/n) sum_{i=1..n} generalised risk(i)
//! ```
//!
//! Equal confidences are accepted together: inside a tie group `e_i` grows
//! linearly (the expectation over the orders of the group), so the result
//! does not depend on the input order. Lower is better for both. AUGRC
//! weights every prediction equally, where AURC over-weights the few most
//! confident ones.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// AURC, AUGRC and the AURC of an oracle that accepts the correct
/// predictions first.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct RiskCoverage {
    /// Area under the risk-coverage curve.
    pub aurc: f64,
    /// Area under the generalised risk-coverage curve.
    pub augrc: f64,
    /// The oracle's AURC for the same error count (the floor of `aurc`).
    pub optimal_aurc: f64,
}

impl RiskCoverage {
    /// `aurc - optimal_aurc` (excess AURC, E-AURC).
    pub fn excess_aurc(&self) -> f64 {
        self.aurc - self.optimal_aurc
    }
}

/// Risk-coverage summaries of `confidence` (higher = more confident) and
/// whether each prediction was `correct`.
///
/// # Errors
/// No predictions, lengths that differ, a NaN confidence.
///
/// # Example
/// ```
/// use fanaroff_calibrate::risk_coverage;
/// // the wrong prediction is the least confident: risks 0, 0, 1/3
/// let r = risk_coverage(&[0.9, 0.8, 0.6], &[true, true, false]).unwrap();
/// assert!((r.aurc - 1.0 / 9.0).abs() < 1e-12);
/// assert!((r.augrc - 1.0 / 9.0).abs() < 1e-12); // generalised risks 0, 0, 1/3
/// assert_eq!(r.excess_aurc(), 0.0);
/// ```
pub fn risk_coverage(confidence: &[f64], correct: &[bool]) -> Result<RiskCoverage> {
    let n = confidence.len();
    if n == 0 {
        return Err(Error::empty("risk-coverage needs at least one prediction"));
    }
    if correct.len() != n {
        return Err(Error::shape(
            "correct flags",
            format!("{n}"),
            format!("{}", correct.len()),
        ));
    }
    if let Some(i) = confidence.iter().position(|c| c.is_nan()) {
        return Err(Error::NonFinite {
            location: format!("confidence {i}"),
            value: f64::NAN,
        });
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| confidence[b].total_cmp(&confidence[a]));
    let errors: Vec<f64> = order
        .iter()
        .map(|&i| f64::from(u8::from(!correct[i])))
        .collect();
    let ties: Vec<f64> = order.iter().map(|&i| confidence[i]).collect();
    let (aurc, augrc) = areas(&errors, &ties);
    let wrong = errors.iter().sum::<f64>();
    let mut best = vec![0.0; n];
    best[n - wrong as usize..].fill(1.0);
    let distinct: Vec<f64> = (0..n).map(|i| i as f64).collect();
    Ok(RiskCoverage {
        aurc,
        augrc,
        optimal_aurc: areas(&best, &distinct).0,
    })
}

/// AURC and AUGRC of error flags in acceptance order, ties (equal
/// `keys`) spread evenly over their group.
fn areas(errors: &[f64], keys: &[f64]) -> (f64, f64) {
    let n = errors.len();
    let (mut risk, mut grisk, mut before, mut start) = (0.0, 0.0, 0.0, 0);
    while start < n {
        let end = (start..n).find(|&j| keys[j] != keys[start]).unwrap_or(n);
        let group = &errors[start..end];
        let rate = group.iter().sum::<f64>() / group.len() as f64;
        for i in start + 1..=end {
            let e = before + (i - start) as f64 * rate;
            risk += e / i as f64;
            grisk += e / n as f64;
        }
        before += group.iter().sum::<f64>();
        start = end;
    }
    (risk / n as f64, grisk / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_values_ties_and_bad_input() {
        // most confident is wrong: risks 1, 1/2, 1/3; generalised 1/3 each
        let r = risk_coverage(&[0.9, 0.8, 0.6], &[false, true, true]).unwrap();
        assert!((r.aurc - (1.0 + 0.5 + 1.0 / 3.0) / 3.0).abs() < 1e-12);
        assert!((r.augrc - 1.0 / 3.0).abs() < 1e-12);
        assert!((r.optimal_aurc - 1.0 / 9.0).abs() < 1e-12);
        // all tied: errors spread, e_i = i/2 -> risk 1/2 everywhere
        let t = risk_coverage(&[0.5; 4], &[true, false, false, true]).unwrap();
        assert!((t.aurc - 0.5).abs() < 1e-12);
        // generalised: (0.5 + 1 + 1.5 + 2) / 4 / 4
        assert!((t.augrc - 5.0 / 16.0).abs() < 1e-12);
        // the input order does not matter with ties
        let u = risk_coverage(&[0.5; 4], &[false, false, true, true]).unwrap();
        assert_eq!(t, u);
        assert!(risk_coverage(&[], &[]).is_err());
        assert!(risk_coverage(&[0.1], &[true, false]).is_err());
        assert!(risk_coverage(&[f64::NAN], &[true]).is_err());
    }
}
