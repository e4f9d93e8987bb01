//! Priors over single weights, behind one trait.
//!
//! Every prior is a density `p(w)` over one scalar weight; a layer's prior is
//! the product over its weights, so log-densities and KL terms are **summed
//! over all weights and biases**. All arithmetic is in `f64`.

use crate::error::{Result, config};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// `0.5 ln(2 pi)`.
pub const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// A prior density over one weight.
///
/// Implement [`log_density`](Prior::log_density) (and, for speed and
/// accuracy, [`grad_log_density`](Prior::grad_log_density)); a prior whose
/// Gaussian expectation `E_{w ~ N(mu, sigma^2)}[ln p(w)]` has a closed form
/// returns it from [`expected_log_density`](Prior::expected_log_density), and
/// the KL term then needs no Monte Carlo:
///
/// ```text
/// KL(q || p) = E_q[ln q(w)] - E_q[ln p(w)]
///            = -(1/2) ln(2 pi e sigma^2) - E_q[ln p(w)]
/// ```
///
/// # Example: a user-defined prior
/// ```
/// use fanaroff_bayes::prior::Prior;
/// #[derive(Debug)]
/// struct Logistic; // p(w) = e^-w / (1 + e^-w)^2
/// impl Prior for Logistic {
///     fn name(&self) -> String { "logistic".into() }
///     fn log_density(&self, w: f64) -> f64 { -w.abs() - 2.0 * (-w.abs()).exp().ln_1p() }
/// }
/// // the default gradient is a central difference
/// assert!((Logistic.grad_log_density(1.0) - (-(0.5f64).tanh())).abs() < 1e-6);
/// ```
pub trait Prior: Send + Sync + fmt::Debug {
    /// Short description, e.g. `gaussian(s=0.1)`.
    fn name(&self) -> String;

    /// `ln p(w)`.
    fn log_density(&self, w: f64) -> f64;

    /// `d ln p(w) / dw`. The default is a central difference with step
    /// `1e-5 * max(1, |w|)`; override it when the derivative is known.
    fn grad_log_density(&self, w: f64) -> f64 {
        let h = 1e-5 * w.abs().max(1.0);
        (self.log_density(w + h) - self.log_density(w - h)) / (2.0 * h)
    }

    /// `(ln p(w), d ln p(w) / dw)` in one call (the Monte Carlo KL needs
    /// both at every weight). The default calls the two methods; override it
    /// when they share work.
    fn log_density_and_grad(&self, w: f64) -> (f64, f64) {
        (self.log_density(w), self.grad_log_density(w))
    }

    /// Closed form of `E_{w ~ N(mu, sigma^2)}[ln p(w)]` and its derivatives
    /// with respect to `mu` and `sigma`, when one exists.
    fn expected_log_density(&self, _mu: f64, _sigma: f64) -> Option<(f64, f64, f64)> {
        None
    }
}

/// Gaussian prior `N(0, s^2)` (paper: `s = 0.1`).
///
/// ```text
/// ln p(w)          = -ln(s) - ln sqrt(2 pi) - w^2 / (2 s^2)
/// E_q[ln p(w)]     = -ln(s) - ln sqrt(2 pi) - (mu^2 + sigma^2) / (2 s^2)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GaussianPrior {
    s: f64,
}

impl GaussianPrior {
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless `s > 0` and finite.
    pub fn new(s: f64) -> Result<Self> {
        positive("GaussianPrior", "s", s)?;
        Ok(GaussianPrior { s })
    }
    /// The standard deviation `s`.
    pub fn scale(&self) -> f64 {
        self.s
    }
}

impl Prior for GaussianPrior {
    fn name(&self) -> String {
        format!("gaussian(s={})", self.s)
    }
    fn log_density(&self, w: f64) -> f64 {
        -self.s.ln() - LN_SQRT_2PI - w * w / (2.0 * self.s * self.s)
    }
    fn grad_log_density(&self, w: f64) -> f64 {
        -w / (self.s * self.s)
    }
    fn expected_log_density(&self, mu: f64, sigma: f64) -> Option<(f64, f64, f64)> {
        let s2 = self.s * self.s;
        Some((
            -self.s.ln() - LN_SQRT_2PI - (mu * mu + sigma * sigma) / (2.0 * s2),
            -mu / s2,
            -sigma / s2,
        ))
    }
}

/// Laplace prior `Laplace(0, b)` (paper: `b = 1`).
///
/// ```text
/// ln p(w)      = -ln(2 b) - |w| / b
/// E_q|w|       = sigma sqrt(2/pi) exp(-mu^2 / (2 sigma^2)) + mu erf(mu / (sigma sqrt 2))
/// E_q[ln p(w)] = -ln(2 b) - E_q|w| / b
/// ```
/// The derivative of `ln p` at `w = 0` is taken as 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LaplacePrior {
    b: f64,
}

impl LaplacePrior {
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless `b > 0` and finite.
    pub fn new(b: f64) -> Result<Self> {
        positive("LaplacePrior", "b", b)?;
        Ok(LaplacePrior { b })
    }
}

impl Prior for LaplacePrior {
    fn name(&self) -> String {
        format!("laplace(b={})", self.b)
    }
    fn log_density(&self, w: f64) -> f64 {
        -(2.0 * self.b).ln() - w.abs() / self.b
    }
    fn grad_log_density(&self, w: f64) -> f64 {
        if w > 0.0 {
            -1.0 / self.b
        } else if w < 0.0 {
            1.0 / self.b
        } else {
            0.0
        }
    }
    fn expected_log_density(&self, mu: f64, sigma: f64) -> Option<(f64, f64, f64)> {
        let g = (2.0 / PI).sqrt() * (-mu * mu / (2.0 * sigma * sigma)).exp();
        let e = erf(mu / (sigma * std::f64::consts::SQRT_2));
        let abs_mean = sigma * g + mu * e;
        Some((
            -(2.0 * self.b).ln() - abs_mean / self.b,
            -e / self.b,
            -g / self.b,
        ))
    }
}

/// Scale mixture of two zero-mean Gaussians (Blundell et al.; the paper's
/// "GMM" prior with `pi = 0.75, s1 = 1, s2 = 9e-4`), evaluated with
/// log-sum-exp so the narrow component cannot underflow:
///
/// ```text
/// ln p(w) = logsumexp( ln pi     + ln N(w; 0, s1^2),
///                      ln (1-pi) + ln N(w; 0, s2^2) )
/// d ln p / dw = -(r1 w / s1^2 + r2 w / s2^2),   r_k = responsibilities
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "MixtureParams", into = "MixtureParams")]
pub struct ScaleMixturePrior {
    pi: f64,
    s1: f64,
    s2: f64,
    /// `ln pi - ln s1 - ln sqrt(2 pi)` and `ln (1 - pi) - ln s2 - ln sqrt(2 pi)`.
    log_norm: [f64; 2],
}

/// The serialised form of [`ScaleMixturePrior`] (its three parameters).
#[derive(Serialize, Deserialize)]
struct MixtureParams {
    pi: f64,
    s1: f64,
    s2: f64,
}

impl TryFrom<MixtureParams> for ScaleMixturePrior {
    type Error = crate::Error;
    fn try_from(p: MixtureParams) -> Result<Self> {
        ScaleMixturePrior::new(p.pi, p.s1, p.s2)
    }
}

impl From<ScaleMixturePrior> for MixtureParams {
    fn from(p: ScaleMixturePrior) -> Self {
        MixtureParams {
            pi: p.pi,
            s1: p.s1,
            s2: p.s2,
        }
    }
}

impl ScaleMixturePrior {
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless
    /// `0 < pi < 1` and both scales are positive and finite.
    pub fn new(pi: f64, s1: f64, s2: f64) -> Result<Self> {
        if !(pi > 0.0 && pi < 1.0) {
            return Err(config(
                "ScaleMixturePrior",
                format!("pi = {pi} must be in (0, 1)"),
            ));
        }
        positive("ScaleMixturePrior", "s1", s1)?;
        positive("ScaleMixturePrior", "s2", s2)?;
        Ok(Self::unchecked(pi, s1, s2))
    }

    fn unchecked(pi: f64, s1: f64, s2: f64) -> Self {
        ScaleMixturePrior {
            pi,
            s1,
            s2,
            log_norm: [
                pi.ln() - s1.ln() - LN_SQRT_2PI,
                (1.0 - pi).ln() - s2.ln() - LN_SQRT_2PI,
            ],
        }
    }

    /// The paper's prior: `pi = 0.75, s1 = 1, s2 = 9e-4`.
    pub fn paper() -> Self {
        Self::unchecked(0.75, 1.0, 9e-4)
    }

    fn components(&self, w: f64) -> (f64, f64) {
        let a = self.log_norm[0] - w * w / (2.0 * self.s1 * self.s1);
        let b = self.log_norm[1] - w * w / (2.0 * self.s2 * self.s2);
        (a, b)
    }
}

/// `ln(e^a + e^b)` without overflow (one `exp`: the larger term is `e^0 = 1`).
pub(crate) fn logaddexp(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + (1.0 + (a.min(b) - m).exp()).ln()
}

/// The log-density `m = logaddexp(a, b)` of a two-component mixture from
/// the components' weighted log-densities `a, b` (`ln pi_k + ln p_k(w)`),
/// and the responsibilities `e^(a - m)`, `e^(b - m)`, from one `exp` and one
/// `ln`: with `t = e^(min - max)`, the larger term's responsibility is
/// `1 / (1 + t)` and the smaller's `t / (1 + t)`.
pub(crate) fn responsibilities(a: f64, b: f64) -> (f64, f64, f64) {
    let hi = a.max(b);
    if hi == f64::NEG_INFINITY {
        return (hi, f64::NAN, f64::NAN);
    }
    let d = a.min(b) - hi;
    // Below -40, 1 + e^d rounds to 1 in f64: skip the exp (and the ln).
    if d < -40.0 {
        return if a >= b {
            (hi, 1.0, 0.0)
        } else {
            (hi, 0.0, 1.0)
        };
    }
    let t = d.exp();
    let (r_hi, r_lo) = (1.0 / (1.0 + t), t / (1.0 + t));
    let m = hi + (1.0 + t).ln();
    if a >= b {
        (m, r_hi, r_lo)
    } else {
        (m, r_lo, r_hi)
    }
}

impl Prior for ScaleMixturePrior {
    fn name(&self) -> String {
        format!("gmm(pi={},s1={},s2={})", self.pi, self.s1, self.s2)
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
        let (m, r1, r2) = responsibilities(a, b);
        (
            m,
            -(r1 * w / (self.s1 * self.s1) + r2 * w / (self.s2 * self.s2)),
        )
    }
}

/// Student-t prior with `nu` degrees of freedom and scale `s`; `nu = 1` is
/// the Cauchy prior.
///
/// ```text
/// ln p(w) = lnG((nu+1)/2) - lnG(nu/2) - (1/2) ln(nu pi s^2)
///           - (nu+1)/2 ln(1 + w^2 / (nu s^2))
/// d ln p / dw = -(nu+1) w / (nu s^2 + w^2)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StudentTPrior {
    nu: f64,
    s: f64,
    log_norm: f64,
}

impl StudentTPrior {
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless `nu > 0`
    /// and `s > 0`, both finite.
    pub fn new(nu: f64, s: f64) -> Result<Self> {
        positive("StudentTPrior", "nu", nu)?;
        positive("StudentTPrior", "s", s)?;
        let log_norm =
            ln_gamma((nu + 1.0) / 2.0) - ln_gamma(nu / 2.0) - 0.5 * (nu * PI * s * s).ln();
        Ok(StudentTPrior { nu, s, log_norm })
    }

    /// The Cauchy prior with scale `s` (Student-t with `nu = 1`).
    ///
    /// # Errors
    /// As [`StudentTPrior::new`].
    pub fn cauchy(s: f64) -> Result<Self> {
        StudentTPrior::new(1.0, s)
    }
}

impl Prior for StudentTPrior {
    fn name(&self) -> String {
        if self.nu == 1.0 {
            format!("cauchy(s={})", self.s)
        } else {
            format!("student_t(nu={},s={})", self.nu, self.s)
        }
    }
    fn log_density(&self, w: f64) -> f64 {
        self.log_norm - (self.nu + 1.0) / 2.0 * (w * w / (self.nu * self.s * self.s)).ln_1p()
    }
    fn grad_log_density(&self, w: f64) -> f64 {
        -(self.nu + 1.0) * w / (self.nu * self.s * self.s + w * w)
    }
}

/// Type of the log-density closure of a [`CustomPrior`].
pub type DensityFn = dyn Fn(f64) -> f64 + Send + Sync;

/// A prior given by closures: `ln p(w)` and optionally its derivative
/// (central differences otherwise).
///
/// # Example
/// ```
/// use fanaroff_bayes::prior::{CustomPrior, Prior};
/// // an (unnormalised) flat-ish prior: ln p(w) = -w^4
/// let p = CustomPrior::new("quartic", |w| -w.powi(4)).with_gradient(|w| -4.0 * w.powi(3));
/// assert_eq!(p.grad_log_density(1.0), -4.0);
/// ```
#[derive(Clone)]
pub struct CustomPrior {
    name: String,
    log_density: Arc<DensityFn>,
    grad: Option<Arc<DensityFn>>,
}

impl fmt::Debug for CustomPrior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomPrior")
            .field("name", &self.name)
            .finish()
    }
}

impl CustomPrior {
    /// A prior from its log-density.
    pub fn new(
        name: impl Into<String>,
        log_density: impl Fn(f64) -> f64 + Send + Sync + 'static,
    ) -> Self {
        CustomPrior {
            name: name.into(),
            log_density: Arc::new(log_density),
            grad: None,
        }
    }
    /// Supplies the exact derivative `d ln p / dw`.
    pub fn with_gradient(mut self, grad: impl Fn(f64) -> f64 + Send + Sync + 'static) -> Self {
        self.grad = Some(Arc::new(grad));
        self
    }
}

impl Prior for CustomPrior {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn log_density(&self, w: f64) -> f64 {
        (self.log_density)(w)
    }
    fn grad_log_density(&self, w: f64) -> f64 {
        match &self.grad {
            Some(g) => g(w),
            None => {
                let h = 1e-5 * w.abs().max(1.0);
                ((self.log_density)(w + h) - (self.log_density)(w - h)) / (2.0 * h)
            }
        }
    }
}

/// A serialisable choice among the built-in priors, parsed from strings such
/// as `gaussian:0.1`, `laplace:1`, `gmm:0.75,1,9e-4` (or just `gmm`),
/// `laplace_mixture:0.75,1,1e-3` (or just `laplace_mixture`), `cauchy:1`,
/// `student:3,1`.
///
/// # Example
/// ```
/// use fanaroff_bayes::prior::PriorSpec;
/// let p: PriorSpec = "gaussian:0.1".parse().unwrap();
/// assert_eq!(p, PriorSpec::Gaussian { s: 0.1 });
/// assert!("gaussian:-1".parse::<PriorSpec>().is_err());
/// let prior = PriorSpec::default().build().unwrap(); // the paper's GMM
/// assert!(prior.name().starts_with("gmm"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum PriorSpec {
    /// [`GaussianPrior`].
    Gaussian {
        /// Standard deviation.
        s: f64,
    },
    /// [`LaplacePrior`].
    Laplace {
        /// Scale.
        b: f64,
    },
    /// [`ScaleMixturePrior`].
    ScaleMixture {
        /// Weight of the first component.
        pi: f64,
        /// Scale of the first component.
        s1: f64,
        /// Scale of the second component.
        s2: f64,
    },
    /// [`LaplaceMixturePrior`](crate::LaplaceMixturePrior).
    LaplaceMixture {
        /// Weight of the first component.
        pi: f64,
        /// Scale of the first component.
        b1: f64,
        /// Scale of the second component.
        b2: f64,
    },
    /// [`StudentTPrior`] (`nu = 1`: Cauchy).
    StudentT {
        /// Degrees of freedom.
        nu: f64,
        /// Scale.
        s: f64,
    },
}

impl Default for PriorSpec {
    fn default() -> Self {
        PriorSpec::ScaleMixture {
            pi: 0.75,
            s1: 1.0,
            s2: 9e-4,
        }
    }
}

impl PriorSpec {
    /// Builds the prior, checking its parameters.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for invalid parameters.
    pub fn build(&self) -> Result<Arc<dyn Prior>> {
        Ok(match *self {
            PriorSpec::Gaussian { s } => Arc::new(GaussianPrior::new(s)?),
            PriorSpec::Laplace { b } => Arc::new(LaplacePrior::new(b)?),
            PriorSpec::ScaleMixture { pi, s1, s2 } => Arc::new(ScaleMixturePrior::new(pi, s1, s2)?),
            PriorSpec::LaplaceMixture { pi, b1, b2 } => {
                Arc::new(crate::LaplaceMixturePrior::new(pi, b1, b2)?)
            }
            PriorSpec::StudentT { nu, s } => Arc::new(StudentTPrior::new(nu, s)?),
        })
    }

    /// A short label for tables (`gmm`, `gaussian(0.1)`, ...).
    pub fn label(&self) -> String {
        match *self {
            PriorSpec::Gaussian { s } => format!("gaussian({s})"),
            PriorSpec::Laplace { b } => format!("laplace({b})"),
            PriorSpec::ScaleMixture { pi, s1, s2 } => format!("gmm({pi},{s1},{s2})"),
            PriorSpec::LaplaceMixture { pi, b1, b2 } => {
                format!("laplace_mixture({pi},{b1},{b2})")
            }
            PriorSpec::StudentT { nu: 1.0, s } => format!("cauchy({s})"),
            PriorSpec::StudentT { nu, s } => format!("student_t({nu},{s})"),
        }
    }
}

impl FromStr for PriorSpec {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self> {
        let (kind, args) = s.split_once(':').unwrap_or((s, ""));
        let nums: Vec<f64> = if args.trim().is_empty() {
            Vec::new()
        } else {
            args.split(',')
                .map(|a| {
                    a.trim()
                        .parse::<f64>()
                        .map_err(|_| config("PriorSpec", format!("{s:?}: {a:?} is not a number")))
                })
                .collect::<Result<_>>()?
        };
        let get = |i: usize, default: f64| nums.get(i).copied().unwrap_or(default);
        let spec = match kind.trim().to_ascii_lowercase().as_str() {
            "gaussian" | "normal" => PriorSpec::Gaussian { s: get(0, 0.1) },
            "laplace" => PriorSpec::Laplace { b: get(0, 1.0) },
            "gmm" | "mixture" | "scale_mixture" => PriorSpec::ScaleMixture {
                pi: get(0, 0.75),
                s1: get(1, 1.0),
                s2: get(2, 9e-4),
            },
            "laplace_mixture" | "laplace_mix" => PriorSpec::LaplaceMixture {
                pi: get(0, 0.75),
                b1: get(1, 1.0),
                b2: get(2, 1e-3),
            },
            "cauchy" => PriorSpec::StudentT {
                nu: 1.0,
                s: get(0, 1.0),
            },
            "student" | "student_t" | "t" => PriorSpec::StudentT {
                nu: get(0, 3.0),
                s: get(1, 1.0),
            },
            other => {
                return Err(config(
                    "PriorSpec",
                    format!(
                        "unknown prior {other:?}; use gaussian, laplace, gmm, laplace_mixture, cauchy or student"
                    ),
                ));
            }
        };
        spec.build()?;
        Ok(spec)
    }
}

/// The error function, by its Taylor series for `|x| < 4` and the
/// asymptotic expansion of `erfc` beyond (absolute error below 1e-9).
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let a = x.abs();
    let v = if a < 4.0 {
        // erf(x) = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1))
        let x2 = a * a;
        let mut term = a; // (-1)^n x^(2n+1) / n!
        let mut sum = a;
        let mut n = 0.0;
        while n < 200.0 {
            n += 1.0;
            term *= -x2 / n;
            let add = term / (2.0 * n + 1.0);
            sum += add;
            if add.abs() <= 1e-17 * sum.abs() {
                break;
            }
        }
        sum * 2.0 / PI.sqrt()
    } else {
        let x2 = a * a;
        let inv = 1.0 / (2.0 * x2);
        let series = 1.0 - inv + 3.0 * inv * inv - 15.0 * inv.powi(3) + 105.0 * inv.powi(4);
        1.0 - (-x2).exp() / (a * PI.sqrt()) * series
    };
    if x < 0.0 { -v } else { v }
}

/// `ln Gamma(x)` for `x > 0` (Lanczos, g = 7; relative error ~1e-15).
pub fn ln_gamma(x: f64) -> f64 {
    const P: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection: Gamma(x) Gamma(1-x) = pi / sin(pi x)
        return (PI / (PI * x).sin()).abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let mut a = P[0];
    for (i, p) in P.iter().enumerate().skip(1) {
        a += p / (x + i as f64);
    }
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

pub(crate) fn positive(what: &'static str, name: &str, v: f64) -> Result<()> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(config(
            what,
            format!("{name} = {v} must be positive and finite"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn fused_density_and_gradient_match_the_separate_ones() {
        let gmm = ScaleMixturePrior::paper();
        for w in [-3.0, -0.2, -1e-3, 0.0, 5e-4, 0.05, 2.5] {
            let (lp, g) = gmm.log_density_and_grad(w);
            // the naive mixture, summed densities (as the reference script)
            let n = |s: f64| (-w * w / (2.0 * s * s)).exp() / (s * (2.0 * PI).sqrt());
            let naive = (0.75 * n(1.0) + 0.25 * n(9e-4)).ln();
            assert_relative_eq!(lp, naive, max_relative = 1e-12);
            assert_eq!(lp, gmm.log_density(w));
            let h = 1e-7;
            let fd = (gmm.log_density(w + h) - gmm.log_density(w - h)) / (2.0 * h);
            assert_relative_eq!(g, fd, max_relative = 1e-4, epsilon = 1e-3);
        }
        // the parameters are what a file holds; the constants are rebuilt
        let json = serde_json::to_string(&gmm).unwrap();
        assert_eq!(json, r#"{"pi":0.75,"s1":1.0,"s2":0.0009}"#);
        assert_eq!(
            serde_json::from_str::<ScaleMixturePrior>(&json).unwrap(),
            gmm
        );
        assert!(serde_json::from_str::<ScaleMixturePrior>(r#"{"pi":1.5,"s1":1,"s2":1}"#).is_err());
    }

    /// Trapezoid integral of exp(ln p) over [-L, L] with a fine grid.
    fn mass(p: &dyn Prior, l: f64, n: usize) -> f64 {
        let h = 2.0 * l / n as f64;
        (0..=n)
            .map(|i| {
                let w = -l + i as f64 * h;
                let f = p.log_density(w).exp();
                if i == 0 || i == n { 0.5 * f * h } else { f * h }
            })
            .sum()
    }

    #[test]
    fn responsibilities_match_the_direct_formula() {
        for &(a, b) in &[
            (0.0, 0.0),
            (-1.0, 2.0),
            (3.0, -0.5),
            (-2.0, -41.0),
            (-300.0, 5.0),
            (f64::NEG_INFINITY, 1.0),
        ] {
            let (m, r1, r2) = responsibilities(a, b);
            let direct = (a.exp() + b.exp()).ln();
            assert_relative_eq!(m, direct, max_relative = 1e-14);
            assert_relative_eq!(
                r1,
                (a - direct).exp(),
                max_relative = 1e-12,
                epsilon = 1e-16
            );
            assert_relative_eq!(
                r2,
                (b - direct).exp(),
                max_relative = 1e-12,
                epsilon = 1e-16
            );
            assert_relative_eq!(r1 + r2, 1.0, max_relative = 1e-15);
        }
    }

    #[test]
    fn log_densities_match_hand_values() {
        // N(0, 0.1^2) at 0.2: -ln 0.1 - 0.9189385 - 2
        let g = GaussianPrior::new(0.1).unwrap();
        assert_relative_eq!(
            g.log_density(0.2),
            std::f64::consts::LN_10 - LN_SQRT_2PI - 2.0,
            epsilon = 1e-9
        );
        // Laplace(0, 1) at -0.5: -ln 2 - 0.5
        let l = LaplacePrior::new(1.0).unwrap();
        assert_relative_eq!(
            l.log_density(-0.5),
            -std::f64::consts::LN_2 - 0.5,
            epsilon = 1e-12
        );
        // Cauchy(0, 1) at 1: -ln(2 pi)
        let c = StudentTPrior::cauchy(1.0).unwrap();
        assert_relative_eq!(c.log_density(1.0), -(2.0 * PI).ln(), epsilon = 1e-12);
        // Student-t nu = 3, s = 1 at 0: Gamma(2) / (Gamma(1.5) sqrt(3 pi)) = 2 / (pi sqrt 3)
        let t = StudentTPrior::new(3.0, 1.0).unwrap();
        assert_relative_eq!(
            t.log_density(0.0),
            (2.0 / (PI * 3f64.sqrt())).ln(),
            epsilon = 1e-12
        );
        // GMM: naive formula where it does not underflow
        let m = ScaleMixturePrior::paper();
        for w in [0.0f64, 1e-4, 1e-3, 0.01] {
            let naive = 0.75 * (-w * w / 2.0).exp() / (2.0 * PI).sqrt()
                + 0.25 * (-w * w / (2.0 * 8.1e-7)).exp() / (9e-4 * (2.0 * PI).sqrt());
            assert_relative_eq!(m.log_density(w), naive.ln(), max_relative = 1e-12);
        }
        // far in the tail the narrow part underflows but log-sum-exp stays exact
        assert_relative_eq!(
            m.log_density(3.0),
            0.75f64.ln() - LN_SQRT_2PI - 4.5,
            epsilon = 1e-12
        );
    }

    #[test]
    fn densities_integrate_to_one() {
        let priors: Vec<Box<dyn Prior>> = vec![
            Box::new(GaussianPrior::new(0.1).unwrap()),
            Box::new(LaplacePrior::new(1.0).unwrap()),
            Box::new(ScaleMixturePrior::new(0.75, 1.0, 0.05).unwrap()),
            Box::new(StudentTPrior::new(3.0, 0.5).unwrap()),
        ];
        for p in &priors {
            assert_relative_eq!(mass(p.as_ref(), 60.0, 400_000), 1.0, max_relative = 2e-3);
        }
        // Cauchy tails are heavy: P(|w| > L) = 1 - 2 atan(L) / pi
        let c = StudentTPrior::cauchy(1.0).unwrap();
        assert_relative_eq!(
            mass(&c, 60.0, 400_000),
            2.0 * 60f64.atan() / PI,
            max_relative = 1e-4
        );
    }

    #[test]
    fn analytic_gradients_match_finite_differences() {
        let priors: Vec<Box<dyn Prior>> = vec![
            Box::new(GaussianPrior::new(0.1).unwrap()),
            Box::new(LaplacePrior::new(1.0).unwrap()),
            Box::new(ScaleMixturePrior::paper()),
            Box::new(StudentTPrior::cauchy(0.3).unwrap()),
            Box::new(StudentTPrior::new(4.0, 2.0).unwrap()),
        ];
        for p in &priors {
            for w in [-1.3, -0.02, 0.0007, 0.003, 0.4, 2.0] {
                let h = 1e-7;
                let fd = (p.log_density(w + h) - p.log_density(w - h)) / (2.0 * h);
                let g = p.grad_log_density(w);
                assert!(
                    (g - fd).abs() <= 1e-4 * (1.0 + fd.abs()),
                    "{} at {w}: {g} vs {fd}",
                    p.name()
                );
            }
        }
    }

    #[test]
    fn closed_form_expectations_match_quadrature() {
        // E_{N(mu, sigma^2)}[ln p] by Gauss-Hermite-free brute force quadrature
        fn quad(p: &dyn Prior, mu: f64, sigma: f64) -> f64 {
            let n = 200_000;
            let l = 10.0;
            let h = 2.0 * l / n as f64;
            (0..=n)
                .map(|i| {
                    let z = -l + i as f64 * h;
                    let phi = (-0.5 * z * z).exp() / (2.0 * PI).sqrt();
                    phi * p.log_density(mu + sigma * z) * h
                })
                .sum()
        }
        let g = GaussianPrior::new(0.3).unwrap();
        let l = LaplacePrior::new(0.7).unwrap();
        for (mu, sigma) in [(0.0, 0.1), (0.2, 0.05), (-0.5, 0.4)] {
            for p in [&g as &dyn Prior, &l] {
                let (e, dmu, dsig) = p.expected_log_density(mu, sigma).unwrap();
                assert_relative_eq!(e, quad(p, mu, sigma), max_relative = 1e-5);
                let h = 1e-6;
                let fmu = (p.expected_log_density(mu + h, sigma).unwrap().0
                    - p.expected_log_density(mu - h, sigma).unwrap().0)
                    / (2.0 * h);
                let fsig = (p.expected_log_density(mu, sigma + h).unwrap().0
                    - p.expected_log_density(mu, sigma - h).unwrap().0)
                    / (2.0 * h);
                assert_relative_eq!(dmu, fmu, epsilon = 1e-5, max_relative = 1e-5);
                assert_relative_eq!(dsig, fsig, epsilon = 1e-5, max_relative = 1e-5);
            }
        }
    }

    #[test]
    fn special_functions() {
        assert_eq!(erf(0.0), 0.0);
        assert_relative_eq!(erf(0.5), 0.520_499_877_813_046_5, max_relative = 1e-12);
        assert_relative_eq!(erf(-1.5), -0.966_105_146_475_310_7, max_relative = 1e-12);
        assert_relative_eq!(erf(3.9), 0.999_999_965_208_214_7, epsilon = 1e-9);
        assert_relative_eq!(erf(4.5), 0.999_999_999_803_383_9, epsilon = 1e-12);
        assert_relative_eq!(ln_gamma(0.5), 0.5 * PI.ln(), max_relative = 1e-12);
        assert_relative_eq!(ln_gamma(5.0), 24f64.ln(), max_relative = 1e-12);
        assert_relative_eq!(ln_gamma(0.1), 2.252_712_651_734_206, max_relative = 1e-12);
    }

    #[test]
    fn bad_parameters_are_rejected() {
        assert!(GaussianPrior::new(0.0).is_err());
        assert!(GaussianPrior::new(f64::NAN).is_err());
        assert!(LaplacePrior::new(-1.0).is_err());
        assert!(ScaleMixturePrior::new(1.0, 1.0, 0.1).is_err());
        assert!(ScaleMixturePrior::new(0.5, 1.0, 0.0).is_err());
        assert!(StudentTPrior::new(0.0, 1.0).is_err());
        assert!("weird:1".parse::<PriorSpec>().is_err());
        assert!("gmm:0.75,x".parse::<PriorSpec>().is_err());
        assert_eq!("gmm".parse::<PriorSpec>().unwrap(), PriorSpec::default());
        assert!("laplace_mixture:0.75,1,0".parse::<PriorSpec>().is_err());
        assert_eq!(
            "laplace_mixture".parse::<PriorSpec>().unwrap(),
            PriorSpec::LaplaceMixture {
                pi: 0.75,
                b1: 1.0,
                b2: 1e-3
            }
        );
        assert_eq!(
            "cauchy:2".parse::<PriorSpec>().unwrap(),
            PriorSpec::StudentT { nu: 1.0, s: 2.0 }
        );
    }
}
