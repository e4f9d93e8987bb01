//! The criterion trait and the criteria that need nothing but the weights:
//! signal-to-noise ratio, magnitude and random.

use crate::error::{Result, input};
use fanaroff_nn::WeightView;
use ndarray::{ArrayD, Zip};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A pruning criterion: an importance score per weight; the lowest scores
/// are pruned first.
///
/// Implement it to add a criterion; [`prune`](crate::prune) calls
/// [`scores`](Criterion::scores) once per selected layer, in model order.
///
/// # Example: a criterion of your own
/// ```
/// use fanaroff_nn::WeightView;
/// use fanaroff_prune::{Criterion, Result};
/// use ndarray::ArrayD;
///
/// /// Prunes the largest weights first (a sanity baseline).
/// struct Largest;
/// impl Criterion for Largest {
///     fn name(&self) -> String { "largest".into() }
///     fn scores(&mut self, _layer: &str, w: &WeightView<'_>) -> Result<ArrayD<f32>> {
///         Ok(w.mean.mapv(|v| -v.abs()))
///     }
/// }
/// # let _ = Largest;
/// ```
pub trait Criterion {
    /// A short name for tables and file names (`snr`, `fisher-adam`).
    fn name(&self) -> String;

    /// The importance of every weight of `w` (an array of `w.mean`'s shape).
    /// `layer` is the layer's dotted name (`fc1`).
    ///
    /// # Errors
    /// [`InvalidInput`](fanaroff_core::Error::InvalidInput) when the criterion
    /// needs something the layer does not have (SNR of a deterministic
    /// layer, Fisher information of a parameter that was never trained).
    fn scores(&mut self, layer: &str, w: &WeightView<'_>) -> Result<ArrayD<f32>>;
}

/// Signal-to-noise ratio `|mu| / sigma` of a Gaussian posterior weight
/// (Mohan et al. 2022), or in decibels `10 log10(|mu| / sigma)`. Both rank
/// weights identically; the unit matters for thresholds. Needs a
/// variational layer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snr {
    db: bool,
}

impl Snr {
    /// `|mu| / sigma`.
    pub fn ratio() -> Self {
        Snr { db: false }
    }

    /// `10 log10(|mu| / sigma)` (minus infinity for `mu = 0`).
    pub fn db() -> Self {
        Snr { db: true }
    }
}

impl Criterion for Snr {
    fn name(&self) -> String {
        if self.db { "snr-db" } else { "snr" }.into()
    }
    fn scores(&mut self, layer: &str, w: &WeightView<'_>) -> Result<ArrayD<f32>> {
        let Some(std) = &w.std else {
            return Err(input(
                "Snr",
                format!(
                    "layer {layer} is deterministic: SNR needs a posterior standard deviation (use Magnitude or Fisher)"
                ),
            ));
        };
        let mut s = w.mean.mapv(f32::abs);
        Zip::from(&mut s).and(std).for_each(|v, &sd| {
            *v /= sd;
            if self.db {
                *v = 10.0 * v.log10();
            }
        });
        Ok(s)
    }
}

/// Magnitude `|mu|` (`|w|` for a deterministic layer).
#[derive(Debug, Clone, Copy, Default)]
pub struct Magnitude;

impl Criterion for Magnitude {
    fn name(&self) -> String {
        "magnitude".into()
    }
    fn scores(&mut self, _layer: &str, w: &WeightView<'_>) -> Result<ArrayD<f32>> {
        Ok(w.mean.mapv(f32::abs))
    }
}

/// Uniform random scores from a seeded generator: the baseline every other
/// criterion must beat. The same seed gives the same masks.
#[derive(Debug, Clone)]
pub struct Random {
    rng: StdRng,
}

impl Random {
    /// Random scores drawn from a generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Random {
            rng: StdRng::seed_from_u64(seed),
        }
    }
}

impl Criterion for Random {
    fn name(&self) -> String {
        "random".into()
    }
    fn scores(&mut self, _layer: &str, w: &WeightView<'_>) -> Result<ArrayD<f32>> {
        Ok(w.mean.mapv(|_| self.rng.random::<f32>()))
    }
}
