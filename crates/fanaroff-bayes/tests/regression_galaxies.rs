//! Heteroscedastic regression on synthetic radio galaxies, whose
//! generating parameters are known: a small Bayes-by-backprop CNN reads
//! the source size (ln of the half-length, 3-10 pixels) from 32 x 32
//! images of FRII galaxies. The targets carry injected noise whose sd
//! rises with the size from 0.05 to 0.35, so the predicted aleatoric part
//! must rise with it; sources larger than any in training (14-16 pixels)
//! must raise the epistemic part.
//!
//! Why FRII, bright and straight: without injected noise a plain CNN of
//! this shape reads an FRII's size to 0.087 but an FRI's only to 0.209
//! (docs/uncertainty.md; an FRI's jets fade, so its extent is not in the
//! image), and at the generator's default SNR (6-300) the faint ends fall
//! below the 3-sigma clip. Both would be aleatoric noise larger than the
//! injected one.

use fanaroff_bayes::{
    BayesLayers, HeteroscedasticStep, RegressionPrediction, VariationalConfig, predict_regression,
};
use fanaroff_data::SyntheticConfig;
use fanaroff_nn::models::LayerFactory;
use fanaroff_nn::{
    Activation, Conv2dConfig, Flatten, LinearConfig, Module, ReluMaxPool2d, Sequential,
};
use fanaroff_train::{ArrayLoader, TrainConfig, Trainer};
use ndarray::{Array4, ArrayD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

const SIDE: usize = 32;
/// The training range of half-lengths in pixels.
const SIZES: (f32, f32) = (3.0, 10.0);

/// The injected noise sd: 0.05 at the smallest training size, rising
/// linearly in ln(size) to 0.35 at the largest.
fn sigma(h: f32) -> f64 {
    let t = f64::from((h.ln() - SIZES.0.ln()) / (SIZES.1.ln() - SIZES.0.ln()));
    0.05 + 0.3 * t.clamp(0.0, 1.0)
}

/// `n` FRII images with half-lengths log-uniform in `[lo, hi]`, their
/// targets ln(half-length / 5.5) plus noise, and each target's noise sd.
fn galaxies(n: usize, lo: f32, hi: f32, seed: u64) -> (ArrayD<f32>, Vec<f64>, Vec<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut x = Array4::<f32>::zeros((n, 1, SIDE, SIDE));
    let (mut y, mut sd) = (Vec::new(), Vec::new());
    for i in 0..n {
        let h = rng.random_range(lo.ln()..hi.ln()).exp();
        let cfg = SyntheticConfig::default()
            .with_image_size(SIDE)
            .with_size_range(h, h)
            .with_snr_range(100.0, 100.0)
            .with_ambiguity(0.0)
            .with_bent_fraction(0.0)
            .with_seed(seed);
        let (img, _) = cfg.generate_one(1, i as u64).unwrap();
        x.slice_mut(ndarray::s![i, 0, .., ..])
            .assign(&img.mapv(|v| f32::from(v) / 255.0));
        let e: f64 = rng.sample(StandardNormal);
        y.push((f64::from(h) / 5.5).ln() + sigma(h) * e);
        sd.push(sigma(h));
    }
    (x.into_dyn(), y, sd)
}

fn cnn() -> Sequential {
    let mut rng = StdRng::seed_from_u64(2);
    let mut f = BayesLayers::new(&VariationalConfig::default(), &mut rng).unwrap();
    let mut conv = |i, o| f.conv2d(Conv2dConfig::new(i, o, 3).padding(1)).unwrap();
    let (c1, c2) = (conv(1, 8), conv(8, 16));
    Sequential::new()
        .push_boxed("conv1", c1)
        .push("pool1", ReluMaxPool2d::new(2, 2).unwrap())
        .push_boxed("conv2", c2)
        .push("pool2", ReluMaxPool2d::new(2, 2).unwrap())
        .push("flatten", Flatten)
        .push_boxed("fc1", f.linear(LinearConfig::new(16 * 8 * 8, 32)).unwrap())
        .push("relu", Activation::Relu)
        .push_boxed("fc2", f.linear(LinearConfig::new(32, 2)).unwrap())
}

/// 2,000 galaxies, 60 epochs, KL weight 0.1 (at 1 the network under-fits
/// and the aleatoric part absorbs the misfit: 0.19 for 0.10 at the small
/// end).
fn trained() -> Box<dyn Module> {
    let n = 2000;
    let (x, y, _) = galaxies(n, SIZES.0, SIZES.1, 1);
    // the loader needs class labels; the step reads the targets by position
    let loader = ArrayLoader::new(x, (0..n).map(|i| i % 2).collect(), 2).unwrap();
    let targets = y.iter().map(|&v| v as f32).collect();
    let step = HeteroscedasticStep::new(targets, 0.1).unwrap();
    let cfg = TrainConfig::default()
        .epochs(60)
        .batch_size(32)
        .adam(1e-3)
        .seed(4)
        .progress(false)
        .log_epochs(false);
    let mut net: Box<dyn Module> = Box::new(cnn());
    Trainer::new(cfg)
        .unwrap()
        .step(step)
        .fit(&mut net, &loader)
        .unwrap();
    net
}

/// Per third of the test images by injected sd: the injected sd, the
/// predicted aleatoric sd, the observed root-mean-square error and the
/// predicted total sd (all means over the third).
fn by_noise_third(p: &RegressionPrediction, y: &[f64], sd: &[f64]) -> Vec<[f64; 4]> {
    let mut idx: Vec<usize> = (0..y.len()).collect();
    idx.sort_by(|&a, &b| sd[a].total_cmp(&sd[b]));
    idx.chunks(y.len().div_ceil(3))
        .map(|part| {
            let mean = |f: &dyn Fn(usize) -> f64| {
                part.iter().map(|&i| f(i)).sum::<f64>() / part.len() as f64
            };
            [
                mean(&|i| sd[i]),
                mean(&|i| p.aleatoric[i].sqrt()),
                mean(&|i| (y[i] - p.mean[i]).powi(2)).sqrt(),
                mean(&|i| p.aleatoric[i] + p.epistemic[i]).sqrt(),
            ]
        })
        .collect()
}

#[test]
fn a_bayesian_cnn_splits_the_uncertainty_of_a_galaxy_size() {
    let net = trained();
    let (x, y, sd) = galaxies(600, SIZES.0, SIZES.1, 2);
    let p = predict_regression(&*net, x.view(), 30, 100, 5).unwrap();
    let thirds = by_noise_third(&p, &y, &sd);
    for [injected, aleatoric, rmse, total] in &thirds {
        println!(
            "injected sd {injected:.3}: aleatoric sd {aleatoric:.3}, error {rmse:.3}, predicted total sd {total:.3}"
        );
        assert!(
            (aleatoric - injected).abs() < 0.045,
            "aleatoric {aleatoric} for injected {injected}"
        );
        assert!(
            (total / rmse - 1.0).abs() < 0.2,
            "predicted sd {total} against error {rmse}"
        );
    }
    assert!(thirds[2][1] > 1.8 * thirds[0][1], "{thirds:?}");
    let (c68, c95) = (p.coverage(&y, 1.0).unwrap(), p.coverage(&y, 1.96).unwrap());
    println!("coverage of the 68 % / 95 % intervals: {c68:.3} / {c95:.3}");
    assert!(
        (0.58..0.78).contains(&c68) && (0.87..0.99).contains(&c95),
        "{c68} {c95}"
    );

    let (far, _, _) = galaxies(100, 14.0, 16.0, 3);
    let far = predict_regression(&*net, far.view(), 30, 100, 5).unwrap();
    let (inside, beyond) = (p.epistemic.mean().unwrap(), far.epistemic.mean().unwrap());
    println!("epistemic variance {inside:.2e} inside the size range, {beyond:.2e} at 14-16 px");
    assert!(beyond > 2.0 * inside, "{beyond} vs {inside}");
}
