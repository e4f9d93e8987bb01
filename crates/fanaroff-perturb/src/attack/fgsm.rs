//! The fast gradient sign method (Goodfellow et al. 2015).

use super::{Bounds, check_budget};
use crate::classifier::{GradientClassifier, expected_gradient};
use crate::error::{Result, config};
use ndarray::{Array4, ArrayView4};

/// One step of size `epsilon` along the sign of the loss gradient:
/// `x' = clip(x + epsilon * sign(grad))`, an L-inf perturbation of at most
/// `epsilon` (before clipping into the bounds). On a stochastic model the
/// gradient is averaged over `eot_draws` weight draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fgsm {
    epsilon: f32,
    bounds: Bounds,
    eot_draws: usize,
}

impl Fgsm {
    /// FGSM with budget `epsilon` (input units) inside `bounds`, one draw.
    ///
    /// # Errors
    /// A negative or non-finite budget.
    pub fn new(epsilon: f32, bounds: Bounds) -> Result<Self> {
        check_budget("Fgsm", epsilon)?;
        Ok(Fgsm {
            epsilon,
            bounds,
            eot_draws: 1,
        })
    }

    /// Averages the gradient over `draws` weight draws (EOT).
    ///
    /// # Errors
    /// `draws == 0`.
    pub fn eot(mut self, draws: usize) -> Result<Self> {
        if draws == 0 {
            return Err(config("Fgsm", "eot draws must be >= 1"));
        }
        self.eot_draws = draws;
        Ok(self)
    }

    /// Attacks inputs `x` `[N, C, H, W]` with true `labels`.
    ///
    /// # Errors
    /// Invalid input; model failures.
    pub fn attack<C: GradientClassifier + ?Sized>(
        &self,
        model: &C,
        x: ArrayView4<'_, f32>,
        labels: &[usize],
        seed: u64,
    ) -> Result<Array4<f32>> {
        let (_, g) = expected_gradient(model, x, labels, self.eot_draws, seed)?;
        let mut adv = &x + &g.mapv(|v| self.epsilon * sign(v));
        self.bounds.clip(&mut adv);
        Ok(adv)
    }
}

/// Sign with sign(0) = 0.
pub(crate) fn sign(v: f32) -> f32 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}
