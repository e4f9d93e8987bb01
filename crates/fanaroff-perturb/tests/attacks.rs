//! Attacks on tiny models: budgets, balls, success rules, EOT.

use fanaroff_nn::{Flatten, Linear, LinearConfig, Sequential};
use fanaroff_perturb::attack::{Bounds, Fgsm, Goal, Norm, OnePixel, Pgd, perturbation_size};
use fanaroff_perturb::{
    Classifier, GradientClassifier, ModuleClassifier, Result, expected_gradient,
};
use ndarray::{Array2, Array4, ArrayView4, ArrayViewD};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn linear_model() -> Sequential {
    let mut rng = StdRng::seed_from_u64(3);
    Sequential::new().push("flat", Flatten).push(
        "fc",
        Linear::new(LinearConfig::new(4, 2), &mut rng).unwrap(),
    )
}

fn inputs() -> Array4<f32> {
    Array4::from_shape_fn((3, 1, 2, 2), |(n, _, i, j)| {
        0.3 * n as f32 - 0.2 * i as f32 + 0.1 * j as f32
    })
}

fn cross_entropy(m: &dyn Classifier, x: &Array4<f32>, labels: &[usize]) -> f64 {
    let p = m.probabilities(x.view().into_dyn(), 0).unwrap();
    labels
        .iter()
        .enumerate()
        .map(|(i, &y)| -f64::from(p[[i, y]]).ln())
        .sum::<f64>()
        / labels.len() as f64
}

#[test]
fn module_gradient_matches_finite_differences() {
    let net = linear_model();
    let m = ModuleClassifier::new(&net, false);
    let (x, y) = (inputs(), [0, 1, 0]);
    let (loss, g) = m.loss_gradient(x.view(), &y, 0).unwrap();
    assert!((loss - cross_entropy(&m, &x, &y)).abs() < 1e-5);
    for idx in [(0, 0, 0, 0), (1, 0, 1, 0), (2, 0, 1, 1)] {
        let (mut a, mut b) = (x.clone(), x.clone());
        a[idx] += 1e-2;
        b[idx] -= 1e-2;
        let num = (cross_entropy(&m, &a, &y) - cross_entropy(&m, &b, &y)) / 2e-2;
        assert!(
            (num - f64::from(g[idx])).abs() < 1e-3,
            "{idx:?}: {num} vs {}",
            g[idx]
        );
    }
    assert!(m.loss_gradient(x.view(), &[0, 1], 0).is_err());
}

#[test]
fn fgsm_moves_every_pixel_by_epsilon_along_the_gradient_sign() {
    let net = linear_model();
    let m = ModuleClassifier::new(&net, false);
    let (x, y) = (inputs(), [0, 1, 0]);
    let bounds = Bounds::new(-10.0, 10.0).unwrap();
    let adv = Fgsm::new(0.05, bounds)
        .unwrap()
        .attack(&m, x.view(), &y, 0)
        .unwrap();
    let (_, g) = m.loss_gradient(x.view(), &y, 0).unwrap();
    for ((a, c), gv) in adv.iter().zip(x.iter()).zip(g.iter()) {
        assert!(((a - c) - 0.05 * gv.signum()).abs() < 1e-6);
    }
    assert!(cross_entropy(&m, &adv, &y) > cross_entropy(&m, &x, &y));
    // clipping into the bounds wins over the budget
    let tight = Bounds::new(-0.01, 0.01).unwrap();
    let adv = Fgsm::new(5.0, tight)
        .unwrap()
        .attack(&m, x.view(), &y, 0)
        .unwrap();
    assert!(adv.iter().all(|v| v.abs() <= 0.01));
    assert!(Fgsm::new(-0.1, bounds).is_err());
    assert!(Fgsm::new(f32::NAN, bounds).is_err());
}

#[test]
fn pgd_stays_in_its_ball_and_beats_fgsm() {
    let net = linear_model();
    let m = ModuleClassifier::new(&net, false);
    let (x, y) = (inputs(), [0, 1, 0]);
    let bounds = Bounds::new(-10.0, 10.0).unwrap();
    for norm in [Norm::LInf, Norm::L2] {
        let eps = 0.3;
        let pgd = Pgd::new(norm, eps, bounds)
            .unwrap()
            .steps(20, 0.05)
            .unwrap();
        let adv = pgd.attack(&m, x.view(), &y, 4).unwrap();
        for (linf, l2) in perturbation_size(adv.view(), x.view()) {
            let size = if norm == Norm::LInf { linf } else { l2 };
            assert!(size <= eps + 1e-5, "{norm:?}: {size}");
            assert!(
                size > 0.5 * eps,
                "{norm:?}: the attack barely moved ({size})"
            );
        }
        assert!(cross_entropy(&m, &adv, &y) > cross_entropy(&m, &x, &y));
        assert_eq!(adv, pgd.attack(&m, x.view(), &y, 4).unwrap(), "seeded");
    }
    let fgsm = Fgsm::new(0.3, bounds)
        .unwrap()
        .attack(&m, x.view(), &y, 0)
        .unwrap();
    let pgd = Pgd::new(Norm::LInf, 0.3, bounds)
        .unwrap()
        .steps(20, 0.05)
        .unwrap()
        .random_start(false);
    let adv = pgd.attack(&m, x.view(), &y, 0).unwrap();
    assert!(cross_entropy(&m, &adv, &y) >= cross_entropy(&m, &fgsm, &y) - 1e-6);
    assert!(Pgd::new(Norm::L2, -1.0, bounds).is_err());
    assert!(
        Pgd::new(Norm::L2, 1.0, bounds)
            .unwrap()
            .steps(0, 0.1)
            .is_err()
    );
}

/// A stochastic "model" whose gradient is the draw's seed everywhere.
struct SeedGradient;

impl Classifier for SeedGradient {
    fn probabilities(
        &self,
        x: ArrayViewD<'_, f32>,
        _seed: u64,
    ) -> fanaroff_train::Result<Array2<f32>> {
        Ok(Array2::from_elem((x.shape()[0], 2), 0.5))
    }
    fn stochastic(&self) -> bool {
        true
    }
}

impl GradientClassifier for SeedGradient {
    fn loss_gradient(
        &self,
        x: ArrayView4<'_, f32>,
        _l: &[usize],
        seed: u64,
    ) -> Result<(f64, Array4<f32>)> {
        Ok((seed as f64, Array4::from_elem(x.raw_dim(), seed as f32)))
    }
}

#[test]
fn eot_averages_the_gradient_over_draws() {
    let x = inputs();
    // draws use seeds 10, 11, 12, 13: mean 11.5
    let (loss, g) = expected_gradient(&SeedGradient, x.view(), &[0, 0, 0], 4, 10).unwrap();
    assert_eq!(loss, 11.5);
    assert!(g.iter().all(|&v| v == 11.5));
    assert!(expected_gradient(&SeedGradient, x.view(), &[0, 0, 0], 0, 10).is_err());
    // a deterministic model is asked once
    let net = linear_model();
    let m = ModuleClassifier::new(&net, false);
    let one = expected_gradient(&m, x.view(), &[0, 1, 0], 1, 0).unwrap().1;
    assert_eq!(
        expected_gradient(&m, x.view(), &[0, 1, 0], 8, 0).unwrap().1,
        one
    );
}

/// Class 0's probability falls as pixel (2, 3) brightens: 1 - v / 255 * 0.99.
struct OneHotPixel;

impl Classifier for OneHotPixel {
    fn probabilities(
        &self,
        x: ArrayViewD<'_, f32>,
        _seed: u64,
    ) -> fanaroff_train::Result<Array2<f32>> {
        Ok(Array2::from_shape_fn((x.shape()[0], 2), |(n, k)| {
            let p1 = 0.99 * x[[n, 0, 2, 3]] / 255.0;
            if k == 1 { p1 } else { 1.0 - p1 }
        }))
    }
}

impl GradientClassifier for OneHotPixel {
    fn loss_gradient(
        &self,
        x: ArrayView4<'_, f32>,
        _l: &[usize],
        _s: u64,
    ) -> Result<(f64, Array4<f32>)> {
        Ok((0.0, Array4::zeros(x.raw_dim())))
    }
}

#[test]
fn one_pixel_attack_finds_the_pixel_and_obeys_its_rules_and_budget() {
    let img = ndarray::Array3::<f32>::zeros((1, 6, 6));
    let bounds = Bounds::new(0.0, 255.0).unwrap();
    let de = OnePixel::new(Goal::PAPER_UNTARGETED, bounds)
        .search(40, 30, 0.5, 1)
        .unwrap();
    let r = de.attack(&OneHotPixel, img.view(), 0, 1).unwrap();
    assert!(r.success, "{r:?}");
    assert_eq!((r.pixels[0].0, r.pixels[0].1), (2, 3));
    assert!(r.probabilities[0] < 0.05);
    assert!(r.evaluations <= 40 * (30 + 1));
    // targeted: class 1 above 0.5 is easier (value > 128.8)
    let t = OnePixel::new(
        Goal::Targeted {
            class: 1,
            threshold: 0.5,
        },
        bounds,
    )
    .search(40, 30, 0.5, 1)
    .unwrap();
    let r = t.attack(&OneHotPixel, img.view(), 0, 1).unwrap();
    assert!(r.success && r.probabilities[1] > 0.5);
    // an impossible goal runs the whole budget and fails
    let hard = OnePixel::new(Goal::Untargeted { threshold: 0.001 }, bounds)
        .search(8, 5, 0.5, 1)
        .unwrap();
    let r = hard.attack(&OneHotPixel, img.view(), 0, 1).unwrap();
    assert!(!r.success);
    assert_eq!((r.iterations, r.evaluations), (5, 8 * 6));
    assert!(
        OnePixel::new(Goal::LabelFlip, bounds)
            .search(3, 10, 0.5, 1)
            .is_err()
    );
    assert!(de.attack(&OneHotPixel, img.view(), 5, 0).is_err());
}
