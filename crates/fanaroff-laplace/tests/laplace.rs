//! Last-layer Laplace on its own terms: the GGN is the Hessian of the
//! summed loss (finite differences) for both heads, the empirical Fisher is
//! the sum of squared per-example gradients, the Monte Carlo predictive
//! approaches the Gaussian integral, the attention net with batch norm
//! fits, and bad input is a clear error.

use fanaroff_attention::{Aggregation, AttentionNetConfig};
use fanaroff_laplace::{
    Head, HessianKind, LaplaceConfig, LastLayerLaplace, LinearHead, PriorSelection, Structure,
    fit_model, penultimate_features, select_prior_precision,
};
use fanaroff_nn::models::PlainLayers;
use fanaroff_nn::{Activation, Linear, LinearConfig, ModuleExt, Sequential};
use ndarray::{Array1, Array2, ArrayD, IxDyn, array};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn features() -> Array2<f64> {
    Array2::from_shape_fn((12, 3), |(i, j)| ((i * 3 + j) as f64 * 0.71).sin() * 1.5)
}

fn labels() -> Vec<usize> {
    (0..12).map(|i| (i * 7 % 5) % 2).collect()
}

fn head_from(theta: &[f64], m: usize, d: usize) -> LinearHead {
    LinearHead {
        weight: Array2::from_shape_vec((m, d), theta[..m * d].to_vec()).unwrap(),
        bias: Some(Array1::from(theta[m * d..].to_vec())),
    }
}

fn loss(theta: &[f64], m: usize, head: Head) -> f64 {
    let phi = features();
    let f = head_from(theta, m, 3).logits(phi.view());
    labels()
        .iter()
        .enumerate()
        .map(|(i, &y)| head.nll(&f.row(i).to_vec(), y))
        .sum()
}

fn fd_hessian(theta: &[f64], m: usize, head: Head) -> Array2<f64> {
    let (p, h) = (theta.len(), 1e-4);
    let at = |i: usize, si: f64, j: usize, sj: f64| {
        let mut t = theta.to_vec();
        t[i] += si * h;
        t[j] += sj * h;
        loss(&t, m, head)
    };
    Array2::from_shape_fn((p, p), |(i, j)| {
        (at(i, 1.0, j, 1.0) - at(i, 1.0, j, -1.0) - at(i, -1.0, j, 1.0) + at(i, -1.0, j, -1.0))
            / (4.0 * h * h)
    })
}

fn fd_gradients(theta: &[f64], m: usize, head: Head) -> Array2<f64> {
    // one row per example: the gradient of that example's loss
    let phi = features();
    let y = labels();
    let h = 1e-6;
    Array2::from_shape_fn((12, theta.len()), |(n, i)| {
        let one = |s: f64| {
            let mut t = theta.to_vec();
            t[i] += s * h;
            let f = head_from(&t, m, 3).logits(phi.view());
            head.nll(&f.row(n).to_vec(), y[n])
        };
        (one(1.0) - one(-1.0)) / (2.0 * h)
    })
}

fn fit(
    theta: &[f64],
    m: usize,
    head: Head,
    hessian: HessianKind,
    structure: Structure,
) -> LastLayerLaplace {
    let cfg = LaplaceConfig {
        hessian,
        structure,
        head,
        prior_precision: 1.0,
    };
    LastLayerLaplace::fit(features().view(), &labels(), head_from(theta, m, 3), cfg).unwrap()
}

const SOFTMAX: [f64; 8] = [0.3, -0.2, 0.5, -0.4, 0.1, 0.2, 0.05, -0.1];
const SIGMOID: [f64; 4] = [0.7, -0.4, 0.2, 0.1];

#[test]
fn ggn_is_the_finite_difference_hessian_for_both_heads() {
    for (theta, m, head) in [
        (&SOFTMAX[..], 2, Head::Softmax),
        (&SIGMOID[..], 1, Head::Sigmoid),
    ] {
        let la = fit(theta, m, head, HessianKind::Ggn, Structure::Full);
        let fd = fd_hessian(theta, m, head);
        let err = (la.hessian() - &fd)
            .iter()
            .fold(0.0f64, |a, v| a.max(v.abs()));
        assert!(err < 1e-5, "{head:?}: max |GGN - FD| = {err}");
        assert!((la.loss() - loss(theta, m, head)).abs() < 1e-12);
        // the diagonal structure keeps exactly the diagonal
        let diag = fit(theta, m, head, HessianKind::Ggn, Structure::Diag);
        let d = (&diag.hessian().diag() - &la.hessian().diag()).mapv(f64::abs);
        assert!(d.iter().all(|v| *v < 1e-12), "{d}");
    }
}

#[test]
fn empirical_fisher_is_the_sum_of_squared_example_gradients() {
    for (theta, m, head) in [
        (&SOFTMAX[..], 2, Head::Softmax),
        (&SIGMOID[..], 1, Head::Sigmoid),
    ] {
        let la = fit(
            theta,
            m,
            head,
            HessianKind::EmpiricalFisher,
            Structure::Full,
        );
        let g = fd_gradients(theta, m, head);
        let err = (la.hessian() - &g.t().dot(&g))
            .iter()
            .fold(0.0f64, |a, v| a.max(v.abs()));
        assert!(err < 1e-7, "{head:?}: max |EF - sum g g^T| = {err}");
    }
}

#[test]
fn kron_weight_block_is_the_product_of_its_factors() {
    // With one output the Kronecker weight block is B * mean(phi phi^T):
    // B = sum p(1 - p), so it is the GGN with every p(1 - p) replaced by
    // their mean.
    let la = fit(
        &SIGMOID,
        1,
        Head::Sigmoid,
        HessianKind::Ggn,
        Structure::Kron,
    );
    let full = fit(
        &SIGMOID,
        1,
        Head::Sigmoid,
        HessianKind::Ggn,
        Structure::Full,
    );
    let b = full.hessian()[[3, 3]]; // the bias entry: sum p (1 - p)
    let phi = features();
    let a = phi.t().dot(&phi) / 12.0;
    for i in 0..3 {
        for j in 0..3 {
            assert!((la.hessian()[[i, j]] - b * a[[i, j]]).abs() < 1e-12);
        }
        assert_eq!(la.hessian()[[i, 3]], 0.0, "no weight-bias terms");
    }
}

#[test]
fn monte_carlo_predictive_approaches_the_gaussian_integral() {
    let la = fit(
        &SIGMOID,
        1,
        Head::Sigmoid,
        HessianKind::Ggn,
        Structure::Full,
    );
    let phi = features();
    let (mean, var) = la.logit_moments(phi.view()).unwrap();
    let s = la
        .sample_probabilities(phi.view(), 20_000, &mut StdRng::seed_from_u64(3))
        .unwrap();
    let again = la
        .sample_probabilities(phi.view(), 20_000, &mut StdRng::seed_from_u64(3))
        .unwrap();
    assert_eq!(s, again, "seeded draws repeat");
    for i in 0..4 {
        // E[sigmoid(f)], f ~ N(mu, v), by the trapezoid rule over +-8 sd
        let (mu, sd) = (mean[[i, 0]], var[[i, 0, 0]].sqrt());
        let steps = 4000;
        let exact: f64 = (0..=steps)
            .map(|k| {
                let z = -8.0 + 16.0 * k as f64 / steps as f64;
                let w = if k == 0 || k == steps { 0.5 } else { 1.0 };
                w * (-z * z / 2.0).exp()
                    / (2.0 * std::f64::consts::PI).sqrt()
                    / (1.0 + (-(mu + sd * z)).exp())
            })
            .sum::<f64>()
            * 16.0
            / steps as f64;
        let mc = s.slice(ndarray::s![.., i, 1]).mean().unwrap();
        assert!(
            (mc - exact).abs() < 0.01,
            "example {i}: MC {mc}, integral {exact}"
        );
        let probit = la.predict_probit(phi.view()).unwrap()[[i, 1]];
        assert!(
            (probit - exact).abs() < 0.02,
            "example {i}: probit {probit}, integral {exact}"
        );
    }
}

#[test]
fn prior_selection_by_evidence_is_a_maximum() {
    let mut la = fit(
        &SOFTMAX,
        2,
        Head::Softmax,
        HessianKind::Ggn,
        Structure::Full,
    );
    let delta = select_prior_precision(&mut la, PriorSelection::MarginalLikelihood, None).unwrap();
    assert_eq!(la.prior_precision(), delta);
    let at = |d: f64| la.log_marginal_likelihood(d).unwrap();
    assert!(at(delta) >= at(delta * 1.01) && at(delta) >= at(delta / 1.01));
    let err = select_prior_precision(&mut la, PriorSelection::ValidationNll, None).unwrap_err();
    assert!(err.to_string().contains("validation"), "{err}");
}

fn tiny_attention(aggregation: Aggregation) -> fanaroff_attention::AttentionNet {
    let cfg = AttentionNetConfig {
        blocks: vec![vec![2], vec![3], vec![4]],
        inter_channels: 5,
        aggregation,
        ..AttentionNetConfig::default()
    };
    cfg.build(&mut PlainLayers::new(&mut StdRng::seed_from_u64(1)))
        .unwrap()
}

fn images(n: usize) -> ArrayD<f32> {
    ArrayD::from_shape_fn(IxDyn(&[n, 1, 16, 16]), |i| {
        ((i[0] * 31 + i[2] * 7 + i[3]) as f32 * 0.13).sin().abs()
    })
}

#[test]
fn the_attention_net_with_batch_norm_fits_in_eval_mode_only() {
    let mut net = tiny_attention(Aggregation::Concat);
    let y: Vec<usize> = (0..10).map(|i| i % 2).collect();
    let x = images(10);
    let err = fit_model(&net, x.view(), &y, LaplaceConfig::default(), 4).unwrap_err();
    assert!(err.to_string().contains("eval"), "{err}");
    net.eval();
    let la = fit_model(&net, x.view(), &y, LaplaceConfig::default(), 4).unwrap();
    // concat of the gates' pooled features: 2 + 3 channels, two classes
    assert_eq!(la.n_params(), 2 * 5 + 2);
    let phi = penultimate_features(&net, x.view(), 3).unwrap();
    assert_eq!(phi.dim(), (10, 5));
    let p = la.predict_probit(phi.view()).unwrap();
    assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-12));
    let mut mean_net = tiny_attention(Aggregation::Mean);
    mean_net.eval();
    let err = fit_model(&mean_net, x.view(), &y, LaplaceConfig::default(), 4).unwrap_err();
    assert!(err.to_string().contains("concat"), "{err}");
}

#[test]
fn bad_input_is_a_clear_error() {
    let mut rng = StdRng::seed_from_u64(0);
    let mut no_linear_end = Sequential::new()
        .push(
            "fc",
            Linear::new(LinearConfig::new(3, 2), &mut rng).unwrap(),
        )
        .push("act", Activation::Relu);
    no_linear_end.eval();
    let x = ArrayD::from_elem(IxDyn(&[4, 3]), 0.5f32);
    let err = fit_model(
        &no_linear_end,
        x.view(),
        &[0, 1, 0, 1],
        LaplaceConfig::default(),
        2,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("not a deterministic linear layer"),
        "{err}"
    );

    let head = head_from(&SOFTMAX, 2, 3);
    let cfg = LaplaceConfig::default();
    let mut nan = features();
    nan[[2, 1]] = f64::NAN;
    let e = LastLayerLaplace::fit(nan.view(), &labels(), head.clone(), cfg).unwrap_err();
    assert!(e.to_string().contains("row 2, column 1"), "{e}");
    let e = LastLayerLaplace::fit(features().view(), &[0; 11], head.clone(), cfg).unwrap_err();
    assert!(e.to_string().contains("11 labels for 12"), "{e}");
    let mut bad = labels();
    bad[0] = 2;
    let e = LastLayerLaplace::fit(features().view(), &bad, head.clone(), cfg).unwrap_err();
    assert!(e.to_string().contains("2 classes"), "{e}");
    let zero = LaplaceConfig {
        prior_precision: 0.0,
        ..cfg
    };
    assert!(LastLayerLaplace::fit(features().view(), &labels(), head.clone(), zero).is_err());
    let sigmoid = LaplaceConfig {
        head: Head::Sigmoid,
        ..cfg
    };
    let e = LastLayerLaplace::fit(features().view(), &labels(), head.clone(), sigmoid).unwrap_err();
    assert!(e.to_string().contains("2 outputs"), "{e}");
    let empty = Array2::<f64>::zeros((0, 3));
    assert!(LastLayerLaplace::fit(empty.view(), &[], head.clone(), cfg).is_err());
    let la = LastLayerLaplace::fit(features().view(), &labels(), head, cfg).unwrap();
    assert!(
        la.predict_probit(array![[1.0, 2.0]].view()).is_err(),
        "two columns for three inputs"
    );
    assert!(
        la.sample_probabilities(features().view(), 0, &mut rng)
            .is_err()
    );
}
