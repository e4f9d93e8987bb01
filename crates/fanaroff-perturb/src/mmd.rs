//! Multi-kernel Gaussian maximum mean discrepancy between two sets of
//! latent features, differentiable, for domain adaptation.

use crate::error::{Result, config, input};
use fanaroff_tensor::Tensor;

/// The 19 bandwidths of the DeepAdversaries / DeepMerge code, from 1e-6
/// to 1e6.
pub const DEFAULT_SIGMAS: [f64; 19] = [
    1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 100.0, 1e3,
    1e4, 1e5, 1e6,
];

/// How a bandwidth `s` enters the Gaussian kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bandwidth {
    /// `exp(-d^2 / (2 s^2))`: `s` is a standard deviation (our default).
    #[default]
    StdDev,
    /// `exp(-d^2 / (2 s))`: `s` is a variance, as in the DeepAdversaries
    /// training code.
    Variance,
}

/// `MMD^2 = mean k(x, x') + mean k(y, y') - 2 mean k(x, y)` (the biased
/// V-statistic, all pairs including i = j) with the kernel
/// `k(a, b) = sum_s exp(-|a - b|^2 / (2 s^2))` over the bandwidths `s`
/// ([`Bandwidth::StdDev`]), or with `2 s` in the denominator
/// ([`Bandwidth::Variance`]). [`Mmd::paper`] is the DeepAdversaries
/// convention: bandwidths as variances and the result floored at 1e-4
/// (below the floor the loss is constant and has no gradient).
///
/// # Example
/// ```
/// use fanaroff_perturb::Mmd;
/// use fanaroff_tensor::Tensor;
/// let x = Tensor::from_vec(vec![0.0, 0.0, 1.0, 0.0], &[2, 2]).unwrap();
/// let mmd = Mmd::default();
/// assert!(mmd.mmd2(&x, &x).unwrap().item().unwrap().abs() < 1e-5); // same sets
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mmd {
    sigmas: Vec<f64>,
    bandwidth: Bandwidth,
    floor: Option<f64>,
}

impl Default for Mmd {
    fn default() -> Self {
        Mmd {
            sigmas: DEFAULT_SIGMAS.to_vec(),
            bandwidth: Bandwidth::StdDev,
            floor: None,
        }
    }
}

impl Mmd {
    /// MMD with these bandwidths.
    ///
    /// # Errors
    /// No bandwidth, or one that is not finite and > 0.
    pub fn new(sigmas: Vec<f64>) -> Result<Self> {
        if sigmas.is_empty() || sigmas.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(config(
                "Mmd",
                format!("bandwidths {sigmas:?} must be finite, > 0, and at least one"),
            ));
        }
        Ok(Mmd {
            sigmas,
            ..Mmd::default()
        })
    }

    /// The DeepAdversaries kernel: the default bandwidths used as
    /// variances, MMD² floored at 1e-4.
    pub fn paper() -> Self {
        Mmd {
            bandwidth: Bandwidth::Variance,
            floor: Some(1e-4),
            ..Mmd::default()
        }
    }

    /// The same bandwidths used as `b`.
    pub fn with_bandwidth(mut self, b: Bandwidth) -> Self {
        self.bandwidth = b;
        self
    }

    /// MMD² is `max(MMD², floor)` (no gradient below the floor).
    ///
    /// # Errors
    /// A floor that is not finite and >= 0.
    pub fn with_floor(mut self, floor: f64) -> Result<Self> {
        if !(floor.is_finite() && floor >= 0.0) {
            return Err(config(
                "Mmd",
                format!("floor {floor} must be finite and >= 0"),
            ));
        }
        self.floor = Some(floor);
        Ok(self)
    }

    /// How the bandwidths enter the kernel.
    pub fn bandwidth(&self) -> Bandwidth {
        self.bandwidth
    }

    /// The bandwidths.
    pub fn sigmas(&self) -> &[f64] {
        &self.sigmas
    }

    /// MMD^2 between features `x` `[n, d]` and `y` `[m, d]`, a scalar
    /// tensor with gradients to both.
    ///
    /// # Errors
    /// Shapes that are not `[n, d]`, `[m, d]` with n, m > 0.
    pub fn mmd2(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let ok = x.ndim() == 2
            && y.ndim() == 2
            && x.shape()[1] == y.shape()[1]
            && x.shape()[0] > 0
            && y.shape()[0] > 0;
        if !ok {
            return Err(input(
                "Mmd::mmd2",
                format!(
                    "features {:?} and {:?}: need [n, d] and [m, d]",
                    x.shape(),
                    y.shape()
                ),
            ));
        }
        let kxx = self.kernel_mean(x, x)?;
        let kyy = self.kernel_mean(y, y)?;
        let kxy = self.kernel_mean(x, y)?;
        let m = kxx.add(&kyy)?.sub(&kxy.mul_scalar(2.0))?;
        Ok(match self.floor {
            // max(m, f) = relu(m - f) + f
            Some(f) => m.add_scalar(-f as f32).relu().add_scalar(f as f32),
            None => m,
        })
    }

    /// Mean over all pairs of the summed Gaussian kernels.
    fn kernel_mean(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let d2 = sq_distances(a, b)?;
        let mut total: Option<Tensor> = None;
        for s in &self.sigmas {
            let width = match self.bandwidth {
                Bandwidth::StdDev => s * s,
                Bandwidth::Variance => *s,
            };
            let k = d2.mul_scalar((-1.0 / (2.0 * width)) as f32).exp().mean();
            total = Some(match total {
                None => k,
                Some(t) => t.add(&k)?,
            });
        }
        total.ok_or_else(|| config("Mmd", "no bandwidth"))
    }
}

/// `|a_i - b_j|^2` as `[n, m]`: `|a|^2 + |b|^2 - 2 a b^T`, floored at 0.
fn sq_distances(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let aa = a.square().sum_axes(&[1], true)?; // [n, 1]
    let bb = b.square().sum_axes(&[1], true)?.t()?; // [1, m]
    let ab = a.matmul_t(b)?;
    Ok(aa.add(&bb)?.sub(&ab.mul_scalar(2.0))?.relu())
}
