//! The whole idea in one run: a Bayesian CNN that classifies radio galaxies
//! and knows when it is unsure.
//!
//! 1. Synthetic FRI/FRII images (embedded generator, no download), or a
//!    MiraBest release with `--data PATH` (MBFRConfident).
//! 2. The Bayes-by-backprop LeNet of Mohan et al. (2022), trained with the
//!    ELBO by the generic loop, with a progress bar.
//! 3. Test error and calibration (ECE, UCE, NLL) from 20 weight draws.
//! 4. 30 % of the fully connected weights pruned by signal-to-noise ratio,
//!    then the same numbers again.
//! 5. The five test images the model is least sure about.
//! 6. An attention-gated CNN (Bowles et al. 2021) trained briefly, for maps
//!    of where it looks.
//! 7. Figures as PNG and SVG in the output folder named at the end.
//!
//! ```text
//! cargo run --release --example quickstart
//! cargo run --release --example quickstart -- --data ../shared/data/mirabest/MiraBest_full_batches.tar.gz --epochs 30
//! ```

use fanaroff::attention::{Aggregation, AttentionNet, AttentionNetConfig, attention_maps};
use fanaroff::bayes::{Elbo, ElboStep, VariationalConfig, bbb_lenet};
use fanaroff::calibrate::input::Predictions;
use fanaroff::calibrate::{CalibrationReport, ReportConfig, Uncertainty, predictive_mean};
use fanaroff::data::Dataset;
use fanaroff::data::transform::Augment;
use fanaroff::nn::Sequential;
use fanaroff::nn::models::{LeNetConfig, PlainLayers};
use fanaroff::plot::{Color, Figure, History, ImageGrid, LineChart, reliability};
use fanaroff::prune::{PruneConfig, Snr, prune};
use fanaroff::tensor::Tensor;
use fanaroff::train::{
    ArrayLoader, PredictConfig, TrainConfig, Trainer, Validation, predict_samples,
};
use fanaroff_examples::{
    Confident, Flags, SCALING, argv, exit_on_error, init_logging, load_confident,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::path::{Path, PathBuf};
use std::time::Instant;

const HELP: &str =
    "quickstart: a Bayesian CNN on radio galaxies, its calibration, pruning and attention

options [defaults]:
  --data PATH         a MiraBest release (.tar.gz or folder): MBFRConfident [synthetic images]
  --synthetic N       number of synthetic galaxies (12.5 % test, 20 % of the rest validation) [1000]
  --epochs N          BBB LeNet epochs [10]
  --attention-epochs N  attention-gated CNN epochs on 75 x 75 images (0: skip) [8]
  --samples N         weight draws for the test predictions [20]
  --seed N            data split, initialisation and draws [0]
  --threads N         worker threads [all]
  --out DIR           output folder [target/quickstart]
  --no-progress       no progress bars";

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The parsed command line.
struct Args {
    data: Option<PathBuf>,
    synthetic: usize,
    epochs: usize,
    attention_epochs: usize,
    samples: usize,
    seed: u64,
    out: PathBuf,
    progress: bool,
}

fn args() -> Res<Args> {
    let known = [
        "--data",
        "--synthetic",
        "--epochs",
        "--attention-epochs",
        "--samples",
        "--seed",
        "--threads",
        "--out",
    ];
    let f = Flags::parse_with_switches(&argv(), &known, &["--no-progress"], HELP)?;
    if let Some(t) = f.opt::<usize>("--threads")? {
        fanaroff::tensor::set_num_threads(t)?;
    }
    Ok(Args {
        data: f.opt("--data")?,
        synthetic: f.get("--synthetic", 1000)?,
        epochs: f.get("--epochs", 10)?,
        attention_epochs: f.get("--attention-epochs", 8)?,
        samples: f.get("--samples", 20)?,
        seed: f.get("--seed", 0)?,
        out: f.get("--out", PathBuf::from("target/quickstart"))?,
        progress: !f.switch("--no-progress"),
    })
}

fn main() {
    init_logging();
    exit_on_error(run());
}

fn run() -> Res<()> {
    let a = args()?;
    let start = Instant::now();
    std::fs::create_dir_all(&a.out).map_err(|e| format!("--out {}: {e}", a.out.display()))?;
    let mut rng = StdRng::seed_from_u64(a.seed);
    let synthetic = a.data.is_none().then_some(a.synthetic);
    let data = load_confident(a.data.as_deref(), synthetic, a.seed, 0.2, &mut rng)?;
    println!(
        "data: {}: {} training, {} validation, {} test images",
        data.source,
        data.train.len(),
        data.val.len(),
        data.test.len()
    );

    // 1. Train the BBB LeNet: every weight a Gaussian, prior a scale mixture.
    let mut model = bbb_lenet(
        &LeNetConfig::default(),
        &VariationalConfig::default(),
        &mut rng,
    )?;
    let history = train_bbb(&a, &data, &mut model)?;
    println!("trained in {:.0} s", start.elapsed().as_secs_f64());

    // 2. Predict with weight draws and check the calibration.
    let labels = data.test.labels().to_vec();
    let x = data.test.to_f32(SCALING);
    let draws = PredictConfig {
        samples: a.samples,
        seed: a.seed,
        ..PredictConfig::default()
    };
    let report = calibration(&model, &x, &labels, &draws)?;
    print_report("BBB LeNet", &report);

    // 3. Prune 30 % of the fully connected weights with the lowest |mu| / sigma.
    let pruned = prune(&mut model, &mut Snr::ratio(), &PruneConfig::fraction(0.3))?;
    let after = calibration(&model, &x, &labels, &draws)?;
    print_report(
        &format!("pruned {:.0} % by SNR", 100.0 * pruned.sparsity()),
        &after,
    );

    // 4. The images the model is least sure about.
    let order = most_uncertain_first(&report);
    print_uncertain(&report, &labels, &order);

    // 5. Figures.
    let mut written = figures(&a.out, &report, &after, &history, &data.test, &order)?;
    if a.attention_epochs > 0 {
        written.extend(attention_figure(&a, &data)?);
    }
    println!(
        "\nfigures in {} (all done after {:.0} s):",
        a.out.display(),
        start.elapsed().as_secs_f64()
    );
    for p in &written {
        println!("  {}", p.file_name().unwrap_or_default().to_string_lossy());
    }
    Ok(())
}

/// Trains with the ELBO (KL weight T/M, T = 0.01 as in the paper), Adam
/// 1e-3, random rotations of the training images; keeps the epoch with the best validation NLL and
/// writes the history as CSV.
fn train_bbb(a: &Args, data: &Confident, model: &mut Sequential) -> Res<PathBuf> {
    println!(
        "\ntraining the Bayes-by-backprop LeNet for {} epochs",
        a.epochs
    );
    let rotations = Augment::default().with_rotation(180.0);
    let train = ArrayLoader::from_dataset(&data.train, SCALING)?.with_augment(rotations);
    let val = ArrayLoader::from_dataset(&data.val, SCALING)?;
    let cfg = TrainConfig::default()
        .epochs(a.epochs)
        .batch_size(50)
        .adam(1e-3)
        .seed(a.seed)
        .progress(a.progress)
        .log_epochs(false);
    let history = Trainer::new(cfg)?
        .step(ElboStep::new(Elbo::default())?)
        .validation(Validation::new(&val).samples(4)?)
        .fit(model, &train)?;
    let path = a.out.join("history.csv");
    std::fs::write(&path, history.to_csv())?;
    Ok(path)
}

/// Test predictions over weight draws: every calibration metric, and per
/// image the predictive mean and its uncertainty.
struct Eval {
    report: CalibrationReport,
    per_image: Uncertainty,
    mean: ndarray::Array2<f64>,
}

/// Monte Carlo predictions over weight draws and every calibration metric.
fn calibration(
    model: &Sequential,
    x: &ndarray::Array4<f32>,
    labels: &[usize],
    draws: &PredictConfig,
) -> Res<Eval> {
    let samples = predict_samples(model, x.view().into_dyn(), draws)?.mapv(f64::from);
    let per_image = Uncertainty::from_samples(samples.view())?;
    let mean = predictive_mean(samples.view())?;
    let preds = Predictions::Samples(samples);
    let report = CalibrationReport::compute(&preds, labels, &ReportConfig::default())?;
    Ok(Eval {
        report,
        per_image,
        mean,
    })
}

fn print_report(name: &str, e: &Eval) {
    let r = &e.report;
    println!(
        "{name:<22} test error {:5.2} %   ECE {:.4}   UCE {:.4}   NLL {:.4}",
        100.0 * r.error_rate,
        r.ece,
        r.uce,
        r.nll
    );
}

/// Test indices by normalised predictive entropy, highest first.
fn most_uncertain_first(e: &Eval) -> Vec<usize> {
    let h = &e.per_image.normalised_entropy;
    let mut order: Vec<usize> = (0..h.len()).collect();
    order.sort_by(|&i, &j| h[j].total_cmp(&h[i]));
    order
}

const CLASS: [&str; 2] = ["FRI", "FRII"];

fn print_uncertain(e: &Eval, labels: &[usize], order: &[usize]) {
    println!("\nthe five test images the model is least sure about:");
    println!("  image  true  predicted  p(FRII)  entropy/ln2");
    let u = &e.per_image;
    for &i in order.iter().take(5) {
        println!(
            "  {i:>5}  {:<4}  {:<9}  {:>7.3}  {:>11.3}",
            CLASS[labels[i]],
            CLASS[u.predicted_class[i]],
            e.mean[[i, 1]],
            u.normalised_entropy[i]
        );
    }
}

/// Reliability and UCE diagrams, the entropy histogram, training curves
/// and the most / least certain images, each as PNG and SVG.
fn figures(
    out: &Path,
    before: &Eval,
    after: &Eval,
    history: &Path,
    test: &Dataset,
    order: &[usize],
) -> Res<Vec<PathBuf>> {
    let mut w = Vec::new();
    w.extend(reliability(&before.report.reliability).save_both(out.join("reliability"))?);
    w.extend(reliability(&before.report.uncertainty_diagram).save_both(out.join("uce_diagram"))?);
    w.extend(reliability(&after.report.reliability).save_both(out.join("reliability_pruned"))?);
    w.extend(entropy_histogram(before, test.labels()).save_both(out.join("entropy_histogram"))?);
    let h = History::read(history)?;
    let curves = h.chart("BBB LeNet training", &["nll", "val_nll"])?;
    w.extend(
        curves
            .y_label("negative log-likelihood per image")
            .save_both(out.join("training"))?,
    );
    w.extend(certainty_grid(before, test, order)?.save_both(out.join("most_and_least_certain"))?);
    Ok(w)
}

/// Histogram of the normalised predictive entropy for right and wrong
/// predictions: a useful uncertainty puts the wrong ones to the right.
fn entropy_histogram(e: &Eval, labels: &[usize]) -> LineChart {
    const BINS: usize = 10;
    let u = &e.per_image;
    let mut counts = [[0.0f64; BINS]; 2];
    for (i, &h) in u.normalised_entropy.iter().enumerate() {
        let b = ((h * BINS as f64) as usize).min(BINS - 1);
        counts[usize::from(u.predicted_class[i] != labels[i])][b] += 1.0;
    }
    let edge = |b: usize, off: f64| (b as f64 + off) / BINS as f64;
    let left = |off: f64| (0..BINS).map(|b| edge(b, off)).collect::<Vec<_>>();
    LineChart::new("predictive entropy of the test images")
        .x_label("normalised predictive entropy H / ln 2")
        .y_label("images")
        .x_range(0.0, 1.0)
        .bars("right", &left(0.05), &left(0.5), &counts[0], Color::BLUE)
        .bars("wrong", &left(0.5), &left(0.95), &counts[1], Color::RED)
}

/// The eight most uncertain (top row) and eight most certain (bottom row)
/// test images, each captioned with its class, prediction and entropy.
fn certainty_grid(e: &Eval, test: &Dataset, order: &[usize]) -> Res<ImageGrid> {
    let n = order.len().min(8);
    let picks = order[..n]
        .iter()
        .chain(order[order.len() - n..].iter().rev());
    let mut grid =
        ImageGrid::new(n).title("least certain (top) and most certain (bottom) test images");
    let images = test.to_f32(SCALING);
    for &i in picks {
        let img = images.slice(ndarray::s![i, 0, .., ..]);
        let u = &e.per_image;
        let caption = format!(
            "{}>{} H={:.2}",
            CLASS[test.labels()[i]],
            CLASS[u.predicted_class[i]],
            u.normalised_entropy[i]
        );
        grid.push_captioned(img, None, caption)?;
    }
    Ok(grid)
}

/// Halves the image side by averaging 2 x 2 blocks (the attention net
/// trains four times faster on 75 x 75 images).
fn half(x: &ndarray::Array4<f32>) -> ndarray::Array4<f32> {
    let (n, c, h, w) = x.dim();
    ndarray::Array4::from_shape_fn((n, c, h / 2, w / 2), |(i, k, r, q)| {
        let (r, q) = (2 * r, 2 * q);
        (x[[i, k, r, q]] + x[[i, k, r + 1, q]] + x[[i, k, r, q + 1]] + x[[i, k, r + 1, q + 1]])
            / 4.0
    })
}

/// Trains the attention-gated CNN (softmax gates, mean of the gate
/// classifiers) on half-size images and draws its three attention maps
/// over four test images.
fn attention_figure(a: &Args, data: &Confident) -> Res<Vec<PathBuf>> {
    let t0 = Instant::now();
    println!(
        "\ntraining the attention-gated CNN for {} epochs on 75 x 75 images (for its maps)",
        a.attention_epochs
    );
    let mut rng = StdRng::seed_from_u64(a.seed);
    let cfg = AttentionNetConfig {
        aggregation: Aggregation::Mean,
        ..AttentionNetConfig::default()
    };
    let mut net: AttentionNet = cfg.build(&mut PlainLayers::new(&mut rng))?;
    let xt = half(&data.train.to_f32(SCALING)).into_dyn();
    let train = ArrayLoader::new(xt, data.train.labels().to_vec(), 2)?;
    let tcfg = TrainConfig::default()
        .epochs(a.attention_epochs)
        .batch_size(16)
        .adam(1e-3)
        .seed(a.seed)
        .progress(a.progress)
        .log_epochs(false);
    let hist = Trainer::new(tcfg)?.fit(&mut net, &train)?;
    let acc = hist
        .records
        .last()
        .and_then(|r| r.get("acc"))
        .unwrap_or(f64::NAN);
    println!(
        "trained in {:.0} s (training accuracy {:.1} %)",
        t0.elapsed().as_secs_f64(),
        100.0 * acc
    );
    let x = half(&data.test.to_f32(SCALING));
    let n = x.shape()[0].min(4);
    let xs = x.slice(ndarray::s![..n, .., .., ..]).to_owned().into_dyn();
    let maps = attention_maps(&net, &Tensor::from_array(xs.clone()), a.seed)?;
    let mut grid = ImageGrid::new(1 + maps.len())
        .scale(2)
        .title("image, then attention of gates 1-3");
    for i in 0..n {
        let img = xs.slice(ndarray::s![i, 0, .., ..]);
        let label = CLASS[data.test.labels()[i]];
        grid.push_captioned(img, None, label)?;
        for (g, m) in maps.iter().enumerate() {
            let m = m.slice(ndarray::s![i, .., ..]);
            grid.push_captioned(img, Some(m), format!("gate {}", g + 1))?;
        }
    }
    Ok(grid.save_both(a.out.join("attention_maps"))?.to_vec())
}
