//! Last-layer Laplace against laplace-torch: `fixtures/laplace/laplace_torch.json`
//! (made by `fixtures/laplace/make_laplace_fixture.py`). A small MLP
//! (4 -> 8 -> K, K = 2 and 3) with fixed weights; for GGN and empirical
//! Fisher x full, Kronecker and diagonal, the Hessian, the posterior
//! precision, the summed loss, the log marginal likelihood at three prior
//! precisions, the logits' predictive mean and covariance, the probit
//! predictive and the grid-searched prior precision, within 1e-4; the
//! prior precision of largest evidence within 0.1 % (laplace-torch finds it by
//! Adam on ln delta).

use fanaroff_laplace::{
    HessianKind, LaplaceConfig, LastLayerLaplace, Structure, fit_model, grid_search_nll, log_grid,
    maximise_marginal_likelihood, penultimate_features,
};
use fanaroff_nn::{Activation, Linear, ModuleExt, Sequential};
use fanaroff_tensor::Tensor;
use ndarray::{Array2, ArrayD, IxDyn};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/laplace/laplace_torch.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn flat(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| flat(x, out)),
        x => out.push(x.as_f64().unwrap()),
    }
}

fn shape(v: &Value) -> Vec<usize> {
    match v {
        Value::Array(a) => {
            let mut s = vec![a.len()];
            s.extend(shape(&a[0]));
            s
        }
        _ => vec![],
    }
}

fn array(v: &Value) -> ArrayD<f64> {
    let mut d = Vec::new();
    flat(v, &mut d);
    ArrayD::from_shape_vec(IxDyn(&shape(v)), d).unwrap()
}

fn tensor(v: &Value) -> Tensor {
    Tensor::from_array(array(v).mapv(|x| x as f32))
}

fn model(case: &Value) -> Sequential {
    let p = &case["params"];
    let fc1 = Linear::from_tensors(tensor(&p["fc1.weight"]), Some(tensor(&p["fc1.bias"]))).unwrap();
    let fc2 = Linear::from_tensors(tensor(&p["fc2.weight"]), Some(tensor(&p["fc2.bias"]))).unwrap();
    let mut m = Sequential::new()
        .push("fc1", fc1)
        .push("act", Activation::Relu)
        .push("fc2", fc2);
    m.eval();
    m
}

fn assert_close(what: &str, ours: &ArrayD<f64>, theirs: &ArrayD<f64>) {
    assert_eq!(ours.shape(), theirs.shape(), "{what}: shape");
    for (i, (a, b)) in ours.iter().zip(theirs.iter()).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * b.abs().max(1.0),
            "{what}[{i}]: ours {a}, laplace-torch {b}"
        );
    }
}

fn check_variant(case: &Value, name: &str, hessian: HessianKind, structure: Structure) {
    let reference = &case[name];
    let n = case["n_train"].as_u64().unwrap() as usize;
    let x = array(&case["x"]).mapv(|v| v as f32);
    let y: Vec<usize> = case["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let net = model(case);
    let train = x.slice(ndarray::s![0..n, ..]).into_dyn();
    let held = x.slice(ndarray::s![n.., ..]).into_dyn();
    let cfg = LaplaceConfig {
        hessian,
        structure,
        ..LaplaceConfig::default()
    };
    let mut la: LastLayerLaplace = fit_model(&net, train, &y[..n], cfg, 7).unwrap();
    let what = |s: &str| format!("K={} {name} {s}", case["classes"]);
    assert_close(
        &what("hessian"),
        &la.hessian().clone().into_dyn(),
        &array(&reference["hessian"]),
    );
    assert_close(
        &what("posterior precision"),
        &la.posterior_precision().into_dyn(),
        &array(&reference["posterior_precision"]),
    );
    let loss = reference["loss"].as_f64().unwrap();
    assert!(
        (la.loss() - loss).abs() < 1e-4,
        "{}: {} vs {loss}",
        what("loss"),
        la.loss()
    );
    for (delta, v) in reference["log_marglik"].as_object().unwrap() {
        let (ours, theirs) = (
            la.log_marginal_likelihood(delta.parse().unwrap()).unwrap(),
            v.as_f64().unwrap(),
        );
        assert!(
            (ours - theirs).abs() <= 1e-4 * theirs.abs().max(1.0),
            "{} at {delta}: {ours} vs {theirs}",
            what("log marglik")
        );
    }
    let phi = penultimate_features(&net, held.view(), 4).unwrap();
    let (mean, var) = la.logit_moments(phi.view()).unwrap();
    assert_close(&what("f_mu"), &mean.into_dyn(), &array(&reference["f_mu"]));
    assert_close(&what("f_var"), &var.into_dyn(), &array(&reference["f_var"]));
    let probit: Array2<f64> = la.predict_probit(phi.view()).unwrap();
    assert_close(
        &what("probit"),
        &probit.into_dyn(),
        &array(&reference["probit"]),
    );
    let best = maximise_marginal_likelihood(&la, 1e-4, 1e4).unwrap();
    let theirs = reference["marglik_prior_precision"].as_f64().unwrap();
    assert!(
        (best / theirs - 1.0).abs() < 1e-3,
        "{}: {best} vs {theirs}",
        what("marglik optimum")
    );
    let picked = grid_search_nll(&mut la, phi.view(), &y[n..], &log_grid(-4.0, 2.0, 100)).unwrap();
    let theirs = reference["gridsearch_prior_precision"].as_f64().unwrap();
    assert!(
        (picked - theirs).abs() <= 1e-9 * theirs,
        "{}: {picked} vs {theirs}",
        what("grid search")
    );
}

#[test]
fn equals_laplace_torch_for_every_hessian_and_structure() {
    let f = fixture();
    for case in f["cases"].as_array().unwrap() {
        for (name, h, s) in [
            ("ggn_full", HessianKind::Ggn, Structure::Full),
            ("ggn_kron", HessianKind::Ggn, Structure::Kron),
            ("ggn_diag", HessianKind::Ggn, Structure::Diag),
            ("ef_full", HessianKind::EmpiricalFisher, Structure::Full),
            ("ef_kron", HessianKind::EmpiricalFisher, Structure::Kron),
            ("ef_diag", HessianKind::EmpiricalFisher, Structure::Diag),
        ] {
            check_variant(case, name, h, s);
        }
    }
}
