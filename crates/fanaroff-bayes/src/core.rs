//! The machinery both variational layers share: sampling, the three
//! estimators, masks and the KL terms.

use crate::config::{Estimator, KlEstimator, VariationalConfig};
use crate::error::{Result, input};
use crate::params::{VariationalParams, WeightNoise};
use crate::posterior::{closed_form_kl_terms, mc_kl_terms, perturbation, sample_weight};
use fanaroff_nn::kl::KlTerms;
use fanaroff_nn::{ConvWeights, Mask, Pass, SampleMode};
use fanaroff_tensor::Tensor;
use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Linear,
    Conv { stride: usize, padding: usize },
}

#[derive(Debug, Clone)]
pub(crate) struct Core {
    pub params: VariationalParams,
    pub cfg: VariationalConfig,
    pub mode: SampleMode,
    pub kind: Kind,
    pub mask: Mask,
}

/// Standard normal draws (the same sequence as `Tensor::randn`), in a
/// buffer from the tensor pool.
pub(crate) fn randn_array<R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> ArrayD<f32> {
    let mut v = fanaroff_tensor::pool::take_dirty(shape.iter().product());
    v.iter_mut()
        .for_each(|x| *x = rng.sample(rand_distr::StandardNormal));
    ArrayD::from_shape_vec(IxDyn(shape), v).expect("length is the shape's product")
}

fn signs<R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> ArrayD<f32> {
    ArrayD::from_shape_simple_fn(
        IxDyn(shape),
        || if rng.random::<bool>() { 1.0 } else { -1.0 },
    )
}

impl Core {
    pub fn new(params: VariationalParams, cfg: VariationalConfig, kind: Kind) -> Self {
        Core {
            mask: Mask::new(params.weight_mu.shape()),
            params,
            cfg,
            mode: SampleMode::Sample,
            kind,
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        match self.kind {
            Kind::Linear => "BayesLinear",
            Kind::Conv { .. } => "BayesConv2d",
        }
    }

    fn apply(&self, x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Tensor> {
        self.apply_masked(x, &self.mask.apply(w)?, b)
    }

    /// The layer's operation with a weight the mask was already applied to.
    pub(crate) fn apply_masked(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: Option<&Tensor>,
    ) -> Result<Tensor> {
        Ok(match self.kind {
            Kind::Linear => fanaroff_nn::linear(x, w, b)?,
            Kind::Conv { stride, padding } => {
                x.conv2d(w, b, (stride, stride), (padding, padding))?
            }
        })
    }

    pub fn check_input(&self, x: &Tensor) -> Result<()> {
        let ws = self.params.weight_mu.shape();
        let rank = match self.kind {
            Kind::Linear => 2,
            Kind::Conv { .. } => 4,
        };
        if x.ndim() != rank || x.shape()[1] != ws[1] {
            return Err(input(
                self.name(),
                format!("input {:?} does not fit weight {:?}", x.shape(), ws),
            ));
        }
        if x.shape()[0] == 0 {
            return Err(input(self.name(), "empty batch"));
        }
        Ok(())
    }

    fn kl_mc(&self, first: Option<&WeightNoise>, rng: &mut dyn RngCore) -> Result<KlTerms> {
        let p = &self.params;
        let s = match self.cfg.kl {
            KlEstimator::MonteCarlo(s) => s.max(1),
            KlEstimator::Auto => 1,
        };
        let fresh: Vec<WeightNoise> = (usize::from(first.is_some())..s)
            .map(|_| WeightNoise {
                weight_eps: randn_array(p.weight_mu.shape(), rng),
                bias_eps: randn_array(p.bias_mu.shape(), rng),
            })
            .collect();
        let draws: Vec<&WeightNoise> = first.into_iter().chain(&fresh).collect();
        let we: Vec<&ArrayD<f32>> = draws.iter().map(|d| &d.weight_eps).collect();
        let be: Vec<&ArrayD<f32>> = draws.iter().map(|d| &d.bias_eps).collect();
        let (prior, sig, lq) = (self.cfg.prior()?, self.cfg.sigma, self.cfg.log_q_gradient);
        let tw = mc_kl_terms(
            &p.weight_mu,
            &p.weight_rho,
            &we,
            prior,
            sig,
            lq,
            self.mask.get(),
        )?;
        let tb = mc_kl_terms(&p.bias_mu, &p.bias_rho, &be, prior, sig, lq, None)?;
        Ok(KlTerms::from_tensor(tw.add(&tb)?)?)
    }

    fn kl_closed(&self) -> Result<Option<KlTerms>> {
        if self.cfg.kl != KlEstimator::Auto {
            return Ok(None);
        }
        let p = &self.params;
        let (prior, sig) = (self.cfg.prior()?, self.cfg.sigma);
        let tw = closed_form_kl_terms(&p.weight_mu, &p.weight_rho, prior, sig, self.mask.get())?;
        let tb = closed_form_kl_terms(&p.bias_mu, &p.bias_rho, prior, sig, None)?;
        match (tw, tb) {
            (Some(a), Some(b)) => Ok(Some(KlTerms::from_tensor(a.add(&b)?)?)),
            _ => Ok(None),
        }
    }

    /// KL terms alone, for a given first draw (or fresh draws).
    pub fn kl(&self, first: Option<&WeightNoise>, rng: &mut dyn RngCore) -> Result<KlTerms> {
        if let Some(k) = self.kl_closed()? {
            return Ok(k);
        }
        self.kl_mc(first, rng)
    }

    /// Records this layer's KL in the pass (when it collects).
    pub(crate) fn record(&self, first: Option<&WeightNoise>, pass: &mut Pass<'_>) -> Result<()> {
        pass.record_kl(|rng| self.kl(first, rng))
    }

    pub fn forward_noise(
        &self,
        x: &Tensor,
        noise: &WeightNoise,
        pass: &mut Pass<'_>,
    ) -> Result<Tensor> {
        let p = &self.params;
        let w = sample_weight(
            &p.weight_mu,
            &p.weight_rho,
            &noise.weight_eps,
            self.cfg.sigma,
        )?;
        let b = sample_weight(&p.bias_mu, &p.bias_rho, &noise.bias_eps, self.cfg.sigma)?;
        let y = self.apply(x, &w, Some(&b))?;
        self.record(Some(noise), pass)?;
        Ok(y)
    }

    pub fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        self.check_input(x)?;
        match pass.sample_mode(self.mode) {
            SampleMode::Mean => {
                let p = &self.params;
                self.apply(x, &p.weight_mu, Some(&p.bias_mu))
            }
            SampleMode::Fixed(seed) => {
                let own = &mut StdRng::seed_from_u64(seed);
                pass.with_own_rng(own, |p| self.forward_sampled(x, p))
            }
            SampleMode::Sample => self.forward_sampled(x, pass),
        }
    }

    /// The masked weight and the bias of one pass of a 1x1 convolution
    /// (stride 1, no padding) with one draw for the batch, drawn and
    /// recorded as [`forward`](Self::forward) does; `None` for other
    /// layers, the local-reparameterisation and flipout estimators, and
    /// draw groups.
    pub fn pass_weights(&self, pass: &mut Pass<'_>) -> Option<Result<(Tensor, Tensor)>> {
        let pointwise = self.kind
            == (Kind::Conv {
                stride: 1,
                padding: 0,
            })
            && self.params.weight_mu.shape().get(2..) == Some(&[1, 1][..]);
        if !pointwise {
            return None;
        }
        let drawn = self.conv_pass_weights(pass)?;
        Some(drawn.map(|cw| (cw.weight, cw.bias.expect("variational layers have a bias"))))
    }

    /// As [`pass_weights`](Self::pass_weights) for a convolution of any
    /// kernel, with its stride and padding; `None` for linear layers, the
    /// local-reparameterisation and flipout estimators, and draw groups.
    pub fn conv_pass_weights(&self, pass: &mut Pass<'_>) -> Option<Result<ConvWeights>> {
        let Kind::Conv { stride, padding } = self.kind else {
            return None;
        };
        let p = &self.params;
        let drawn = match pass.sample_mode(self.mode) {
            SampleMode::Mean => Some(self.masked(p.weight_mu.clone(), p.bias_mu.clone())),
            SampleMode::Fixed(seed) => {
                let own = &mut StdRng::seed_from_u64(seed);
                pass.with_own_rng(own, |p| self.sampled_weights(p))
            }
            SampleMode::Sample => self.sampled_weights(pass),
        }?;
        Some(drawn.map(|(weight, b)| ConvWeights {
            weight,
            bias: Some(b),
            stride,
            padding,
        }))
    }

    fn masked(&self, w: Tensor, b: Tensor) -> Result<(Tensor, Tensor)> {
        Ok((self.mask.apply(&w)?, b))
    }

    /// [`forward_noise`](Self::forward_noise) without the operation.
    fn sampled_weights(&self, pass: &mut Pass<'_>) -> Option<Result<(Tensor, Tensor)>> {
        let reparam = pass.weight_sampling() || self.cfg.estimator == Estimator::Reparam;
        if !reparam || pass.group().is_some() {
            return None;
        }
        let noise = self.draw(pass);
        let p = &self.params;
        let mut sample = || -> Result<(Tensor, Tensor)> {
            let sig = self.cfg.sigma;
            let w = sample_weight(&p.weight_mu, &p.weight_rho, &noise.weight_eps, sig)?;
            let b = sample_weight(&p.bias_mu, &p.bias_rho, &noise.bias_eps, sig)?;
            self.record(Some(&noise), pass)?;
            self.masked(w, b)
        };
        Some(sample())
    }

    /// Weight noise: from the prediction pass's draw when one is active
    /// (the same in every batch of the draw), else from the pass's RNG.
    fn draw(&self, pass: &mut Pass<'_>) -> WeightNoise {
        let p = &self.params;
        pass.weight_noise(|r| WeightNoise {
            weight_eps: randn_array(p.weight_mu.shape(), r),
            bias_eps: randn_array(p.bias_mu.shape(), r),
        })
    }

    fn forward_sampled(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        let estimator = if pass.weight_sampling() {
            Estimator::Reparam
        } else {
            self.cfg.estimator
        };
        match estimator {
            Estimator::Reparam => match pass.group() {
                Some(group) => self.forward_group(x, group, pass),
                None => {
                    let noise = self.draw(pass);
                    self.forward_noise(x, &noise, pass)
                }
            },
            Estimator::LocalReparam => self.forward_local(x, pass),
            Estimator::Flipout => self.forward_flipout(x, pass),
        }
    }

    fn forward_local(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        let (p, sig) = (&self.params, self.cfg.sigma);
        let mean = self.apply(x, &p.weight_mu, Some(&p.bias_mu))?;
        let wvar = sig.apply(&p.weight_rho).square();
        let bvar = sig.apply(&p.bias_rho).square();
        let var = self.apply(&x.square(), &wvar, Some(&bvar))?;
        let eps = Tensor::randn(mean.shape(), pass.rng());
        let y = mean.add(&var.sqrt().mul(&eps)?)?;
        self.record(None, pass)?;
        Ok(y)
    }

    fn forward_flipout(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        let (p, sig) = (&self.params, self.cfg.sigma);
        let noise = self.draw(pass);
        let n = x.shape()[0];
        let (cin, cout) = (p.weight_mu.shape()[1], p.weight_mu.shape()[0]);
        let (sin_shape, sout_shape): (Vec<usize>, Vec<usize>) = match self.kind {
            Kind::Linear => (vec![n, cin], vec![n, cout]),
            Kind::Conv { .. } => (vec![n, cin, 1, 1], vec![n, cout, 1, 1]),
        };
        let s_in = Tensor::new(signs(&sin_shape, pass.rng()));
        let s_out = Tensor::new(signs(&sout_shape, pass.rng()));
        let delta = perturbation(&p.weight_rho, &noise.weight_eps, sig)?;
        let b = sample_weight(&p.bias_mu, &p.bias_rho, &noise.bias_eps, sig)?;
        let mean = self.apply(x, &p.weight_mu, Some(&b))?;
        let pert = self.apply(&x.mul(&s_in)?, &delta, None)?.mul(&s_out)?;
        let y = mean.add(&pert)?;
        self.record(Some(&noise), pass)?;
        Ok(y)
    }
}
