//! Adversarial attacks: gradient attacks (FGSM, PGD) through the autodiff
//! core, with expectation over weight draws for stochastic models, and the
//! black-box one-pixel attack by differential evolution.

mod fgsm;
mod one_pixel;
mod pgd;
mod trait_impl;

pub use fgsm::Fgsm;
pub use one_pixel::{Goal, OnePixel, OnePixelResult};
pub use pgd::{Norm, Pgd};
pub use trait_impl::Attack;

use crate::error::{Result, config};
use ndarray::{Array4, ArrayView4};

/// The valid range of the model's inputs (after scaling), e.g.
/// `Bounds::new(-1.0, 1.0)` for symmetric scaling. Attacked images are
/// clipped into it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    low: f32,
    high: f32,
}

impl Bounds {
    /// `[low, high]`.
    ///
    /// # Errors
    /// Non-finite bounds or `low >= high`.
    pub fn new(low: f32, high: f32) -> Result<Self> {
        if !(low.is_finite() && high.is_finite() && low < high) {
            return Err(config(
                "Bounds",
                format!("[{low}, {high}] is not a finite interval"),
            ));
        }
        Ok(Bounds { low, high })
    }

    /// Lower bound.
    pub fn low(&self) -> f32 {
        self.low
    }

    /// Upper bound.
    pub fn high(&self) -> f32 {
        self.high
    }

    /// Clips every value into the bounds.
    pub fn clip(&self, x: &mut Array4<f32>) {
        x.mapv_inplace(|v| v.clamp(self.low, self.high));
    }
}

/// A budget: finite and >= 0.
pub(crate) fn check_budget(what: &'static str, eps: f32) -> Result<()> {
    if eps.is_finite() && eps >= 0.0 {
        Ok(())
    } else {
        Err(config(
            what,
            format!("budget {eps} must be finite and >= 0"),
        ))
    }
}

/// Per-image maximum absolute and Euclidean size of `a - b`.
pub fn perturbation_size(a: ArrayView4<'_, f32>, b: ArrayView4<'_, f32>) -> Vec<(f32, f32)> {
    a.outer_iter()
        .zip(b.outer_iter())
        .map(|(x, y)| {
            let d = &x - &y;
            let linf = d.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            (linf, d.iter().map(|v| v * v).sum::<f32>().sqrt())
        })
        .collect()
}
