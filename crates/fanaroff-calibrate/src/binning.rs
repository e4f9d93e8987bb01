//! Binning of scores in `[0, 1]` (confidence, normalised uncertainty, class
//! probability) for the binned calibration errors.
//!
//! # Conventions
//!
//! **Equal width** with `B` bins: edges `e_b = b / B` (computed in `f64`),
//! bins are right-open `[e_b, e_{b+1})` except the last, which is closed
//! `[e_{B-1}, 1]`. A value exactly on an interior edge goes to the *upper*
//! bin; a confidence of exactly `1.0` goes to the last bin; `0.0` to the first.
//!
//! **Equal mass** with `B` bins over `N` values `v_(0) <= ... <= v_(N-1)`:
//! interior edges are the empirical quantiles `e_b = v_(floor(b N / B))` for
//! `b = 1..B-1`, outer edges are the smallest and largest value `v_(0)` and
//! `v_(N-1)` (only interior edges decide bins), and a value goes to bin
//! `#{b in 1..B : e_b <= v}` (again right-open). Without ties this puts
//! `floor((b+1) N / B) - floor(b N / B)` values in bin `b`, i.e. sizes differ
//! by at most one. Tied values are never split between bins, so bins may be
//! unequal or empty when values repeat — this keeps every binned metric
//! invariant to the order of the samples.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How bin edges are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum BinStrategy {
    /// `B` bins of width `1 / B` on `[0, 1]`.
    #[default]
    EqualWidth,
    /// `B` bins holding (about) `N / B` values each, edges at empirical quantiles.
    EqualMass,
}

impl BinStrategy {
    /// Short name: `"width"` or `"mass"`.
    pub fn name(self) -> &'static str {
        match self {
            BinStrategy::EqualWidth => "width",
            BinStrategy::EqualMass => "mass",
        }
    }
}

impl std::str::FromStr for BinStrategy {
    type Err = Error;

    /// Accepts `width`, `equal-width`, `equal_width`, `uniform`, `mass`,
    /// `equal-mass`, `equal_mass`, `quantile` (case-insensitive).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "width" | "equal-width" | "equal_width" | "uniform" => Ok(BinStrategy::EqualWidth),
            "mass" | "equal-mass" | "equal_mass" | "quantile" => Ok(BinStrategy::EqualMass),
            _ => Err(Error::param(
                "strategy",
                s,
                "expected `width` (equal width) or `mass` (equal mass)",
            )),
        }
    }
}

/// Binning parameters: strategy and number of bins.
///
/// | name | default | meaning | valid range |
/// |---|---|---|---|
/// | `strategy` | `EqualWidth` | edge placement, see the [module docs](self) | both |
/// | `bins` | 10 | number of bins `B` | `>= 1` |
///
/// Construct with [`Binning::new`] (checked) and adjust with
/// [`Binning::with_strategy`]. The default of 10 bins follows the UCE paper
/// (Laves et al.); other libraries use 5 or 15, so always report `B`.
///
/// # Example
/// ```
/// use fanaroff_calibrate::{BinStrategy, Binning};
/// let b = Binning::new(15).unwrap().with_strategy(BinStrategy::EqualMass);
/// assert_eq!(b.bins(), 15);
/// assert!(Binning::new(0).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Binning {
    strategy: BinStrategy,
    bins: usize,
}

impl Default for Binning {
    fn default() -> Self {
        Binning {
            strategy: BinStrategy::EqualWidth,
            bins: 10,
        }
    }
}

impl Binning {
    /// Equal-width binning with `bins` bins.
    ///
    /// # Errors
    /// [`Error::ZeroBins`] if `bins == 0`.
    pub fn new(bins: usize) -> Result<Self> {
        if bins == 0 {
            return Err(Error::ZeroBins);
        }
        Ok(Binning {
            strategy: BinStrategy::EqualWidth,
            bins,
        })
    }

    /// The same number of bins with another strategy.
    pub fn with_strategy(self, strategy: BinStrategy) -> Self {
        Binning { strategy, ..self }
    }

    /// The number of bins `B`.
    pub fn bins(&self) -> usize {
        self.bins
    }

    /// The strategy.
    pub fn strategy(&self) -> BinStrategy {
        self.strategy
    }

    /// Assign each value (in `[0, 1]`) to a bin; see the module docs for
    /// the exact rules.
    ///
    /// # Errors
    /// [`Error::ZeroBins`] (only reachable through deserialised params),
    /// [`Error::Empty`] for no values, [`Error::InvalidParameter`] for a value
    /// that is NaN or outside `[0, 1]`.
    ///
    /// # Example
    /// ```
    /// use fanaroff_calibrate::Binning;
    /// let a = Binning::new(2).unwrap().assign(&[0.0, 0.49, 0.5, 1.0]).unwrap();
    /// assert_eq!(a.index, vec![0, 0, 1, 1]); // 0.5 sits on the edge: upper bin
    /// assert_eq!(a.edges, vec![0.0, 0.5, 1.0]);
    /// ```
    pub fn assign(&self, values: &[f64]) -> Result<BinAssignment> {
        if self.bins == 0 {
            return Err(Error::ZeroBins);
        }
        if values.is_empty() {
            return Err(Error::empty("no values to bin"));
        }
        if let Some((i, &v)) = values
            .iter()
            .enumerate()
            .find(|&(_, &v)| !(0.0..=1.0).contains(&v))
        {
            return Err(Error::param(
                format!("binned value [{i}]"),
                v,
                "values to bin must lie in [0, 1]",
            ));
        }
        let b = self.bins;
        let (lowest, interior, highest): (f64, Vec<f64>, f64) = match self.strategy {
            BinStrategy::EqualWidth => (0.0, (1..b).map(|i| i as f64 / b as f64).collect(), 1.0),
            BinStrategy::EqualMass => {
                let mut sorted = values.to_vec();
                sorted.sort_by(f64::total_cmp);
                let n = sorted.len();
                (
                    sorted[0],
                    (1..b).map(|i| sorted[i * n / b]).collect(),
                    sorted[n - 1],
                )
            }
        };
        // Bin index = number of interior edges <= v (edges are sorted).
        let index = values
            .iter()
            .map(|&v| interior.partition_point(|&e| e <= v))
            .collect();
        let mut edges = Vec::with_capacity(b + 1);
        edges.push(lowest);
        edges.extend_from_slice(&interior);
        edges.push(highest);
        Ok(BinAssignment { index, edges })
    }
}

/// The result of [`Binning::assign`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct BinAssignment {
    /// Bin of each value, in `0..B`.
    pub index: Vec<usize>,
    /// `B + 1` edges; bin `b` covers `[edges[b], edges[b+1])` (the last bin
    /// is closed). Equal width: `edges[0] = 0`, `edges[B] = 1`. Equal mass:
    /// `edges[0]` and `edges[B]` are the smallest and largest value.
    pub edges: Vec<f64>,
}
