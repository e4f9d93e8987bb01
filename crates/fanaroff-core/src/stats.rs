//! Mean and sample standard deviation, the summary that tables of results
//! over seeds report as `m ± s`.

use std::fmt;

/// Mean and sample standard deviation (divisor `n - 1`) of `v`.
///
/// * `n = 0`: both are NaN (there is nothing to summarise);
/// * `n = 1`: the mean is the value and the standard deviation 0 (by
///   convention: one value shows no spread; the unbiased estimate is
///   undefined).
///
/// ```
/// use fanaroff_core::mean_std;
/// assert_eq!(mean_std(&[2.0, 4.0, 6.0]), (4.0, 2.0));
/// assert_eq!(mean_std(&[0.5]), (0.5, 0.0));
/// assert!(mean_std(&[]).0.is_nan());
/// ```
#[must_use]
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    if v.len() == 1 {
        return (m, 0.0);
    }
    let ss = v.iter().map(|x| (x - m).powi(2)).sum::<f64>();
    (m, (ss / (n - 1.0)).sqrt())
}

/// Mean, sample standard deviation and count of a list of values; see
/// [`mean_std`] for the conventions at `n = 0` and `n = 1`.
///
/// Displays as `m ± s`, or only `m` for a single value, with the
/// formatter's precision:
///
/// ```
/// use fanaroff_core::MeanStd;
/// assert_eq!(format!("{:.3}", MeanStd::of(&[1.0, 3.0])), "2.000 ± 1.414");
/// assert_eq!(format!("{:.3}", MeanStd::of(&[0.5])), "0.500");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanStd {
    /// The mean.
    pub mean: f64,
    /// The sample standard deviation.
    pub std: f64,
    /// How many values.
    pub n: usize,
}

impl MeanStd {
    /// The summary of `v`.
    #[must_use]
    pub fn of(v: &[f64]) -> Self {
        let (mean, std) = mean_std(v);
        MeanStd {
            mean,
            std,
            n: v.len(),
        }
    }
}

impl fmt::Display for MeanStd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = f.precision();
        let num = |f: &mut fmt::Formatter<'_>, x: f64| match p {
            Some(p) => write!(f, "{x:.p$}"),
            None => write!(f, "{x}"),
        };
        num(f, self.mean)?;
        if self.n > 1 {
            f.write_str(" ± ")?;
            num(f, self.std)?;
        }
        Ok(())
    }
}
