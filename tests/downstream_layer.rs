//! A Bayesian layer defined outside the workspace's crates takes part in
//! everything the built-in ones do, through the `Pass` and the
//! `Variational` view alone: it trains with `ElboStep`, switches estimator
//! with the model-wide walk, prunes, and predicts with MC draws (one or
//! several per pass) exactly as `BayesLinear` does.

mod common;

use fanaroff::bayes::posterior::{closed_form_kl_terms, mc_kl_terms, sample_weight};
use fanaroff::bayes::{
    BayesLinear, KlEstimator, PredictConfig, VariationalConfig, VariationalParams, num_weights,
    predict_samples, set_estimator, variational_layers,
};
use fanaroff::nn::kl::KlTerms;
use fanaroff::nn::{
    Activation, Estimator, LinearConfig, Mask, Module, ModuleExt, Pass, SampleMode, Sequential,
    Variational, WeightView, join, linear,
};
use fanaroff::prune::{PruneConfig, Snr, prune};
use fanaroff::tensor::Tensor;
use ndarray::ArrayD;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// A fully connected layer with a Gaussian posterior, written against the
/// public API only: `w = mu + sigma(rho) eps` (one draw per pass) or local
/// reparameterisation, KL closed form or Monte Carlo.
struct Downstream {
    p: VariationalParams,
    cfg: VariationalConfig,
    mask: Mask,
    mode: SampleMode,
}

/// The two noise tensors of one weight draw.
struct Eps {
    w: ArrayD<f32>,
    b: ArrayD<f32>,
}

impl Downstream {
    fn new(p: VariationalParams, cfg: &VariationalConfig) -> Self {
        Downstream {
            mask: Mask::new(p.weight_mu.shape()),
            p,
            cfg: cfg.clone(),
            mode: SampleMode::Sample,
        }
    }

    fn draw(&self, r: &mut dyn RngCore) -> Eps {
        Eps {
            w: Tensor::randn(self.p.weight_mu.shape(), r).data().clone(),
            b: Tensor::randn(self.p.bias_mu.shape(), r).data().clone(),
        }
    }

    fn kl_terms(
        &self,
        first: Option<&Eps>,
        rng: &mut dyn RngCore,
    ) -> fanaroff::nn::Result<KlTerms> {
        let (prior, sig) = (self.cfg.prior()?, self.cfg.sigma);
        let p = &self.p;
        if self.cfg.kl == KlEstimator::Auto {
            let w = closed_form_kl_terms(&p.weight_mu, &p.weight_rho, prior, sig, self.mask.get())?;
            let b = closed_form_kl_terms(&p.bias_mu, &p.bias_rho, prior, sig, None)?;
            if let (Some(w), Some(b)) = (w, b) {
                return KlTerms::from_tensor(w.add(&b)?);
            }
        }
        let fresh;
        let e = match first {
            Some(e) => e,
            None => {
                fresh = self.draw(rng);
                &fresh
            }
        };
        let lq = self.cfg.log_q_gradient;
        let m = self.mask.get();
        let w = mc_kl_terms(&p.weight_mu, &p.weight_rho, &[&e.w], prior, sig, lq, m)?;
        let b = mc_kl_terms(&p.bias_mu, &p.bias_rho, &[&e.b], prior, sig, lq, None)?;
        KlTerms::from_tensor(w.add(&b)?)
    }

    /// One draw of the layer on `x`, its KL recorded in the pass.
    fn one_draw(&self, x: &Tensor, pass: &mut Pass<'_>) -> fanaroff::nn::Result<Tensor> {
        let (p, sig) = (&self.p, self.cfg.sigma);
        let sampling = pass.weight_sampling() || self.cfg.estimator == Estimator::Reparam;
        if !sampling {
            let mean = linear(x, &self.mask.apply(&p.weight_mu)?, Some(&p.bias_mu))?;
            let wvar = self.mask.apply(&sig.apply(&p.weight_rho).square())?;
            let var = linear(&x.square(), &wvar, Some(&sig.apply(&p.bias_rho).square()))?;
            let y = mean.add(&var.sqrt().mul(&Tensor::randn(mean.shape(), pass.rng()))?)?;
            pass.record_kl(|r| self.kl_terms(None, r))?;
            return Ok(y);
        }
        let e = pass.weight_noise(|r| self.draw(r));
        let w = sample_weight(&p.weight_mu, &p.weight_rho, &e.w, sig)?;
        let b = sample_weight(&p.bias_mu, &p.bias_rho, &e.b, sig)?;
        let y = linear(x, &self.mask.apply(&w)?, Some(&b))?;
        pass.record_kl(|r| self.kl_terms(Some(&e), r))?;
        Ok(y)
    }
}

impl Module for Downstream {
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> fanaroff::nn::Result<Tensor> {
        match self.mode {
            SampleMode::Mean => Ok(linear(
                x,
                &self.mask.apply(&self.p.weight_mu)?,
                Some(&self.p.bias_mu),
            )?),
            SampleMode::Fixed(s) => {
                pass.with_own_rng(&mut StdRng::seed_from_u64(s), |p| self.one_draw(x, p))
            }
            SampleMode::Sample => match pass.group() {
                // several draws on a shared input: one block of rows per draw
                Some(g) if x.shape()[0] == g.batch => {
                    let ys = pass.per_draw(|_, one| self.one_draw(x, one));
                    Ok(Tensor::concat(
                        &ys.into_iter().collect::<Result<Vec<_>, _>>()?,
                        0,
                    )?)
                }
                Some(g) => {
                    let ys = pass.per_draw(|d, one| {
                        self.one_draw(&x.slice(0, d * g.batch, (d + 1) * g.batch)?, one)
                    });
                    Ok(Tensor::concat(
                        &ys.into_iter().collect::<Result<Vec<_>, _>>()?,
                        0,
                    )?)
                }
                None => self.one_draw(x, pass),
            },
        }
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        f(&join(prefix, "weight_mu"), &self.p.weight_mu);
        f(&join(prefix, "weight_rho"), &self.p.weight_rho);
        f(&join(prefix, "bias_mu"), &self.p.bias_mu);
        f(&join(prefix, "bias_rho"), &self.p.bias_rho);
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        f(&join(prefix, "weight_mu"), &mut self.p.weight_mu);
        f(&join(prefix, "weight_rho"), &mut self.p.weight_rho);
        f(&join(prefix, "bias_mu"), &mut self.p.bias_mu);
        f(&join(prefix, "bias_rho"), &mut self.p.bias_rho);
    }
    fn visit_masks(&self, prefix: &str, f: &mut dyn FnMut(&str, &Mask)) {
        f(&join(prefix, "weight_mask"), &self.mask)
    }
    fn visit_masks_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Mask)) {
        f(&join(prefix, "weight_mask"), &mut self.mask)
    }
    fn visit_weights(&self, prefix: &str, f: &mut dyn FnMut(&str, &WeightView<'_>)) {
        let std = self.p.weight_sigma(self.cfg.sigma);
        let view = WeightView {
            param: join(prefix, "weight_mu"),
            mean: self.p.weight_mu.data(),
            std: Some(std),
            mask: &self.mask,
        };
        f(prefix, &view)
    }
    fn enforce_masks(&mut self) {
        self.mask.zero_masked(&mut self.p.weight_mu);
    }
    fn sample_mode(&self) -> Option<SampleMode> {
        Some(self.mode)
    }
    fn set_own_sample_mode(&mut self, mode: SampleMode) {
        self.mode = mode;
    }
    fn as_variational(&self) -> Option<&dyn Variational> {
        Some(self)
    }
    fn as_variational_mut(&mut self) -> Option<&mut dyn Variational> {
        Some(self)
    }
}

impl Variational for Downstream {
    fn estimator(&self) -> Estimator {
        self.cfg.estimator
    }
    fn set_estimator(&mut self, e: Estimator) {
        self.cfg.estimator = e;
    }
    fn num_weights(&self) -> usize {
        self.p.num_weights()
    }
    fn kl(&self, rng: &mut dyn RngCore) -> fanaroff::nn::Result<KlTerms> {
        self.kl_terms(None, rng)
    }
}

/// `fc1 -> relu -> fc2`, with the built-in first layer or its downstream
/// twin holding the same tensors.
fn nets(cfg: &VariationalConfig) -> (Sequential, Sequential) {
    let mut rng = StdRng::seed_from_u64(11);
    let fc1 = BayesLinear::new(LinearConfig::new(4, 16), cfg, &mut rng).unwrap();
    let fc2 = BayesLinear::new(LinearConfig::new(16, 2), cfg, &mut rng).unwrap();
    let copy = |l: &BayesLinear| {
        let p = l.params();
        let t = |t: &Tensor| Tensor::new(t.data().clone()).requires_grad(true);
        VariationalParams {
            weight_mu: t(&p.weight_mu),
            weight_rho: t(&p.weight_rho),
            bias_mu: t(&p.bias_mu),
            bias_rho: t(&p.bias_rho),
        }
    };
    let own = Downstream::new(copy(&fc1), cfg);
    let twin = BayesLinear::from_params(copy(&fc2), cfg).unwrap();
    let built_in = Sequential::new()
        .push("fc1", fc1)
        .push("relu", Activation::Relu)
        .push("fc2", fc2);
    let downstream = Sequential::new()
        .push("fc1", own)
        .push("relu", Activation::Relu)
        .push("fc2", twin);
    (built_in, downstream)
}

fn train(net: &mut Sequential) -> Vec<f64> {
    let h = common::fit_elbo(net, &common::blobs(64, 4, 0, 0.7), 6, 1e-2);
    h.records.iter().map(|r| r.get("loss").unwrap()).collect()
}

#[test]
fn a_downstream_layer_trains_and_predicts_as_the_built_in_one() {
    for kl in [KlEstimator::Auto, KlEstimator::MonteCarlo(1)] {
        let cfg = VariationalConfig::default().kl(kl).check().unwrap();
        let (mut a, mut b) = nets(&cfg);
        let (ha, hb) = (train(&mut a), train(&mut b));
        assert_eq!(ha, hb, "ELBO history with {kl:?}");
        assert!(ha.last() < ha.first(), "{ha:?}");
        let x = Tensor::randn(&[10, 4], &mut StdRng::seed_from_u64(3))
            .data()
            .clone();
        let pc = PredictConfig::with_samples(6).batch_size(4);
        let pa = predict_samples(&a, x.view(), &pc).unwrap();
        assert_eq!(
            pa,
            predict_samples(&b, x.view(), &pc).unwrap(),
            "predictive"
        );
        // three draws per pass: the built-in layer stacks their weights into
        // one product, the downstream one runs them one by one
        let pb = predict_samples(&b, x.view(), &pc.draws_per_pass(3)).unwrap();
        let worst = (&pa - &pb).mapv(f32::abs).fold(0.0f32, |m, &v| m.max(v));
        assert!(worst < 1e-6, "grouped draws differ by {worst}");
    }
}

#[test]
fn the_model_wide_walks_reach_a_downstream_layer() {
    let cfg = VariationalConfig::default().check().unwrap();
    let (mut a, mut b) = nets(&cfg);
    assert_eq!(num_weights(&b), num_weights(&a));
    assert_eq!(num_weights(&b), 4 * 16 + 16 + 16 * 2 + 2);
    set_estimator(&mut a, Estimator::LocalReparam);
    set_estimator(&mut b, Estimator::LocalReparam);
    let mut seen = Vec::new();
    variational_layers(&b, &mut |n, l| seen.push((n.to_string(), l.estimator())));
    assert_eq!(
        seen,
        [
            ("fc1".to_string(), Estimator::LocalReparam),
            ("fc2".to_string(), Estimator::LocalReparam)
        ]
    );
    let x = Tensor::randn(&[5, 4], &mut StdRng::seed_from_u64(4));
    let (ya, yb) = (
        a.forward_rng(&x, &mut StdRng::seed_from_u64(5)).unwrap(),
        b.forward_rng(&x, &mut StdRng::seed_from_u64(5)).unwrap(),
    );
    assert_eq!(ya.data(), yb.data(), "local reparameterisation");
    // a frozen sample and the mean
    for mode in [SampleMode::Fixed(3), SampleMode::Mean] {
        a.set_sample_mode(mode);
        b.set_sample_mode(mode);
        let ya = a.forward_rng(&x, &mut StdRng::seed_from_u64(1)).unwrap();
        let yb = b.forward_rng(&x, &mut StdRng::seed_from_u64(2)).unwrap();
        assert_eq!(ya.data(), yb.data(), "{mode:?}");
    }
}

#[test]
fn a_downstream_layer_prunes_by_snr() {
    let cfg = VariationalConfig::default().check().unwrap();
    let (mut a, mut b) = nets(&cfg);
    let ra = prune(&mut a, &mut Snr::ratio(), &PruneConfig::fraction(0.5)).unwrap();
    let rb = prune(&mut b, &mut Snr::ratio(), &PruneConfig::fraction(0.5)).unwrap();
    assert_eq!(rb.layers[0].kept, 32);
    assert_eq!(ra.layers.len(), rb.layers.len());
    assert_eq!(a.named_masks(), b.named_masks());
    b.enforce_masks();
    let (_, mask) = &b.named_masks()[0];
    let (_, mu) = &b.named_parameters()[0];
    assert!(
        ndarray::Zip::from(mask)
            .and(mu.data())
            .all(|&m, &w| m == 1.0 || w == 0.0)
    );
}
