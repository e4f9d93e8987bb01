//! Heteroscedastic regression with plain, MC-dropout and Bayes-by-backprop
//! layers on a 1-D problem whose noise is known: y = x + sigma(x) e with
//! sigma growing from 0.1 to 0.4 over the training range [-2, 2]. The
//! predicted aleatoric spread follows sigma, the epistemic variance grows
//! outside the training range, and the 68 % and 95 % intervals cover about
//! that share of new points.

use fanaroff_bayes::{
    BayesLinear, HeteroscedasticStep, RegressionPrediction, VariationalConfig, predict_regression,
};
use fanaroff_nn::{Activation, Dropout, Linear, LinearConfig, Module, Sequential};
use fanaroff_train::{ArrayLoader, TrainConfig, Trainer};
use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

fn sigma(x: f64) -> f64 {
    0.1 + 0.3 * (x + 2.0) / 4.0
}

/// `n` points with x uniform in [lo, hi] and their noisy targets.
fn data(n: usize, lo: f64, hi: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let x: Vec<f64> = (0..n).map(|_| rng.random_range(lo..hi)).collect();
    let y = x
        .iter()
        .map(|&v| v + sigma(v) * rng.sample::<f64, _>(StandardNormal))
        .collect();
    (x, y)
}

fn inputs(x: &[f64]) -> ArrayD<f32> {
    ArrayD::from_shape_fn(IxDyn(&[x.len(), 1]), |i| x[i[0]] as f32)
}

#[derive(Clone, Copy, Debug)]
enum Layers {
    Plain,
    Dropout,
    Bayes,
}

fn mlp(kind: Layers) -> Box<dyn Module> {
    let mut rng = StdRng::seed_from_u64(1);
    let mut layer = |i: usize, o: usize| -> Box<dyn Module> {
        match kind {
            Layers::Bayes => Box::new(
                BayesLinear::new(
                    LinearConfig::new(i, o),
                    &VariationalConfig::default(),
                    &mut rng,
                )
                .unwrap(),
            ),
            _ => Box::new(Linear::new(LinearConfig::new(i, o), &mut rng).unwrap()),
        }
    };
    let mut net = Sequential::new()
        .push_boxed("fc1", layer(1, 48))
        .push("a1", Activation::Relu);
    if let Layers::Dropout = kind {
        net = net.push("d1", Dropout::new(0.1).unwrap().monte_carlo(true));
    }
    net = net
        .push_boxed("fc2", layer(48, 48))
        .push("a2", Activation::Relu);
    if let Layers::Dropout = kind {
        net = net.push("d2", Dropout::new(0.1).unwrap().monte_carlo(true));
    }
    Box::new(net.push_boxed("fc3", layer(48, 2)))
}

fn train(kind: Layers) -> Box<dyn Module> {
    let (x, y) = data(400, -2.0, 2.0, 7);
    let loader = ArrayLoader::new(inputs(&x), vec![0; x.len()], 2).unwrap();
    // the workspace's BBB recipe: a cold posterior (KL weight 0.01)
    let t = if let Layers::Bayes = kind { 0.01 } else { 1.0 };
    let step = HeteroscedasticStep::new(y.iter().map(|&v| v as f32).collect(), t).unwrap();
    let epochs = if let Layers::Bayes = kind { 400 } else { 200 };
    let cfg = TrainConfig::default()
        .epochs(epochs)
        .batch_size(50)
        .adam(0.01)
        .seed(3)
        .progress(false)
        .log_epochs(false);
    let mut net = mlp(kind);
    Trainer::new(cfg)
        .unwrap()
        .step(step)
        .fit(&mut net, &loader)
        .unwrap();
    net
}

fn predict(net: &dyn Module, x: &[f64]) -> RegressionPrediction {
    predict_regression(net, inputs(x).view(), 50, 100, 11).unwrap()
}

/// Trains `kind` and checks the split: the mean relative error of the
/// aleatoric sd over the training range is below `max_rel`, the spread
/// grows with x, the 68 % / 95 % coverages are within `tol` of nominal (or,
/// with `conservative`, at least nominal minus 0.03), and the epistemic
/// variance outside the range is more than 5 times that inside.
fn check(kind: Layers, max_rel: f64, tol: f64, conservative: bool) {
    let grid: Vec<f64> = (0..9).map(|i| -1.8 + 0.45 * i as f64).collect();
    let (xt, yt) = data(1000, -2.0, 2.0, 99);
    let far: Vec<f64> = (0..6).map(|i| 4.0 + 0.2 * i as f64).collect();
    let net = train(kind);
    let p = predict(&*net, &grid);
    let sd: Vec<f64> = p.aleatoric.iter().map(|v| v.sqrt()).collect();
    let rel: f64 = grid
        .iter()
        .zip(&sd)
        .map(|(x, s)| (s / sigma(*x) - 1.0).abs())
        .sum::<f64>()
        / grid.len() as f64;
    println!("{kind:?}: aleatoric sd {sd:.3?}, mean relative error {rel:.3}");
    assert!(
        rel < max_rel,
        "{kind:?}: mean relative error of the aleatoric sd {rel:.3}"
    );
    assert!(
        sd[8] > 1.8 * sd[0],
        "{kind:?}: the spread grows with x: {sd:.3?}"
    );
    let test = predict(&*net, &xt);
    let (c68, c95) = (
        test.coverage(&yt, 1.0).unwrap(),
        test.coverage(&yt, 1.96).unwrap(),
    );
    println!("{kind:?}: coverage 68 % -> {c68:.3}, 95 % -> {c95:.3}");
    if conservative {
        assert!(
            c68 > 0.683 - 0.03 && c95 > 0.95 - 0.03,
            "{kind:?}: {c68} {c95}"
        );
    } else {
        assert!(
            (c68 - 0.683).abs() < tol && (c95 - 0.95).abs() < tol,
            "{kind:?}: {c68} {c95}"
        );
    }
    let inside = p.epistemic.mean().unwrap();
    let outside = predict(&*net, &far).epistemic.mean().unwrap();
    println!("{kind:?}: epistemic variance inside {inside:.2e}, outside {outside:.2e}");
    match kind {
        Layers::Plain => assert_eq!(outside, 0.0, "one network, no epistemic part"),
        _ => assert!(outside > 5.0 * inside, "{kind:?}: {outside} vs {inside}"),
    }
}

#[test]
fn plain_layers_learn_the_noise_and_cover_their_intervals() {
    check(Layers::Plain, 0.15, 0.04, false);
}

/// MC dropout's training noise adds to what the variance head learns, so
/// its aleatoric part overstates the noise at the quiet end and its
/// intervals cover more than nominal.
#[test]
fn mc_dropout_splits_its_variance_conservatively() {
    check(Layers::Dropout, 0.5, 0.0, true);
}

#[test]
fn bayes_by_backprop_splits_aleatoric_and_epistemic() {
    check(Layers::Bayes, 0.1, 0.06, false);
}

#[test]
fn bad_input_is_a_clear_error() {
    assert!(HeteroscedasticStep::new(vec![], 1.0).is_err());
    assert!(HeteroscedasticStep::new(vec![1.0, f32::NAN], 1.0).is_err());
    assert!(HeteroscedasticStep::new(vec![1.0], -1.0).is_err());
    let net = mlp(Layers::Plain);
    let x = inputs(&[0.0, 1.0]);
    assert!(predict_regression(&*net, x.view(), 0, 10, 0).is_err());
    let three = Sequential::new().push(
        "fc",
        Linear::new(LinearConfig::new(1, 3), &mut StdRng::seed_from_u64(0)).unwrap(),
    );
    let e = predict_regression(&three, x.view(), 2, 10, 0).unwrap_err();
    assert!(e.to_string().contains("[N, 2]"), "{e}");
    let p = predict(&*net, &[0.0, 1.0]);
    assert!(p.coverage(&[0.0], 1.0).is_err());
}
