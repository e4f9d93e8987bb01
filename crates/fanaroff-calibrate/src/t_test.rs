//! Student's t-test of paired differences: is the mean of the differences
//! (e.g. one method's test error minus another's, paired by training seed)
//! different from zero?

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::error::{Error, Result};

/// Result of [`paired_t_test`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct TTest {
    /// `mean / (std / sqrt(n))`, with the sample standard deviation.
    pub t: f64,
    /// Degrees of freedom, `n - 1`.
    pub df: f64,
    /// Two-sided p-value: `2 P(T_df > |t|)`.
    pub p: f64,
}

/// Two-sided one-sample t-test of the differences `d` against zero, which
/// is the paired t-test of the two samples they came from.
///
/// ```text
/// t = mean(d) / (s_d / sqrt(n)),   df = n - 1,   p = 2 (1 - F_df(|t|))
/// ```
///
/// The same values as SciPy's `ttest_1samp(d, 0)` or `ttest_rel(x, y)`.
///
/// # Errors
/// Fewer than two differences, a non-finite one, or all of them equal (no
/// spread, so no t).
///
/// # Example
/// ```
/// use fanaroff_calibrate::paired_t_test;
/// let r = paired_t_test(&[1.0, 2.0, 3.0]).unwrap();
/// assert!((r.t - 3.464_101_615).abs() < 1e-8);
/// assert_eq!(r.df, 2.0);
/// assert!((r.p - 0.074_179_900).abs() < 1e-8);
/// ```
pub fn paired_t_test(d: &[f64]) -> Result<TTest> {
    let undefined = |reason: &str| Error::Undefined {
        what: "the paired t-test".into(),
        reason: reason.into(),
    };
    if d.len() < 2 {
        return Err(undefined("it needs at least two differences"));
    }
    if let Some((i, &v)) = d.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite {
            location: format!("difference {i}"),
            value: v,
        });
    }
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    if var <= 0.0 {
        return Err(undefined(
            "all differences are equal, so there is no spread",
        ));
    }
    let t = mean / (var / n).sqrt();
    let df = n - 1.0;
    let dist = StudentsT::new(0.0, 1.0, df).map_err(|e| Error::param("df", df, e.to_string()))?;
    Ok(TTest {
        t,
        df,
        p: (2.0 * dist.sf(t.abs())).min(1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known answers from SciPy 1.x (`ttest_1samp`, `ttest_rel`).
    #[test]
    fn matches_scipy() {
        let r = paired_t_test(&[0.5, -0.2, 1.1, 0.3]).unwrap();
        assert!((r.t - 1.580_683_104_803).abs() < 1e-9);
        assert!((r.p - 0.212_085_140_006).abs() < 1e-9);
        let d: Vec<f64> = [9.3, 8.8, 10.1]
            .iter()
            .zip([7.3, 5.9, 8.0])
            .map(|(a, b)| a - b)
            .collect();
        let r = paired_t_test(&d).unwrap();
        assert!((r.t - 8.192_880_303_729).abs() < 1e-9);
        assert!((r.p - 0.014_573_091_984).abs() < 1e-9);
        // the sign of t follows the mean, p does not
        let neg: Vec<f64> = d.iter().map(|v| -v).collect();
        let q = paired_t_test(&neg).unwrap();
        assert_eq!((q.t, q.p), (-r.t, r.p));
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(paired_t_test(&[]).is_err());
        assert!(paired_t_test(&[1.0]).is_err());
        assert!(paired_t_test(&[1.0, f64::NAN]).is_err());
        assert!(paired_t_test(&[2.0, 2.0, 2.0]).is_err());
    }
}
