//! `BayesLinear` against PyTorch: logits, NLL, KL with the scale-mixture
//! prior, loss and the gradients of the four variational tensors, for a fixed
//! noise draw (`fixtures/bbb_linear_{exp,softplus}.safetensors`).

use fanaroff_bayes::{
    BayesLinear, Elbo, KlEstimator, SigmaTransform, VariationalConfig, VariationalParams,
    WeightNoise,
};
use fanaroff_nn::TensorFile;
use fanaroff_tensor::Tensor;
use ndarray::ArrayD;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::path::PathBuf;

/// A PyTorch reference file in the workspace's `fixtures/` folder
/// (`fixtures/README.md` describes each one).
fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

/// max |a - b| / (atol + rtol |b|) <= 1 elementwise.
fn assert_close(name: &str, a: &ArrayD<f32>, b: &ArrayD<f32>, rtol: f32, atol: f32) {
    assert_eq!(a.shape(), b.shape(), "{name}: shapes");
    let mut worst = 0.0f32;
    for (x, y) in a.iter().zip(b.iter()) {
        worst = worst.max((x - y).abs() / (atol + rtol * y.abs()));
    }
    assert!(
        worst <= 1.0,
        "{name}: worst error ratio {worst}\n ours {a}\n want {b}"
    );
}

fn scalar(f: &TensorFile, name: &str) -> f32 {
    *f.f32(name).unwrap().iter().next().unwrap()
}

fn check(file: &str, sigma: SigmaTransform) {
    let f = TensorFile::read(fixture(file)).unwrap();
    // The fixture's prior is the paper's GMM (the default), its KL a
    // single-sample MC estimate at the given draw.
    let cfg = VariationalConfig::default()
        .sigma(sigma)
        .kl(KlEstimator::MonteCarlo(1));
    let params = VariationalParams {
        weight_mu: Tensor::new(f.f32("weight_mu").unwrap()).requires_grad(true),
        weight_rho: Tensor::new(f.f32("weight_rho").unwrap()).requires_grad(true),
        bias_mu: Tensor::new(f.f32("bias_mu").unwrap()).requires_grad(true),
        bias_rho: Tensor::new(f.f32("bias_rho").unwrap()).requires_grad(true),
    };
    let layer = BayesLinear::from_params(params, &cfg).unwrap();
    let noise = WeightNoise {
        weight_eps: f.f32("weight_eps").unwrap(),
        bias_eps: f.f32("bias_eps").unwrap(),
    };
    let x = Tensor::new(f.f32("input").unwrap());
    let target: Vec<usize> = f
        .i64("target")
        .unwrap()
        .iter()
        .map(|&t| t as usize)
        .collect();
    let (logits, kl) = layer
        .forward_with_noise(&x, &noise, &mut StdRng::seed_from_u64(0))
        .unwrap();
    assert_close(
        "logits",
        logits.data(),
        &f.f32("logits").unwrap(),
        1e-4,
        1e-6,
    );

    // loss = nll + kl_weight * kl; kl_weight = 0.01 / 12 = T / M with T = 0.01, M = 12
    let kw = scalar(&f, "kl_weight") as f64;
    assert!((kw - 0.01 / 12.0).abs() < 1e-9);
    let out = Elbo::default()
        .temperature(0.01)
        .check()
        .unwrap()
        .loss(&logits, &target, &kl, 0, 12)
        .unwrap();
    let rel = |a: f64, b: f32| (a - b as f64).abs() / (b as f64).abs().max(1e-6);
    assert!(
        rel(out.nll, scalar(&f, "nll")) < 1e-4,
        "nll {} vs {}",
        out.nll,
        scalar(&f, "nll")
    );
    assert!(
        rel(out.kl, scalar(&f, "kl")) < 1e-4,
        "kl {} vs {}",
        out.kl,
        scalar(&f, "kl")
    );
    let loss = out.loss.item().unwrap() as f64;
    assert!(
        rel(loss, scalar(&f, "loss")) < 1e-4,
        "loss {loss} vs {}",
        scalar(&f, "loss")
    );

    let grads = out.loss.backward().unwrap();
    let p = layer.params();
    for (name, t) in [
        ("weight_mu", &p.weight_mu),
        ("weight_rho", &p.weight_rho),
        ("bias_mu", &p.bias_mu),
        ("bias_rho", &p.bias_rho),
    ] {
        let want = f.f32(&format!("grad.{name}")).unwrap();
        let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert_close(
            name,
            grads.get(t).unwrap(),
            &want,
            1e-4,
            1e-6 * scale.max(1e-3),
        );
    }
}

#[test]
fn bbb_linear_exp_matches_pytorch() {
    check("bbb_linear_exp.safetensors", SigmaTransform::Exp);
}

#[test]
fn bbb_linear_softplus_matches_pytorch() {
    check("bbb_linear_softplus.safetensors", SigmaTransform::Softplus);
}
