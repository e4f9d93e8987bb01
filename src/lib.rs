//! Helpers shared by the runnable examples, benches and workspace tests of
//! fanaroff. Library users want the [`fanaroff`] crate instead.
#![deny(missing_docs)]

pub use fanaroff;

pub mod alloc_count;
pub mod attention_bench;
mod confident;
mod data_flags;
mod flags;
mod run_maps;
pub mod scaling;
mod study_front;
pub mod timing;
pub use confident::{Confident, DEFAULT_DATA, bowles_augment, load_confident};
pub use data_flags::data_source;
pub use flags::Flags;
pub use run_maps::{FinishedRun, attention_maps_figure, saliency_figure, spread_figure};
pub use study_front::{DataArgs, run_grid, series, summary_rows};

use fanaroff::data::{Dataset, Scaling, Standardize, SyntheticConfig};
use fanaroff::nn::Sequential;
use fanaroff::nn::models::{LeNetConfig, lenet};
use fanaroff::tensor::Tensor;
use fanaroff::train::{ArrayLoader, Monitor, TrainConfig, Trainer, Validation};
use rand::SeedableRng;
use rand::rngs::StdRng;

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
    /// Wall time of the epochs in seconds (training and the per-epoch test
    /// evaluation; data generation excluded).
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

/// The standardisation every example uses (MiraBest mean / std).
pub const SCALING: Scaling = Scaling::Standardize(Standardize::MIRABEST);

/// Images as a standardised `[N, 1, H, W]` tensor (MiraBest mean/std).
pub fn to_tensor(ds: &Dataset) -> Tensor {
    Tensor::from_array(ds.to_f32(SCALING))
}

/// Trains the deterministic LeNet (METHODS.md section 1, ordinary layers) on
/// synthetic FRI/FRII images with the generic loop (Adam, cross-entropy,
/// constant rate) and watches the test accuracy after every epoch (never
/// used to select a model).
///
/// # Errors
/// Errors from data generation, the model or the loop.
pub fn train_lenet_synthetic(
    run: &LeNetRun,
) -> Result<LeNetReport, Box<dyn std::error::Error + Send + Sync>> {
    let train = easy_synthetic(run.seed).generate(run.train)?;
    let test = easy_synthetic(run.seed.wrapping_add(1_000_003)).generate(run.test)?;
    let train = ArrayLoader::from_dataset(&train, SCALING)?;
    let test = ArrayLoader::from_dataset(&test, SCALING)?;
    let mut model = lenet(
        &LeNetConfig::default(),
        &mut StdRng::seed_from_u64(run.seed),
    )?;
    let cfg = TrainConfig::default()
        .epochs(run.epochs)
        .batch_size(run.batch)
        .seed(run.seed)
        .adam(run.lr)
        .schedule(None)
        .restore_best(false)
        .monitor(Some(Monitor::min("loss")))
        .progress(run.verbose)
        .log_epochs(run.verbose);
    let history = Trainer::new(cfg)?
        .validation(Validation::new(&test).with_prefix("test"))
        .fit(&mut model, &train)?;
    let series = |n: &str| {
        history
            .series(n)
            .into_iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect()
    };
    Ok(LeNetReport {
        test_accuracy: series("test_acc"),
        train_loss: series("loss"),
        train_seconds: history.records.iter().map(|r| r.seconds).sum(),
        model,
    })
}

/// Sends `log` records at `info` level and above to stderr (the epoch lines
/// of the training loop); `FANAROFF_LOG=debug|warn|off` changes the level.
/// Calling it twice is harmless.
pub fn init_logging() {
    fanaroff::cli::init_stderr_log();
}

/// Runs an example's `main` body: an error is printed as `error: ...` and
/// the process exits with status 1.
pub fn exit_on_error(r: Result<(), Box<dyn std::error::Error>>) {
    if let Err(e) = r {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// The command-line arguments without the program name.
pub fn argv() -> Vec<String> {
    std::env::args().skip(1).collect()
}

/// Median of a non-empty list of timings (NaN for an empty one).
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// `"m ± s"` (sample standard deviation) to three decimals for a table
/// cell, or just `"m"` for a single value.
///
/// ```
/// assert_eq!(fanaroff_examples::mean_std_cell(&[1.0, 3.0]), "2.000 ± 1.414");
/// assert_eq!(fanaroff_examples::mean_std_cell(&[0.5]), "0.500");
/// ```
pub fn mean_std_cell(v: &[f64]) -> String {
    format!("{:.3}", fanaroff_core::MeanStd::of(v))
}

/// The Rust snippets of `docs/guide.md`, compiled as doc tests (and run,
/// except the ones that train, write files or need MiraBest), so the guide
/// cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../docs/guide.md")]
pub struct GuideSnippets;

// The workspace README's example, compiled and run by `cargo test --doc`
// (the `fanaroff` crate's docs are its own README, inside its package).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct RootReadme;
