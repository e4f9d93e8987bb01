//! The Mann-Whitney U (Wilcoxon rank-sum) test: does one sample of scores
//! (e.g. the entropy on MBFRUncertain images) tend to be larger than
//! another (the entropy on MBFRConfident test images)?

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::error::{Error, Result};

/// Result of [`mann_whitney_u`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct MannWhitney {
    /// `U` of the first sample: the number of pairs `(x, y)` with `x > y`,
    /// ties counting one half.
    pub u: f64,
    /// One-sided p-value for "the first sample tends to be larger"
    /// (normal approximation with tie correction and continuity correction).
    pub p_greater: f64,
    /// `U / (n_x n_y)`: the probability that a random `x` exceeds a random
    /// `y` (the common-language effect size; 0.5 = no difference).
    pub effect: f64,
}

/// Mann-Whitney U test of `x` against `y`, one-sided (`x` larger).
///
/// ```text
/// U     = R_x - n_x (n_x + 1) / 2          (R_x: rank sum of x, ties averaged)
/// sigma = sqrt(n_x n_y / 12 ((n + 1) - sum_t (t^3 - t) / (n (n - 1))))
/// p     = 1 - Phi((U - n_x n_y / 2 - 1/2) / sigma)
/// ```
///
/// The same values as SciPy's `mannwhitneyu(x, y, alternative="greater",
/// method="asymptotic")`.
///
/// # Errors
/// An empty sample, a NaN score, or all scores equal (no variance).
///
/// # Example
/// ```
/// use fanaroff_calibrate::mann_whitney_u;
/// let r = mann_whitney_u(&[0.5, 0.9, 0.2, 0.7, 0.65, 0.3, 0.95], &[0.1, 0.4, 0.35, 0.8, 0.2, 0.2]).unwrap();
/// assert_eq!(r.u, 32.0);
/// assert!((r.p_greater - 0.065_737_562).abs() < 1e-8);
/// ```
pub fn mann_whitney_u(x: &[f64], y: &[f64]) -> Result<MannWhitney> {
    if x.is_empty() || y.is_empty() {
        return Err(Error::empty("Mann-Whitney U needs two non-empty samples"));
    }
    if x.iter().chain(y).any(|v| v.is_nan()) {
        return Err(Error::param(
            "mann_whitney_u",
            "NaN",
            "scores must not be NaN",
        ));
    }
    let (nx, ny) = (x.len() as f64, y.len() as f64);
    let n = nx + ny;
    let (ranks_x, ties) = ranks(x, y);
    let u = ranks_x - nx * (nx + 1.0) / 2.0;
    let var = nx * ny / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if var <= 0.0 {
        return Err(Error::param(
            "mann_whitney_u",
            "all scores equal",
            "no variance to test",
        ));
    }
    let z = (u - nx * ny / 2.0 - 0.5) / var.sqrt();
    let normal = Normal::standard();
    Ok(MannWhitney {
        u,
        p_greater: 1.0 - normal.cdf(z),
        effect: u / (nx * ny),
    })
}

/// Rank sum of `x` in the pooled sample (ties get their average rank) and
/// the tie term `sum_t (t^3 - t)`.
fn ranks(x: &[f64], y: &[f64]) -> (f64, f64) {
    let mut pooled: Vec<(f64, bool)> = x
        .iter()
        .map(|&v| (v, true))
        .chain(y.iter().map(|&v| (v, false)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_x, mut ties, mut i) = (0.0, 0.0, 0);
    while i < pooled.len() {
        let j = (i..pooled.len())
            .find(|&j| pooled[j].0 != pooled[i].0)
            .unwrap_or(pooled.len());
        let t = (j - i) as f64;
        let average = (i + j + 1) as f64 / 2.0; // ranks i+1 ..= j
        rank_x += average * pooled[i..j].iter().filter(|p| p.1).count() as f64;
        ties += t * t * t - t;
        i = j;
    }
    (rank_x, ties)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn matches_scipy_with_many_ties() {
        // scipy.stats.mannwhitneyu(y, x, alternative="greater", method="asymptotic")
        let x = [
            0.6, 0.3, 0.0, 0.0, 0.8, 0.9, 0.6, 0.7, 0.5, 0.9, 0.8, 0.0, 0.9, 0.0, 0.7, 0.2, 0.9,
            0.5, 0.3, 0.4, 0.0, 0.1, 0.7, 0.6, 0.6, 0.4, 1.0, 1.0, 0.7, 0.7, 0.7, 0.4, 0.1, 0.7,
            0.5, 0.3, 0.5, 0.9, 0.9, 0.4,
        ];
        let y = [
            0.8, 0.5, 0.8, 0.5, 0.6, 1.1, 0.4, 0.8, 0.3, 1.0, 1.0, 0.4, 1.1, 0.3, 0.5, 0.4, 0.7,
            1.0, 0.4, 0.3, 0.6, 0.4, 0.3, 0.8, 0.5, 0.9, 0.4, 1.1, 0.6, 0.3,
        ];
        let r = mann_whitney_u(&y, &x).unwrap();
        assert_eq!(r.u, 679.0);
        assert_relative_eq!(r.p_greater, 0.174_475_240_590_369_12, max_relative = 1e-9);
        let a = [0.1, 0.4, 0.35, 0.8, 0.2, 0.2];
        let b = [0.5, 0.9, 0.2, 0.7, 0.65, 0.3, 0.95];
        let r = mann_whitney_u(&a, &b).unwrap();
        assert_eq!(r.u, 10.0);
        assert_relative_eq!(r.p_greater, 0.950_728_536_641_391_3, max_relative = 1e-9);
        assert!(mann_whitney_u(&[], &b).is_err());
        assert!(mann_whitney_u(&[1.0, 1.0], &[1.0]).is_err());
        assert!(mann_whitney_u(&[f64::NAN], &[1.0]).is_err());
    }
}
