//! Variational layers: [`BayesLinear`] and [`BayesConv2d`].

use crate::error::{Error, Result, config, input};
use crate::posterior::{
    LogQGradient, SigmaTransform, closed_form_kl_terms, mc_kl_terms, perturbation, sample_weight,
};
use crate::prior::{Prior, PriorSpec};
use fanaroff_nn::{Module, join};
use fanaroff_tensor::Tensor;
use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use std::sync::Arc;

/// How a forward pass turns the posterior into outputs.
///
/// ```text
/// Reparam:       w = mu + sigma * eps, one draw per forward pass, shared by
///                the whole minibatch (the paper's estimator)
/// LocalReparam:  sample pre-activations: a ~ N(x.mu + b_mu, x^2.sigma^2 + b_sigma^2),
///                independent per example (linear and conv)
/// Flipout:       w_n = mu + delta o (s_n r_n^T), one shared delta = sigma * eps and
///                random signs per example (per input/output channel for conv)
/// ```
///
/// With `Reparam` and `Flipout` the single-sample KL uses the same draw as
/// the forward pass; with `LocalReparam` there is no weight draw, so the KL
/// is closed form when the prior allows it and otherwise uses fresh draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Estimator {
    /// One weight draw per forward pass (Blundell et al.; the paper).
    #[default]
    Reparam,
    /// Local reparameterisation (Kingma et al. 2015).
    LocalReparam,
    /// Flipout (Wen et al. 2018).
    Flipout,
}

impl std::str::FromStr for Estimator {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "reparam" | "bbb" | "plain" => Ok(Estimator::Reparam),
            "local" | "local_reparam" | "lrt" => Ok(Estimator::LocalReparam),
            "flipout" => Ok(Estimator::Flipout),
            _ => Err(config(
                "Estimator",
                format!("unknown estimator {s:?}; use reparam, local or flipout"),
            )),
        }
    }
}

/// How the KL term is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum KlEstimator {
    /// Closed form where the prior has one, else single-sample Monte Carlo.
    #[default]
    Auto,
    /// Monte Carlo with this many draws (the first is the forward pass's
    /// draw when there is one). `MonteCarlo(1)` is the paper's.
    MonteCarlo(usize),
}

/// Whether a forward pass samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SampleMode {
    /// Draw noise from the caller's RNG (training and MC prediction).
    #[default]
    Sample,
    /// Use the posterior mean `mu` (a MAP-like point estimate); the KL terms
    /// are zero in this mode.
    Mean,
    /// Draw from an RNG seeded with this value on every call: the same
    /// weights each time (a frozen sample).
    Fixed(u64),
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
/// ```
#[derive(Debug, Clone)]
pub struct VariationalConfig {
    /// `sigma(rho)` map.
    pub sigma: SigmaTransform,
    /// The prior (built).
    pub prior: Arc<dyn Prior>,
    /// The prior's description, when it came from a [`PriorSpec`].
    pub prior_spec: Option<PriorSpec>,
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

impl Default for VariationalConfig {
    fn default() -> Self {
        let spec = PriorSpec::default();
        VariationalConfig {
            sigma: SigmaTransform::Exp,
            prior: spec.build().expect("default prior is valid"),
            prior_spec: Some(spec),
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
    /// Sets a built-in prior (checked in [`check`](Self::check)).
    pub fn prior_spec(mut self, spec: PriorSpec) -> Self {
        self.prior_spec = Some(spec);
        if let Ok(p) = spec.build() {
            self.prior = p;
        }
        self
    }
    /// Sets any prior, including user-defined ones.
    pub fn prior(mut self, prior: Arc<dyn Prior>) -> Self {
        self.prior = prior;
        self.prior_spec = None;
        self
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
    /// [`Error::InvalidConfig`] for empty or non-finite ranges, zero MC
    /// draws or invalid prior parameters.
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
        if let Some(s) = self.prior_spec {
            s.build()?;
        }
        Ok(self)
    }
}

/// The KL terms of a forward pass: `[ln q, ln p]` summed over all weights
/// (expectations under `q` when closed form, Monte Carlo values otherwise),
/// as a differentiable `[2]` tensor. `KL = ln q - ln p`.
#[derive(Debug, Clone)]
pub struct KlTerms {
    terms: Tensor,
}

impl Default for KlTerms {
    fn default() -> Self {
        Self::zero()
    }
}

impl KlTerms {
    /// No KL (deterministic models, [`SampleMode::Mean`]).
    pub fn zero() -> Self {
        KlTerms {
            terms: Tensor::zeros(&[2]),
        }
    }

    /// Wraps a `[2]` tensor `[ln q, ln p]`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for another shape.
    pub fn from_tensor(terms: Tensor) -> Result<Self> {
        if terms.shape() != [2] {
            return Err(input(
                "KlTerms",
                format!("need shape [2], got {:?}", terms.shape()),
            ));
        }
        Ok(KlTerms { terms })
    }

    /// The `[2]` tensor `[ln q, ln p]`.
    pub fn tensor(&self) -> &Tensor {
        &self.terms
    }

    /// Sum of two sets of terms.
    ///
    /// # Errors
    /// Tensor errors (none for well-formed terms).
    pub fn add(&self, other: &KlTerms) -> Result<KlTerms> {
        Ok(KlTerms {
            terms: self.terms.add(&other.terms)?,
        })
    }

    /// `ln q` as a number.
    pub fn log_q(&self) -> f64 {
        self.terms.data()[[0]] as f64
    }
    /// `ln p` as a number.
    pub fn log_p(&self) -> f64 {
        self.terms.data()[[1]] as f64
    }
    /// `KL = ln q - ln p` as a number.
    pub fn kl_value(&self) -> f64 {
        self.log_q() - self.log_p()
    }

    /// The differentiable scalar `a * ln q - b * ln p` (`a = b`: `a * KL`).
    ///
    /// # Errors
    /// Tensor errors (none for well-formed terms).
    pub fn weighted(&self, a: f64, b: f64) -> Result<Tensor> {
        let c = Tensor::from_vec(vec![a as f32, -b as f32], &[2])?;
        Ok(self.terms.mul(&c)?.sum())
    }
}

/// The four variational tensors of a layer (PyTorch names `weight_mu`,
/// `weight_rho`, `bias_mu`, `bias_rho`).
#[derive(Debug, Clone)]
pub struct VariationalParams {
    /// Mean of the weights.
    pub weight_mu: Tensor,
    /// Free scale parameter of the weights.
    pub weight_rho: Tensor,
    /// Mean of the biases.
    pub bias_mu: Tensor,
    /// Free scale parameter of the biases.
    pub bias_rho: Tensor,
}

impl VariationalParams {
    fn init<R: Rng + ?Sized>(
        wshape: &[usize],
        cout: usize,
        cfg: &VariationalConfig,
        rng: &mut R,
    ) -> Result<Self> {
        let (ml, mh) = cfg.mu_init;
        let (rl, rh) = cfg.rho_init;
        Ok(VariationalParams {
            weight_mu: Tensor::rand_uniform(wshape, ml, mh, rng)?.requires_grad(true),
            weight_rho: Tensor::rand_uniform(wshape, rl, rh, rng)?.requires_grad(true),
            bias_mu: Tensor::rand_uniform(&[cout], ml, mh, rng)?.requires_grad(true),
            bias_rho: Tensor::rand_uniform(&[cout], rl, rh, rng)?.requires_grad(true),
        })
    }

    fn visit(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        f(&join(prefix, "weight_mu"), &self.weight_mu);
        f(&join(prefix, "weight_rho"), &self.weight_rho);
        f(&join(prefix, "bias_mu"), &self.bias_mu);
        f(&join(prefix, "bias_rho"), &self.bias_rho);
    }

    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        f(&join(prefix, "weight_mu"), &mut self.weight_mu);
        f(&join(prefix, "weight_rho"), &mut self.weight_rho);
        f(&join(prefix, "bias_mu"), &mut self.bias_mu);
        f(&join(prefix, "bias_rho"), &mut self.bias_rho);
    }

    /// Number of weights and biases (half the number of variational parameters).
    pub fn num_weights(&self) -> usize {
        self.weight_mu.len() + self.bias_mu.len()
    }

    /// Signal-to-noise ratio `|mu| / sigma` of every weight (not the biases).
    pub fn weight_snr(&self, sigma: SigmaTransform) -> ArrayD<f32> {
        let mut out = self.weight_mu.data().mapv(f32::abs);
        ndarray::Zip::from(&mut out)
            .and(self.weight_rho.data())
            .for_each(|o, &r| *o /= sigma.sigma(r as f64) as f32);
        out
    }
}

/// Noise for one forward pass with the [`Estimator::Reparam`] estimator.
#[derive(Debug, Clone)]
pub struct WeightNoise {
    /// `eps` of the weights (shape of `weight_mu`).
    pub weight_eps: ArrayD<f32>,
    /// `eps` of the biases (shape of `bias_mu`).
    pub bias_eps: ArrayD<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Linear,
    Conv { stride: usize, padding: usize },
}

/// The shared machinery of both layer types.
#[derive(Debug, Clone)]
struct Core {
    params: VariationalParams,
    cfg: VariationalConfig,
    mode: SampleMode,
    kind: Kind,
}

fn randn_array<R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> ArrayD<f32> {
    let t = Tensor::randn(shape, rng);
    t.data().clone()
}

fn signs<R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> ArrayD<f32> {
    ArrayD::from_shape_simple_fn(
        IxDyn(shape),
        || if rng.random::<bool>() { 1.0 } else { -1.0 },
    )
}

impl Core {
    fn apply(&self, x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Tensor> {
        Ok(match self.kind {
            Kind::Linear => fanaroff_nn::linear(x, w, b)?,
            Kind::Conv { stride, padding } => {
                x.conv2d(w, b, (stride, stride), (padding, padding))?
            }
        })
    }

    fn check_input(&self, x: &Tensor) -> Result<()> {
        let ws = self.params.weight_mu.shape();
        let ok = match self.kind {
            Kind::Linear => x.ndim() == 2 && x.shape()[1] == ws[1],
            Kind::Conv { .. } => x.ndim() == 4 && x.shape()[1] == ws[1],
        };
        if !ok {
            return Err(input(
                match self.kind {
                    Kind::Linear => "BayesLinear",
                    Kind::Conv { .. } => "BayesConv2d",
                },
                format!("input {:?} does not fit weight {:?}", x.shape(), ws),
            ));
        }
        if x.shape()[0] == 0 {
            return Err(input("Bayes layer", "empty batch"));
        }
        Ok(())
    }

    fn kl_mc(&self, first: Option<&WeightNoise>, rng: &mut dyn RngCore) -> Result<KlTerms> {
        let p = &self.params;
        let s = match self.cfg.kl {
            KlEstimator::MonteCarlo(s) => s.max(1),
            KlEstimator::Auto => 1,
        };
        let mut draws: Vec<WeightNoise> = Vec::with_capacity(s);
        if let Some(f) = first {
            draws.push(f.clone());
        }
        while draws.len() < s {
            draws.push(WeightNoise {
                weight_eps: randn_array(p.weight_mu.shape(), rng),
                bias_eps: randn_array(p.bias_mu.shape(), rng),
            });
        }
        let we: Vec<&ArrayD<f32>> = draws.iter().map(|d| &d.weight_eps).collect();
        let be: Vec<&ArrayD<f32>> = draws.iter().map(|d| &d.bias_eps).collect();
        let tw = mc_kl_terms(
            &p.weight_mu,
            &p.weight_rho,
            &we,
            &self.cfg.prior,
            self.cfg.sigma,
            self.cfg.log_q_gradient,
        )?;
        let tb = mc_kl_terms(
            &p.bias_mu,
            &p.bias_rho,
            &be,
            &self.cfg.prior,
            self.cfg.sigma,
            self.cfg.log_q_gradient,
        )?;
        KlTerms::from_tensor(tw.add(&tb)?)
    }

    fn kl_closed(&self) -> Result<Option<KlTerms>> {
        if self.cfg.kl != KlEstimator::Auto {
            return Ok(None);
        }
        let p = &self.params;
        let tw =
            closed_form_kl_terms(&p.weight_mu, &p.weight_rho, &self.cfg.prior, self.cfg.sigma)?;
        let tb = closed_form_kl_terms(&p.bias_mu, &p.bias_rho, &self.cfg.prior, self.cfg.sigma)?;
        match (tw, tb) {
            (Some(a), Some(b)) => Ok(Some(KlTerms::from_tensor(a.add(&b)?)?)),
            _ => Ok(None),
        }
    }

    /// KL terms alone, for a given first draw (or fresh draws).
    fn kl(&self, first: Option<&WeightNoise>, rng: &mut dyn RngCore) -> Result<KlTerms> {
        if let Some(k) = self.kl_closed()? {
            return Ok(k);
        }
        self.kl_mc(first, rng)
    }

    fn forward_noise(
        &self,
        x: &Tensor,
        noise: &WeightNoise,
        with_kl: bool,
        rng: &mut dyn RngCore,
    ) -> Result<(Tensor, KlTerms)> {
        let p = &self.params;
        let w = sample_weight(
            &p.weight_mu,
            &p.weight_rho,
            &noise.weight_eps,
            self.cfg.sigma,
        )?;
        let b = sample_weight(&p.bias_mu, &p.bias_rho, &noise.bias_eps, self.cfg.sigma)?;
        let y = self.apply(x, &w, Some(&b))?;
        let kl = if with_kl {
            self.kl(Some(noise), rng)?
        } else {
            KlTerms::zero()
        };
        Ok((y, kl))
    }

    fn forward(
        &self,
        x: &Tensor,
        rng: &mut dyn RngCore,
        with_kl: bool,
    ) -> Result<(Tensor, KlTerms)> {
        self.check_input(x)?;
        match self.mode {
            SampleMode::Mean => {
                let p = &self.params;
                Ok((
                    self.apply(x, &p.weight_mu, Some(&p.bias_mu))?,
                    KlTerms::zero(),
                ))
            }
            SampleMode::Fixed(seed) => {
                let mut r = StdRng::seed_from_u64(seed);
                self.forward_sampled(x, &mut r, with_kl)
            }
            SampleMode::Sample => self.forward_sampled(x, rng, with_kl),
        }
    }

    fn forward_sampled(
        &self,
        x: &Tensor,
        rng: &mut dyn RngCore,
        with_kl: bool,
    ) -> Result<(Tensor, KlTerms)> {
        let p = &self.params;
        let sig = self.cfg.sigma;
        match self.cfg.estimator {
            Estimator::Reparam => {
                let noise = WeightNoise {
                    weight_eps: randn_array(p.weight_mu.shape(), rng),
                    bias_eps: randn_array(p.bias_mu.shape(), rng),
                };
                self.forward_noise(x, &noise, with_kl, rng)
            }
            Estimator::LocalReparam => {
                let mean = self.apply(x, &p.weight_mu, Some(&p.bias_mu))?;
                let wvar = sig.apply(&p.weight_rho).square();
                let bvar = sig.apply(&p.bias_rho).square();
                let var = self.apply(&x.square(), &wvar, Some(&bvar))?;
                let eps = Tensor::randn(mean.shape(), rng);
                let y = mean.add(&var.sqrt().mul(&eps)?)?;
                let kl = if with_kl {
                    self.kl(None, rng)?
                } else {
                    KlTerms::zero()
                };
                Ok((y, kl))
            }
            Estimator::Flipout => {
                let noise = WeightNoise {
                    weight_eps: randn_array(p.weight_mu.shape(), rng),
                    bias_eps: randn_array(p.bias_mu.shape(), rng),
                };
                let n = x.shape()[0];
                let (cin, cout) = (p.weight_mu.shape()[1], p.weight_mu.shape()[0]);
                let (sin_shape, sout_shape): (Vec<usize>, Vec<usize>) = match self.kind {
                    Kind::Linear => (vec![n, cin], vec![n, cout]),
                    Kind::Conv { .. } => (vec![n, cin, 1, 1], vec![n, cout, 1, 1]),
                };
                let s_in = Tensor::new(signs(&sin_shape, rng));
                let s_out = Tensor::new(signs(&sout_shape, rng));
                let delta = perturbation(&p.weight_rho, &noise.weight_eps, sig)?;
                let b = sample_weight(&p.bias_mu, &p.bias_rho, &noise.bias_eps, sig)?;
                let mean = self.apply(x, &p.weight_mu, Some(&b))?;
                let pert = self.apply(&x.mul(&s_in)?, &delta, None)?.mul(&s_out)?;
                let y = mean.add(&pert)?;
                let kl = if with_kl {
                    self.kl(Some(&noise), rng)?
                } else {
                    KlTerms::zero()
                };
                Ok((y, kl))
            }
        }
    }
}

macro_rules! layer_common {
    ($ty:ident) => {
        impl $ty {
            /// The variational tensors.
            pub fn params(&self) -> &VariationalParams {
                &self.core.params
            }
            /// Mutable access to the variational tensors (pruning, loading).
            pub fn params_mut(&mut self) -> &mut VariationalParams {
                &mut self.core.params
            }
            /// The layer's settings.
            pub fn config(&self) -> &VariationalConfig {
                &self.core.cfg
            }
            /// Changes the estimator (e.g. to compare estimators on one trained model).
            pub fn set_estimator(&mut self, e: Estimator) {
                self.core.cfg.estimator = e;
            }
            /// The sampling mode.
            pub fn mode(&self) -> SampleMode {
                self.core.mode
            }
            /// Sets the sampling mode (sample, mean, fixed seed).
            pub fn set_mode(&mut self, mode: SampleMode) {
                self.core.mode = mode;
            }
            /// Output and KL terms of one forward pass. `with_kl = false`
            /// skips the KL computation (prediction) and returns zero terms.
            ///
            /// # Errors
            /// [`Error::InvalidInput`] for an input that does not fit or an
            /// empty batch; tensor errors.
            pub fn forward_kl(
                &self,
                x: &Tensor,
                rng: &mut dyn RngCore,
                with_kl: bool,
            ) -> Result<(Tensor, KlTerms)> {
                self.core.forward(x, rng, with_kl)
            }
            /// Forward pass with given noise (the [`Estimator::Reparam`]
            /// computation with a fixed draw; the KL uses this draw, plus
            /// fresh draws from `rng` for a multi-sample KL estimator, or the
            /// closed form).
            ///
            /// # Errors
            /// As [`forward_kl`](Self::forward_kl), and for noise of the wrong shape.
            pub fn forward_with_noise(
                &self,
                x: &Tensor,
                noise: &WeightNoise,
                rng: &mut dyn RngCore,
            ) -> Result<(Tensor, KlTerms)> {
                self.core.check_input(x)?;
                self.core.forward_noise(x, noise, true, rng)
            }
            /// The KL terms alone (closed form, or Monte Carlo with fresh draws).
            ///
            /// # Errors
            /// Tensor errors.
            pub fn kl(&self, rng: &mut dyn RngCore) -> Result<KlTerms> {
                self.core.kl(None, rng)
            }
        }

        impl crate::model::BayesModel for $ty {
            fn forward_kl(&self, x: &Tensor, rng: &mut dyn RngCore) -> Result<(Tensor, KlTerms)> {
                self.core.forward(x, rng, true)
            }
            fn set_sample_mode(&mut self, mode: SampleMode) {
                self.core.mode = mode;
            }
            fn is_stochastic(&self) -> bool {
                self.core.mode != SampleMode::Mean
            }
        }

        impl Module for $ty {
            fn forward(&self, x: &Tensor, rng: &mut dyn RngCore) -> fanaroff_nn::Result<Tensor> {
                self.core
                    .forward(x, rng, false)
                    .map(|(y, _)| y)
                    .map_err(crate::model::to_nn_error)
            }
            fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
                self.core.params.visit(prefix, f)
            }
            fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
                self.core.params.visit_mut(prefix, f)
            }
        }
    };
}

/// Fully connected variational layer: `y = x w^T + b` with
/// `w ~ N(weight_mu, sigma(weight_rho)^2)` (shape `[out, in]`, PyTorch
/// layout) and `b ~ N(bias_mu, sigma(bias_rho)^2)`.
///
/// # Example
/// ```
/// use fanaroff_bayes::{BayesLinear, VariationalConfig};
/// use fanaroff_tensor::Tensor;
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let fc = BayesLinear::new(4, 3, &VariationalConfig::default(), &mut rng).unwrap();
/// let (y, kl) = fc.forward_kl(&Tensor::ones(&[2, 4]), &mut rng, true).unwrap();
/// assert_eq!(y.shape(), &[2, 3]);
/// assert!(kl.kl_value().is_finite());
/// ```
#[derive(Debug, Clone)]
pub struct BayesLinear {
    core: Core,
}

impl BayesLinear {
    /// A layer initialised as the paper: `mu ~ U(-0.1, 0.1)`,
    /// `rho ~ U(-5, -4)` (see [`VariationalConfig`]).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero sizes or an invalid config.
    pub fn new<R: Rng + ?Sized>(
        in_features: usize,
        out_features: usize,
        cfg: &VariationalConfig,
        rng: &mut R,
    ) -> Result<Self> {
        if in_features == 0 || out_features == 0 {
            return Err(config("BayesLinear", "sizes must be positive"));
        }
        let cfg = cfg.clone().check()?;
        let params =
            VariationalParams::init(&[out_features, in_features], out_features, &cfg, rng)?;
        Ok(BayesLinear {
            core: Core {
                params,
                cfg,
                mode: SampleMode::Sample,
                kind: Kind::Linear,
            },
        })
    }

    /// A layer from given tensors (`weight_* [out, in]`, `bias_* [out]`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the shapes do not fit.
    pub fn from_params(params: VariationalParams, cfg: &VariationalConfig) -> Result<Self> {
        let ws = params.weight_mu.shape().to_vec();
        if ws.len() != 2 {
            return Err(config(
                "BayesLinear",
                format!("weight must be [out, in], got {ws:?}"),
            ));
        }
        check_shapes("BayesLinear", &params, &ws)?;
        Ok(BayesLinear {
            core: Core {
                params: mark(params),
                cfg: cfg.clone().check()?,
                mode: SampleMode::Sample,
                kind: Kind::Linear,
            },
        })
    }
}

/// 2-D convolutional variational layer (NCHW input, OIHW weights, square
/// kernel, equal stride and padding on both axes).
///
/// # Example
/// ```
/// use fanaroff_bayes::{BayesConv2d, VariationalConfig};
/// use fanaroff_tensor::Tensor;
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let conv = BayesConv2d::new(1, 6, 5, 1, 1, &VariationalConfig::default(), &mut rng).unwrap();
/// let (y, _) = conv.forward_kl(&Tensor::ones(&[2, 1, 12, 12]), &mut rng, false).unwrap();
/// assert_eq!(y.shape(), &[2, 6, 10, 10]);
/// ```
#[derive(Debug, Clone)]
pub struct BayesConv2d {
    core: Core,
}

impl BayesConv2d {
    /// A layer initialised as the paper.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero sizes or an invalid config.
    pub fn new<R: Rng + ?Sized>(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        cfg: &VariationalConfig,
        rng: &mut R,
    ) -> Result<Self> {
        if in_channels == 0 || out_channels == 0 || kernel == 0 || stride == 0 {
            return Err(config(
                "BayesConv2d",
                "channels, kernel and stride must be positive",
            ));
        }
        let cfg = cfg.clone().check()?;
        let params = VariationalParams::init(
            &[out_channels, in_channels, kernel, kernel],
            out_channels,
            &cfg,
            rng,
        )?;
        Ok(BayesConv2d {
            core: Core {
                params,
                cfg,
                mode: SampleMode::Sample,
                kind: Kind::Conv { stride, padding },
            },
        })
    }

    /// A layer from given tensors (`weight_* [out, in, k, k]`, `bias_* [out]`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the shapes do not fit.
    pub fn from_params(
        params: VariationalParams,
        stride: usize,
        padding: usize,
        cfg: &VariationalConfig,
    ) -> Result<Self> {
        let ws = params.weight_mu.shape().to_vec();
        if ws.len() != 4 || stride == 0 {
            return Err(config(
                "BayesConv2d",
                format!("weight must be [out, in, k, k] and stride > 0, got {ws:?}"),
            ));
        }
        check_shapes("BayesConv2d", &params, &ws)?;
        Ok(BayesConv2d {
            core: Core {
                params: mark(params),
                cfg: cfg.clone().check()?,
                mode: SampleMode::Sample,
                kind: Kind::Conv { stride, padding },
            },
        })
    }
}

fn check_shapes(what: &'static str, p: &VariationalParams, ws: &[usize]) -> Result<()> {
    if p.weight_rho.shape() != ws || p.bias_mu.shape() != [ws[0]] || p.bias_rho.shape() != [ws[0]] {
        return Err(config(
            what,
            format!(
                "shapes do not fit: weight_mu {:?}, weight_rho {:?}, bias_mu {:?}, bias_rho {:?}",
                ws,
                p.weight_rho.shape(),
                p.bias_mu.shape(),
                p.bias_rho.shape()
            ),
        ));
    }
    Ok(())
}

fn mark(p: VariationalParams) -> VariationalParams {
    let keep = |t: Tensor| {
        if t.is_requires_grad() {
            t
        } else {
            t.requires_grad(true)
        }
    };
    VariationalParams {
        weight_mu: keep(p.weight_mu),
        weight_rho: keep(p.weight_rho),
        bias_mu: keep(p.bias_mu),
        bias_rho: keep(p.bias_rho),
    }
}

layer_common!(BayesLinear);
layer_common!(BayesConv2d);
