//! Helpers shared by the runnable examples, benches and workspace tests of
//! fanaroff. Library users want the [`fanaroff`] crate instead.
#![deny(missing_docs)]

pub use fanaroff;

use fanaroff::data::{Dataset, Scaling, Standardize, SyntheticConfig};
use fanaroff::nn::models::{LeNetConfig, lenet};
use fanaroff::nn::{AdamConfig, Module, Optimizer, Reduction, Sequential, cross_entropy};
use fanaroff::tensor::{Tensor, no_grad};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::str::FromStr;
use std::time::Instant;

/// Settings of [`train_lenet_synthetic`].
#[derive(Debug, Clone)]
pub struct LeNetRun {
    /// Training images (half FRI, half FRII).
    pub train: usize,
    /// Test images, generated with a different seed.
    pub test: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f32,
    /// Seed of data, initialisation and shuffling.
    pub seed: u64,
    /// Print one line per epoch.
    pub verbose: bool,
}

impl Default for LeNetRun {
    fn default() -> Self {
        LeNetRun {
            train: 1000,
            test: 500,
            epochs: 5,
            batch: 50,
            lr: 1e-3,
            seed: 0,
            verbose: true,
        }
    }
}

/// Outcome of [`train_lenet_synthetic`].
#[derive(Debug)]
pub struct LeNetReport {
    /// Test accuracy after each epoch.
    pub test_accuracy: Vec<f64>,
    /// Mean training loss of each epoch.
    pub train_loss: Vec<f64>,
    /// Wall time of the training epochs, in seconds (data generation excluded).
    pub train_seconds: f64,
    /// The trained model.
    pub model: Sequential,
}

/// The synthetic task of the examples: clearly resolved FRI/FRII sources
/// (peak SNR 30-300, half-extent 12-45 px, class-overlap 0.25). Harder
/// settings (the generator's defaults among them) are in
/// [`SyntheticConfig`]'s documentation.
pub fn easy_synthetic(seed: u64) -> SyntheticConfig {
    SyntheticConfig::default()
        .with_seed(seed)
        .with_snr_range(30.0, 300.0)
        .with_size_range(12.0, 45.0)
}

/// Images as a standardised `[N, 1, H, W]` tensor (MiraBest mean/std).
pub fn to_tensor(ds: &Dataset) -> Tensor {
    Tensor::from_array(ds.to_f32(Scaling::Standardize(Standardize::MIRABEST)))
}

/// Fraction of `x`'s images that `model` classifies as `labels` says, in
/// batches of `batch`, without recording a graph.
///
/// # Errors
/// Shape errors from the model.
pub fn accuracy(
    model: &dyn Module,
    x: &Tensor,
    labels: &[usize],
    batch: usize,
) -> fanaroff::nn::Result<f64> {
    let _guard = fanaroff::tensor::NoGradGuard::new();
    let mut rng = StdRng::seed_from_u64(0);
    let n = x.shape()[0];
    let mut correct = 0;
    for start in (0..n).step_by(batch) {
        let end = (start + batch).min(n);
        let logits = model.forward(&x.slice(0, start, end)?, &mut rng)?;
        for (i, row) in logits.data().outer_iter().enumerate() {
            let pred = if row[1] > row[0] { 1 } else { 0 };
            correct += usize::from(pred == labels[start + i]);
        }
    }
    Ok(correct as f64 / n as f64)
}

/// Trains the deterministic LeNet (METHODS.md section 1, ordinary layers) on
/// synthetic FRI/FRII images with Adam and cross-entropy, and reports test
/// accuracy per epoch.
///
/// # Errors
/// Errors from data generation, the model or the optimiser.
pub fn train_lenet_synthetic(
    run: &LeNetRun,
) -> Result<LeNetReport, Box<dyn std::error::Error + Send + Sync>> {
    let train = easy_synthetic(run.seed).generate(run.train)?;
    let test = easy_synthetic(run.seed.wrapping_add(1_000_003)).generate(run.test)?;
    let (xtr, xte) = (to_tensor(&train), to_tensor(&test));
    let mut rng = StdRng::seed_from_u64(run.seed);
    let mut model = lenet(&LeNetConfig::default(), &mut rng)?;
    let mut opt = AdamConfig::with_lr(run.lr).build()?;
    let mut report = LeNetReport {
        test_accuracy: Vec::new(),
        train_loss: Vec::new(),
        train_seconds: 0.0,
        model: Sequential::new(),
    };
    let n = run.train;
    for epoch in 0..run.epochs {
        let t0 = Instant::now();
        let mut order: Vec<usize> = (0..n).collect();
        rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut rng);
        let mut loss_sum = 0.0;
        for chunk in order.chunks(run.batch) {
            let idx: Vec<usize> = chunk.to_vec();
            let xb = Tensor::from_array(xtr.data().select(ndarray::Axis(0), &idx));
            let yb: Vec<usize> = idx.iter().map(|&i| train.labels()[i]).collect();
            let loss = cross_entropy(&model.forward(&xb, &mut rng)?, &yb, Reduction::Mean)?;
            loss_sum += loss.item()? as f64 * idx.len() as f64;
            let grads = loss.backward()?;
            opt.step(&mut model, &grads)?;
        }
        report.train_seconds += t0.elapsed().as_secs_f64();
        let acc = no_grad(|| accuracy(&model, &xte, test.labels(), 100))?;
        report.train_loss.push(loss_sum / n as f64);
        report.test_accuracy.push(acc);
        if run.verbose {
            println!(
                "epoch {:>2}/{}  train loss {:.4}  test accuracy {:.1} %  ({:.1} s training so far)",
                epoch + 1,
                run.epochs,
                loss_sum / n as f64,
                100.0 * acc,
                report.train_seconds
            );
        }
    }
    report.model = model;
    Ok(report)
}

/// The value after `name` on the command line (`--epochs 5`), parsed, or
/// `default` when the flag is absent. Exits with a message when the value is
/// missing or does not parse.
pub fn flag<T: FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        None => default,
        Some(i) => match args.get(i + 1).and_then(|v| v.parse().ok()) {
            Some(v) => v,
            None => {
                eprintln!(
                    "{name} needs a value of the right type (got {:?})",
                    args.get(i + 1)
                );
                std::process::exit(2);
            }
        },
    }
}

/// Median of a non-empty list of timings (NaN for an empty one).
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
