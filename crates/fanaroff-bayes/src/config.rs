//! Settings of variational layers: estimators, KL estimation, priors, initialisation.

use crate::error::{Error, Result, config};
use crate::posterior::{LogQGradient, SigmaTransform};
use crate::prior::{Prior, PriorSpec};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use fanaroff_nn::Estimator;

/// How the KL term is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum KlEstimator {
    /// Closed form where the prior has one, else single-sample Monte Carlo.
    #[default]
    Auto,
    /// Monte Carlo with this many draws (the first is the forward pass's
    /// draw when there is one). `MonteCarlo(1)` is the paper's.
    MonteCarlo(usize),
}

/// `auto`, `mc` (single-sample Monte Carlo, the paper's) or `mc:N`.
///
/// ```
/// use fanaroff_bayes::KlEstimator;
/// assert_eq!("mc".parse::<KlEstimator>().unwrap(), KlEstimator::MonteCarlo(1));
/// assert_eq!("mc:4".parse::<KlEstimator>().unwrap(), KlEstimator::MonteCarlo(4));
/// assert_eq!(KlEstimator::MonteCarlo(1).to_string(), "mc");
/// assert!("mc:0".parse::<KlEstimator>().is_err());
/// ```
impl std::str::FromStr for KlEstimator {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            config(
                "KlEstimator",
                format!("unknown KL estimator {s:?}; use auto, mc or mc:N (N >= 1)"),
            )
        };
        match s.to_ascii_lowercase().split_once(':') {
            None if s.eq_ignore_ascii_case("auto") => Ok(KlEstimator::Auto),
            None if s.eq_ignore_ascii_case("mc") => Ok(KlEstimator::MonteCarlo(1)),
            Some(("mc", n)) => match n.trim().parse::<usize>() {
                Ok(n) if n >= 1 => Ok(KlEstimator::MonteCarlo(n)),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for KlEstimator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KlEstimator::Auto => write!(f, "auto"),
            KlEstimator::MonteCarlo(1) => write!(f, "mc"),
            KlEstimator::MonteCarlo(n) => write!(f, "mc:{n}"),
        }
    }
}

/// Settings shared by the variational layers of a model.
///
/// | name | default | meaning | valid range |
/// |---|---|---|---|
/// | `sigma` | `Exp` | `sigma = exp(rho)` or `softplus(rho)` | |
/// | `prior` | GMM 0.75, 1, 9e-4 | prior over every weight and bias | see [`PriorSpec`] |
/// | `estimator` | `Reparam` | gradient estimator | |
/// | `kl` | `Auto` | closed form or Monte Carlo KL | MC draws >= 1 |
/// | `mu_init` | (-0.1, 0.1) | `mu ~ U(lo, hi)` | lo < hi |
/// | `rho_init` | (-5, -4) | `rho ~ U(lo, hi)` | lo < hi |
/// | `log_q_gradient` | `Total` | see [`LogQGradient`] | |
///
/// # Example
/// ```
/// use fanaroff_bayes::{VariationalConfig, Estimator, SigmaTransform};
/// let cfg = VariationalConfig::default()
///     .estimator(Estimator::Flipout)
///     .sigma(SigmaTransform::Softplus)
///     .check()
///     .unwrap();
/// assert_eq!(cfg.estimator, Estimator::Flipout);
/// assert!(VariationalConfig::default().rho_init(-4.0, -5.0).check().is_err());
/// // settings are data (a user-defined prior cannot be written out)
/// let json = serde_json::to_string(&cfg).unwrap();
/// let back: VariationalConfig = serde_json::from_str(&json).unwrap();
/// assert_eq!(back.estimator, Estimator::Flipout);
/// ```
///
/// The prior is private: [`prior_spec`](Self::prior_spec) (a built-in
/// prior, built at once) or [`custom_prior`](Self::custom_prior) (any
/// prior, no description) set it, and the accessors [`prior`](Self::prior)
/// and [`spec_of_prior`](Self::spec_of_prior) read it, so the prior and
/// its description cannot disagree.
#[derive(Debug, Clone)]
pub struct VariationalConfig {
    /// `sigma(rho)` map.
    pub sigma: SigmaTransform,
    /// The prior and, for a built-in one, its description.
    prior: PriorChoice,
    /// Gradient estimator.
    pub estimator: Estimator,
    /// KL estimator.
    pub kl: KlEstimator,
    /// Range of the uniform initialisation of `mu`.
    pub mu_init: (f32, f32),
    /// Range of the uniform initialisation of `rho`.
    pub rho_init: (f32, f32),
    /// Gradient convention of `ln q`.
    pub log_q_gradient: LogQGradient,
}

/// Where the prior of a [`VariationalConfig`] comes from.
#[derive(Debug, Clone)]
enum PriorChoice {
    /// A built-in prior: its description and the prior built from it, or
    /// why it cannot be built (invalid parameters; `check` reports it).
    Spec(PriorSpec, std::result::Result<Arc<dyn Prior>, String>),
    /// A prior given as such (user-defined ones too), without description.
    Custom(Arc<dyn Prior>),
}

impl PriorChoice {
    fn from_spec(spec: PriorSpec) -> Self {
        PriorChoice::Spec(spec, spec.build().map_err(|e| e.to_string()))
    }
}

impl Default for VariationalConfig {
    fn default() -> Self {
        VariationalConfig {
            sigma: SigmaTransform::Exp,
            prior: PriorChoice::from_spec(PriorSpec::default()),
            estimator: Estimator::Reparam,
            kl: KlEstimator::Auto,
            mu_init: (-0.1, 0.1),
            rho_init: (-5.0, -4.0),
            log_q_gradient: LogQGradient::Total,
        }
    }
}

impl VariationalConfig {
    /// Sets the `sigma(rho)` map.
    pub fn sigma(mut self, s: SigmaTransform) -> Self {
        self.sigma = s;
        self
    }
    /// Sets a built-in prior and builds it (invalid parameters are
    /// reported by [`check`](Self::check) and [`prior`](Self::prior)).
    pub fn prior_spec(mut self, spec: PriorSpec) -> Self {
        self.prior = PriorChoice::from_spec(spec);
        self
    }
    /// Sets any prior, including user-defined ones; it has no
    /// [`PriorSpec`], so the settings can no longer be serialised.
    pub fn custom_prior(mut self, prior: Arc<dyn Prior>) -> Self {
        self.prior = PriorChoice::Custom(prior);
        self
    }
    /// The prior over every weight and bias.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) if it was set by a [`PriorSpec`] with
    /// invalid parameters.
    pub fn prior(&self) -> Result<&Arc<dyn Prior>> {
        match &self.prior {
            PriorChoice::Spec(_, Ok(p)) | PriorChoice::Custom(p) => Ok(p),
            PriorChoice::Spec(spec, Err(why)) => Err(config(
                "VariationalConfig",
                format!("prior {spec:?}: {why}"),
            )),
        }
    }
    /// The description of the prior: `Some` for a built-in prior (set by
    /// [`prior_spec`](Self::prior_spec) or read from a file), `None` for
    /// one set by [`custom_prior`](Self::custom_prior).
    pub fn spec_of_prior(&self) -> Option<PriorSpec> {
        match self.prior {
            PriorChoice::Spec(spec, _) => Some(spec),
            PriorChoice::Custom(_) => None,
        }
    }
    /// Sets the estimator.
    pub fn estimator(mut self, e: Estimator) -> Self {
        self.estimator = e;
        self
    }
    /// Sets the KL estimator.
    pub fn kl(mut self, k: KlEstimator) -> Self {
        self.kl = k;
        self
    }
    /// Sets the `mu` initialisation range.
    pub fn mu_init(mut self, lo: f32, hi: f32) -> Self {
        self.mu_init = (lo, hi);
        self
    }
    /// Sets the `rho` initialisation range.
    pub fn rho_init(mut self, lo: f32, hi: f32) -> Self {
        self.rho_init = (lo, hi);
        self
    }
    /// Sets the `ln q` gradient convention.
    pub fn log_q_gradient(mut self, g: LogQGradient) -> Self {
        self.log_q_gradient = g;
        self
    }
    /// Validates the settings.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for empty or
    /// non-finite ranges, zero MC draws or invalid prior parameters.
    pub fn check(self) -> Result<Self> {
        for (name, (lo, hi)) in [("mu_init", self.mu_init), ("rho_init", self.rho_init)] {
            if !(lo < hi && lo.is_finite() && hi.is_finite()) {
                return Err(config(
                    "VariationalConfig",
                    format!("{name} = ({lo}, {hi}) must be a finite range lo < hi"),
                ));
            }
        }
        if self.kl == KlEstimator::MonteCarlo(0) {
            return Err(config("VariationalConfig", "MonteCarlo KL needs >= 1 draw"));
        }
        self.prior()?;
        Ok(self)
    }
}

/// The serialised form of [`VariationalConfig`]: the prior as a [`PriorSpec`].
#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct VariationalFile {
    sigma: SigmaTransform,
    #[serde(deserialize_with = "prior_text_or_table")]
    prior: PriorSpec,
    estimator: Estimator,
    kl: KlEstimator,
    mu_init: (f32, f32),
    rho_init: (f32, f32),
    log_q_gradient: LogQGradient,
}

/// A prior in a file: the short text form (`"gaussian:0.1"`, see
/// [`PriorSpec`]'s `FromStr`) or the table form (`{ Gaussian = { s = 0.1 } }`).
fn prior_text_or_table<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<PriorSpec, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Text(String),
        Table(PriorSpec),
    }
    match Repr::deserialize(d)? {
        Repr::Text(t) => t.parse().map_err(serde::de::Error::custom),
        Repr::Table(p) => Ok(p),
    }
}

impl Default for VariationalFile {
    fn default() -> Self {
        let d = VariationalConfig::default();
        VariationalFile {
            sigma: d.sigma,
            prior: PriorSpec::default(),
            estimator: d.estimator,
            kl: d.kl,
            mu_init: d.mu_init,
            rho_init: d.rho_init,
            log_q_gradient: d.log_q_gradient,
        }
    }
}

impl Serialize for VariationalConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let Some(prior) = self.spec_of_prior() else {
            return Err(serde::ser::Error::custom(
                "a user-defined prior cannot be serialised; use a PriorSpec",
            ));
        };
        VariationalFile {
            sigma: self.sigma,
            prior,
            estimator: self.estimator,
            kl: self.kl,
            mu_init: self.mu_init,
            rho_init: self.rho_init,
            log_q_gradient: self.log_q_gradient,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for VariationalConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let f = VariationalFile::deserialize(d)?;
        VariationalConfig::default()
            .sigma(f.sigma)
            .prior_spec(f.prior)
            .estimator(f.estimator)
            .kl(f.kl)
            .mu_init(f.mu_init.0, f.mu_init.1)
            .rho_init(f.rho_init.0, f.rho_init.1)
            .log_q_gradient(f.log_q_gradient)
            .check()
            .map_err(serde::de::Error::custom)
    }
}
