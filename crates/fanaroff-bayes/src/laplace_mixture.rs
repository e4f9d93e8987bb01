//! The Laplace scale mixture, the sparse prior of the radio-galaxy BBB
//! study's code beside the Gaussian scale mixture.

use crate::error::Result;
use crate::prior::{Prior, logaddexp, positive, responsibilities};
use serde::{Deserialize, Serialize};

/// `pi Laplace(0, b1) + (1 - pi) Laplace(0, b2)`, evaluated with
/// log-sum-exp so that the narrow component cannot underflow.
///
/// ```text
/// ln p(w) = logaddexp( ln pi - ln(2 b1) - |w| / b1,
///                      ln (1-pi) - ln(2 b2) - |w| / b2 )
/// d ln p / dw = -sign(w) (r1 / b1 + r2 / b2),   r_k = responsibilities
/// ```
///
/// It has no closed-form KL against a Gaussian posterior, so the
/// variational layers estimate it by Monte Carlo.
///
/// ```
/// use fanaroff_bayes::{LaplaceMixturePrior, Prior};
/// let p = LaplaceMixturePrior::new(0.75, 1.0, 1e-3).unwrap();
/// let naive = (0.75 * 0.5 + 0.25 * 500.0f64).ln(); // at w = 0
/// assert!((p.log_density(0.0) - naive).abs() < 1e-12);
/// assert!(LaplaceMixturePrior::new(1.0, 1.0, 1e-3).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LaplaceMixturePrior {
    pi: f64,
    b1: f64,
    b2: f64,
}

impl LaplaceMixturePrior {
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless
    /// `0 < pi < 1` and both scales are positive and finite.
    pub fn new(pi: f64, b1: f64, b2: f64) -> Result<Self> {
        if !(pi > 0.0 && pi < 1.0) {
            return Err(crate::error::config(
                "LaplaceMixturePrior",
                format!("pi = {pi} must be in (0, 1)"),
            ));
        }
        positive("LaplaceMixturePrior", "b1", b1)?;
        positive("LaplaceMixturePrior", "b2", b2)?;
        Ok(LaplaceMixturePrior { pi, b1, b2 })
    }

    fn components(&self, w: f64) -> (f64, f64) {
        let a = self.pi.ln() - (2.0 * self.b1).ln() - w.abs() / self.b1;
        let b = (1.0 - self.pi).ln() - (2.0 * self.b2).ln() - w.abs() / self.b2;
        (a, b)
    }
}

impl Prior for LaplaceMixturePrior {
    fn name(&self) -> String {
        format!(
            "laplace_mixture(pi={},b1={},b2={})",
            self.pi, self.b1, self.b2
        )
    }
    fn log_density(&self, w: f64) -> f64 {
        let (a, b) = self.components(w);
        logaddexp(a, b)
    }
    fn grad_log_density(&self, w: f64) -> f64 {
        self.log_density_and_grad(w).1
    }
    fn log_density_and_grad(&self, w: f64) -> (f64, f64) {
        let (a, b) = self.components(w);
        // d|w|/dw, 0 at the kink (the subgradient the Laplace prior uses)
        let sign = if w == 0.0 { 0.0 } else { w.signum() };
        let (m, r1, r2) = responsibilities(a, b);
        (m, -sign * (r1 / self.b1 + r2 / self.b2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn matches_the_naive_mixture_and_its_derivative() {
        let p = LaplaceMixturePrior::new(0.75, 1.0, 1e-3).unwrap();
        for w in [-0.02f64, -1e-3, 2e-4, 5e-3, 0.5] {
            let naive = 0.75 * (-w.abs()).exp() / 2.0 + 0.25 * (-w.abs() / 1e-3).exp() / 2e-3;
            assert_relative_eq!(p.log_density(w), naive.ln(), max_relative = 1e-12);
            let h = 1e-7 * w.abs();
            let fd = (p.log_density(w + h) - p.log_density(w - h)) / (2.0 * h);
            assert_relative_eq!(p.grad_log_density(w), fd, max_relative = 1e-5);
        }
        // far in the tail only the wide component is left, with no underflow
        assert_relative_eq!(
            p.log_density(5.0),
            0.75f64.ln() - 2f64.ln() - 5.0,
            epsilon = 1e-12
        );
        assert_eq!(p.grad_log_density(0.0), 0.0);
    }

    #[test]
    fn integrates_to_one() {
        let p = LaplaceMixturePrior::new(0.6, 0.5, 0.05).unwrap();
        let (l, n) = (40.0, 800_000);
        let h = 2.0 * l / n as f64;
        let mass: f64 = (0..=n)
            .map(|i| p.log_density(-l + i as f64 * h).exp() * h)
            .sum();
        assert_relative_eq!(mass, 1.0, max_relative = 2e-3);
    }
}
