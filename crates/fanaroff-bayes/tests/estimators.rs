//! Each estimator's gradient against central finite differences on a tiny
//! conv + linear model with a fixed noise draw (fixed seed inside the
//! function), for both sigma maps and for closed-form and Monte Carlo KL.

use fanaroff_bayes::{
    BayesConv2d, BayesLinear, Elbo, Estimator, KlEstimator, PriorSpec, SigmaTransform,
    VariationalConfig, VariationalParams, forward_kl,
};
use fanaroff_nn::{Conv2dConfig, Flatten, LinearConfig, ModuleExt, Sequential};
use fanaroff_tensor::Tensor;
use fanaroff_tensor::gradcheck::{GradCheck, check_gradients};
use ndarray::ArrayD;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn to_t(e: fanaroff_bayes::Error) -> fanaroff_tensor::Error {
    fanaroff_tensor::Error::InvalidArgument {
        op: "bayes",
        msg: e.to_string(),
    }
}

fn params(t: &[Tensor]) -> VariationalParams {
    VariationalParams {
        weight_mu: t[0].clone(),
        weight_rho: t[1].clone(),
        bias_mu: t[2].clone(),
        bias_rho: t[3].clone(),
    }
}

fn check(estimator: Estimator, sigma: SigmaTransform, prior: PriorSpec, kl: KlEstimator) {
    let cfg = VariationalConfig::default()
        .estimator(estimator)
        .sigma(sigma)
        .prior_spec(prior)
        .kl(kl)
        .rho_init(-2.0, -1.0)
        .mu_init(-0.5, 0.5)
        .check()
        .unwrap();
    let mut rng = StdRng::seed_from_u64(3);
    // conv 1 -> 2 channels, 3x3, pad 1 on 4x4 images; linear 32 -> 3
    let conv = BayesConv2d::new(Conv2dConfig::new(1, 2, 3).padding(1), &cfg, &mut rng).unwrap();
    let fc = BayesLinear::new(LinearConfig::new(32, 3), &cfg, &mut rng).unwrap();
    let mut inputs: Vec<ArrayD<f32>> = Vec::new();
    for p in [conv.params(), fc.params()] {
        for t in [&p.weight_mu, &p.weight_rho, &p.bias_mu, &p.bias_rho] {
            inputs.push(t.data().clone());
        }
    }
    let x = Tensor::randn(&[3, 1, 4, 4], &mut rng);
    let y = [0usize, 2, 1];
    let elbo = Elbo::default().temperature(1.0).check().unwrap();
    let f = |t: &[Tensor]| -> fanaroff_tensor::Result<Tensor> {
        let net = Sequential::new()
            .push(
                "conv",
                BayesConv2d::from_params(params(&t[0..4]), 1, 1, &cfg).map_err(to_t)?,
            )
            .push("flatten", Flatten)
            .push(
                "fc",
                BayesLinear::from_params(params(&t[4..8]), &cfg).map_err(to_t)?,
            );
        // the fixed noise draw
        let mut r = StdRng::seed_from_u64(11);
        let (logits, kl) = forward_kl(&net, &x, &mut r).map_err(to_t)?;
        Ok(elbo.loss(&logits, &y, &kl, 0, 2).map_err(to_t)?.loss)
    };
    let report = check_gradients(
        f,
        &inputs,
        &GradCheck {
            // f32 forward values of ~1e2 (the KL sum): central differences
            // carry ~1e-3 of rounding noise at this step
            eps: 3e-3,
            rtol: 2e-2,
            atol: 4e-3,
            ..GradCheck::default()
        },
    )
    .unwrap();
    assert!(
        report.passed(),
        "{estimator:?} {sigma:?} {prior:?} {kl:?}: {} of {} mismatched, e.g. {:?}",
        report.mismatches.len(),
        report.checked,
        report.mismatches.first()
    );
}

const MIXTURE: PriorSpec = PriorSpec::ScaleMixture {
    pi: 0.5,
    s1: 1.0,
    s2: 0.1,
};
const GAUSS: PriorSpec = PriorSpec::Gaussian { s: 0.5 };

#[test]
fn reparam_gradients() {
    for sigma in [SigmaTransform::Exp, SigmaTransform::Softplus] {
        check(
            Estimator::Reparam,
            sigma,
            MIXTURE,
            KlEstimator::MonteCarlo(1),
        );
        check(Estimator::Reparam, sigma, GAUSS, KlEstimator::Auto);
    }
    check(
        Estimator::Reparam,
        SigmaTransform::Exp,
        PriorSpec::StudentT { nu: 1.0, s: 0.3 },
        KlEstimator::MonteCarlo(3),
    );
    check(
        Estimator::Reparam,
        SigmaTransform::Exp,
        PriorSpec::Laplace { b: 1.0 },
        KlEstimator::Auto,
    );
}

#[test]
fn local_reparam_gradients() {
    for sigma in [SigmaTransform::Exp, SigmaTransform::Softplus] {
        check(
            Estimator::LocalReparam,
            sigma,
            MIXTURE,
            KlEstimator::MonteCarlo(1),
        );
        check(Estimator::LocalReparam, sigma, GAUSS, KlEstimator::Auto);
    }
}

#[test]
fn flipout_gradients() {
    for sigma in [SigmaTransform::Exp, SigmaTransform::Softplus] {
        check(
            Estimator::Flipout,
            sigma,
            MIXTURE,
            KlEstimator::MonteCarlo(1),
        );
        check(Estimator::Flipout, sigma, GAUSS, KlEstimator::Auto);
    }
}

/// The three estimators agree in expectation: mean logits over many draws
/// approach the logits of the mean weights' expected output for a linear layer.
#[test]
fn estimators_agree_in_mean_for_a_linear_layer() {
    let base = VariationalConfig::default()
        .rho_init(-1.5, -1.0)
        .check()
        .unwrap();
    let fc = BayesLinear::new(
        LinearConfig::new(6, 3),
        &base,
        &mut StdRng::seed_from_u64(0),
    )
    .unwrap();
    let x = Tensor::randn(&[4, 6], &mut StdRng::seed_from_u64(1));
    let p = fc.params();
    let exact = fanaroff_nn::linear(&x, &p.weight_mu, Some(&p.bias_mu)).unwrap();
    for e in [
        Estimator::Reparam,
        Estimator::LocalReparam,
        Estimator::Flipout,
    ] {
        let mut layer = fc.clone();
        layer.set_estimator(e);
        let mut rng = StdRng::seed_from_u64(5);
        let n = 4000;
        let mut acc = ndarray::Array2::<f64>::zeros((4, 3));
        let mut acc2 = ndarray::Array2::<f64>::zeros((4, 3));
        for _ in 0..n {
            let y = layer.forward_rng(&x, &mut rng).unwrap();
            let y = y
                .data()
                .view()
                .into_dimensionality::<ndarray::Ix2>()
                .unwrap()
                .mapv(f64::from);
            acc2 += &y.mapv(|v| v * v);
            acc += &y;
        }
        let mean = acc / n as f64;
        let var = acc2 / n as f64 - mean.mapv(|m| m * m);
        for ((m, v), t) in mean.iter().zip(var.iter()).zip(exact.data().iter()) {
            let se = (v / n as f64).sqrt();
            assert!(
                (m - *t as f64).abs() < 5.0 * se + 1e-6,
                "{e:?}: {m} vs {t} (se {se})"
            );
        }
    }
}

/// A pass at the mean gives what the model set to `Mean` gives, records no
/// KL and leaves the model's own modes alone; a sampling pass overrides a
/// layer frozen at `Mean`.
#[test]
fn a_pass_can_set_the_sampling_mode_without_changing_the_model() {
    use fanaroff_nn::{Module, Pass, SampleMode};
    let mut rng = StdRng::seed_from_u64(0);
    let cfg = VariationalConfig::default();
    let fc = fanaroff_bayes::BayesLinear::new(LinearConfig::new(4, 3), &cfg, &mut rng).unwrap();
    let mut frozen = fc.clone();
    frozen.set_sample_mode(SampleMode::Mean);
    let x = Tensor::randn(&[5, 4], &mut rng);
    let mean = frozen.forward_rng(&x, &mut rng).unwrap();
    let mut pass = Pass::new(&mut rng).collecting_kl().at_mean();
    let y = fc.forward(&x, &mut pass).unwrap();
    assert_eq!(y.data(), mean.data());
    assert_eq!(pass.kl().layers(), 0, "no KL at the mean");
    assert_eq!(
        fc.sample_mode(),
        Some(SampleMode::Sample),
        "the model is unchanged"
    );
    let sampled = frozen
        .forward(&x, &mut Pass::new(&mut rng).sampling())
        .unwrap();
    assert_ne!(sampled.data(), mean.data());
}
