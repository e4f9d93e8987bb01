//! Each criterion's ranking on a hand-made layer, and the Fisher estimates
//! against hand-computed values.

use approx::assert_abs_diff_eq;
use fanaroff_bayes::{BayesLinear, VariationalConfig};
use fanaroff_nn::{Linear, LinearConfig, Module, ModuleExt, Sequential};
use fanaroff_prune::{Criterion, Fisher, FisherPass, Magnitude, PruneConfig, Random, Snr, prune};
use fanaroff_train::ArrayLoader;
use ndarray::{ArrayD, IxDyn, array};
use rand::SeedableRng;
use rand::rngs::StdRng;

const MU: [f32; 6] = [0.1, -2.0, 0.5, 1.0, 0.05, -0.3];
const SIGMA: [f32; 6] = [0.1, 1.0, 1.0, 0.1, 0.01, 0.2];
// |mu| / sigma = [1, 2, 0.5, 10, 5, 1.5]

/// A variational layer "fc" with the weights above (sigma = exp(rho)).
fn hand_layer() -> Sequential {
    let mut rng = StdRng::seed_from_u64(0);
    let mut fc = BayesLinear::new(
        LinearConfig::new(3, 2),
        &VariationalConfig::default(),
        &mut rng,
    )
    .unwrap();
    let p = fc.params_mut();
    p.weight_mu
        .data_mut()
        .unwrap()
        .assign(&ArrayD::from_shape_vec(IxDyn(&[2, 3]), MU.to_vec()).unwrap());
    let rho: Vec<f32> = SIGMA.iter().map(|s| s.ln()).collect();
    p.weight_rho
        .data_mut()
        .unwrap()
        .assign(&ArrayD::from_shape_vec(IxDyn(&[2, 3]), rho).unwrap());
    Sequential::new().push("fc", fc)
}

fn mask_of(m: &Sequential) -> Vec<f32> {
    m.named_masks()[0].1.iter().copied().collect()
}

fn scores_of(c: &mut dyn Criterion, m: &Sequential) -> Vec<f32> {
    let mut out = Vec::new();
    m.visit_weights("", &mut |layer, w| {
        out = c.scores(layer, w).unwrap().iter().copied().collect()
    });
    out
}

#[test]
fn snr_scores_and_ranking() {
    let m = hand_layer();
    let s = scores_of(&mut Snr::ratio(), &m);
    for (got, want) in s.iter().zip([1.0, 2.0, 0.5, 10.0, 5.0, 1.5]) {
        assert_abs_diff_eq!(*got, want, epsilon = 1e-5);
    }
    let db = scores_of(&mut Snr::db(), &m);
    assert_abs_diff_eq!(db[3], 10.0, epsilon = 1e-4); // 10 log10(10)
    assert_abs_diff_eq!(db[0], 0.0, epsilon = 1e-4);
    // lowest three SNR: indices 2 (0.5), 0 (1), 5 (1.5)
    let mut m = hand_layer();
    prune(&mut m, &mut Snr::ratio(), &PruneConfig::fraction(0.5)).unwrap();
    assert_eq!(mask_of(&m), [0., 1., 0., 1., 1., 0.]);
    let mut m = hand_layer();
    prune(&mut m, &mut Snr::db(), &PruneConfig::fraction(0.5)).unwrap();
    assert_eq!(
        mask_of(&m),
        [0., 1., 0., 1., 1., 0.],
        "dB ranks like the ratio"
    );
}

#[test]
fn snr_threshold_in_db() {
    let mut m = hand_layer();
    // below 3 dB (ratio 2): ratios 1, 0.5, 1.5 and 2 is 3.01 dB: kept
    prune(&mut m, &mut Snr::db(), &PruneConfig::threshold(3.0)).unwrap();
    assert_eq!(mask_of(&m), [0., 1., 0., 1., 1., 0.]);
}

#[test]
fn magnitude_ranking() {
    let mut m = hand_layer();
    // |mu| = [0.1, 2, 0.5, 1, 0.05, 0.3]: lowest three are 4, 0, 5
    prune(&mut m, &mut Magnitude, &PruneConfig::fraction(0.5)).unwrap();
    assert_eq!(mask_of(&m), [0., 1., 1., 1., 0., 0.]);
}

#[test]
fn fisher_from_adam_state_ranking() {
    let v = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![3.0, 1.0, 4.0, 1.5, 9.0, 2.6]).unwrap();
    let state = vec![
        (
            "adam.m.fc.weight_mu".to_string(),
            ArrayD::zeros(IxDyn(&[2, 3])),
        ),
        ("adam.v.fc.weight_mu".to_string(), v),
    ];
    let mut f = Fisher::from_optimizer_state(&state);
    assert_eq!(f.name(), "fisher-adam");
    let mut m = hand_layer();
    prune(&mut m, &mut f, &PruneConfig::fraction(0.5)).unwrap();
    assert_eq!(mask_of(&m), [1., 0., 1., 0., 1., 0.]);
}

#[test]
fn fisher_saliency_weighs_by_the_squared_mean() {
    // F = [3, 1, 4, 1.5, 9, 2.6], mu^2 = [.01, 4, .25, 1, .0025, .09]
    // F mu^2 / 2 = [.015, 2, .5, .75, .01125, .117]: lowest three 4, 0, 5
    let v = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![3.0, 1.0, 4.0, 1.5, 9.0, 2.6]).unwrap();
    let state = vec![("adam.v.fc.weight_mu".to_string(), v)];
    let mut f = Fisher::from_optimizer_state(&state).saliency();
    assert_eq!(f.name(), "fisher-adam-obd");
    let m = hand_layer();
    let s = scores_of(&mut f, &m);
    for (got, want) in s.iter().zip([0.015, 2.0, 0.5, 0.75, 0.01125, 0.117]) {
        assert_abs_diff_eq!(*got, want, epsilon = 1e-5);
    }
    let mut m = hand_layer();
    prune(&mut m, &mut f, &PruneConfig::fraction(0.5)).unwrap();
    assert_eq!(mask_of(&m), [0., 1., 1., 1., 0., 0.]);
}

#[test]
fn random_is_seeded() {
    let m = hand_layer();
    let a = scores_of(&mut Random::new(7), &m);
    let b = scores_of(&mut Random::new(7), &m);
    let c = scores_of(&mut Random::new(8), &m);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.iter().all(|v| (0.0..1.0).contains(v)));
    let mut m1 = hand_layer();
    let mut m2 = hand_layer();
    prune(&mut m1, &mut Random::new(3), &PruneConfig::fraction(0.5)).unwrap();
    prune(&mut m2, &mut Random::new(3), &PruneConfig::fraction(0.5)).unwrap();
    assert_eq!(mask_of(&m1), mask_of(&m2));
    assert_eq!(mask_of(&m1).iter().filter(|&&k| k == 0.0).count(), 3);
}

/// Linear 2 -> 2 with zero weights and bias: softmax 0.5 / 0.5, so the
/// cross-entropy gradient of W for (x, y) is (p - e_y) x^T.
fn zero_linear() -> Sequential {
    let mut rng = StdRng::seed_from_u64(0);
    let mut fc = Linear::new(LinearConfig::new(2, 2), &mut rng).unwrap();
    fc.weight.data_mut().unwrap().fill(0.0);
    fc.bias.as_mut().unwrap().data_mut().unwrap().fill(0.0);
    Sequential::new().push("fc", fc)
}

fn two_examples() -> ArrayLoader<f32> {
    let x = array![[1.0f32, 2.0], [3.0, -1.0]].into_dyn();
    ArrayLoader::new(x, vec![0, 1], 2).unwrap()
}

#[test]
fn fisher_from_gradients_matches_hand_values() {
    let m = zero_linear();
    // per example: g1^2 = [[.25, 1], [.25, 1]], g2^2 = [[2.25, .25], [2.25, .25]]
    let f = Fisher::from_gradients(&m, &two_examples(), &FisherPass::default()).unwrap();
    let got = f.get("fc.weight").unwrap();
    assert_eq!(f.params().collect::<Vec<_>>(), ["fc.weight"]);
    for (g, w) in got.iter().zip([1.25, 0.625, 1.25, 0.625]) {
        assert_abs_diff_eq!(*g, w, epsilon = 1e-6);
    }
    // one batch of two: (g1 + g2)^2 / 2 = [[1, 2.25], [1, 2.25]] / 2
    let pass = FisherPass {
        batch_size: 2,
        ..FisherPass::default()
    };
    let f2 = Fisher::from_gradients(&m, &two_examples(), &pass).unwrap();
    for (g, w) in f2
        .get("fc.weight")
        .unwrap()
        .iter()
        .zip([0.5, 1.125, 0.5, 1.125])
    {
        assert_abs_diff_eq!(*g, w, epsilon = 1e-6);
    }
}

#[test]
fn fisher_from_gradients_is_deterministic_for_bayesian_layers() {
    let m = hand_layer();
    let x = ArrayD::from_shape_fn(IxDyn(&[20, 3]), |i| {
        (i[0] as f32 * 0.37 + i[1] as f32).sin()
    });
    let y = (0..20).map(|i| i % 2).collect();
    let loader = ArrayLoader::new(x, y, 2).unwrap();
    let pass = FisherPass {
        draws: 3,
        seed: 5,
        ..FisherPass::default()
    };
    let a = Fisher::from_gradients(&m, &loader, &pass).unwrap();
    let b = Fisher::from_gradients(&m, &loader, &pass).unwrap();
    let c = Fisher::from_gradients(&m, &loader, &FisherPass { seed: 6, ..pass }).unwrap();
    let fa = a.get("fc.weight_mu").unwrap();
    assert_eq!(fa, b.get("fc.weight_mu").unwrap());
    assert_ne!(
        fa,
        c.get("fc.weight_mu").unwrap(),
        "the seed draws the weights"
    );
    assert!(fa.iter().all(|v| v.is_finite() && *v > 0.0));
    let bad = FisherPass {
        batch_size: 0,
        ..pass
    };
    assert!(Fisher::from_gradients(&m, &loader, &bad).is_err());
}
