//! Bayesian attention: the attention-gated CNN of Bowles et al. 2021 with
//! variational gates and classifier (plain backbone), trained by the ELBO,
//! so each attention map has a per-pixel mean and standard deviation over
//! weight draws. Reports how uncertain the maps are for correctly and
//! wrongly classified MBFRConfident test sources and for MBFRUncertain
//! sources, beside the classifier's own uncertainty (predictive entropy and
//! mutual information), and draws a figure of mean and spread maps.
//!
//! ```text
//! cargo run --release --example 11_attention_bayes -- --epochs 100 --threads 2 --docs docs/attention
//! ```
//!
//! The run folder (`--out`) keeps a checkpoint per epoch, so a killed run
//! resumes. `--data PATH` must be a readable MiraBest release.

use fanaroff::attention::{AttentionNet, AttentionNetConfig, Parts, attention_map_stats};
use fanaroff::bayes::{BayesLayers, Elbo, ElboStep, VariationalConfig};
use fanaroff::calibrate::{entropy, mutual_information, predictive_mean as cal_mean};
use fanaroff::cli::{DataSpec, ScalingSpec};
use fanaroff::nn::models::PlainLayers;
use fanaroff::nn::{ModuleExt, save_model};
use fanaroff::plot::{Figure, ImageGrid};
use fanaroff::tensor::Tensor;
use fanaroff::train::{
    ArrayLoader, PredictConfig, TrainConfig, Trainer, Validation, predict_samples, predictive_mean,
};
use fanaroff_examples::{Flags, argv, bowles_augment, data_source, exit_on_error, init_logging};
use ndarray::{Array2, Array3, ArrayD, Axis, Ix2, s};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const HELP: &str = "11_attention_bayes: attention-gated CNN with variational gates and classifier

options (defaults in brackets):
  --data PATH        MiraBest full release; must exist [../shared/data/mirabest/MiraBest_full_batches.tar.gz, else synthetic]
  --synthetic N      N synthetic galaxies instead [off]
  --seed N           [0]
  --epochs N         [100]
  --batch N          [16]
  --lr LR            Adam learning rate [5e-5]
  --temperature T    posterior temperature of the ELBO [0.01]
  --draws N          weight draws for predictions and map statistics [20]
  --threads N        rayon threads [all]
  --pool-mib N       memory the buffer pool may hold (see attention_gating) [3072]
  --out DIR          run folder [target/attention_bayes]
  --docs DIR         where attention_bayes.md and the figure go [--out]";

const FLAGS: [&str; 12] = [
    "--data",
    "--synthetic",
    "--seed",
    "--epochs",
    "--batch",
    "--lr",
    "--temperature",
    "--draws",
    "--threads",
    "--pool-mib",
    "--out",
    "--docs",
];

/// The paper's network with variational gates (theta, phi, psi with biases)
/// and classifier; the backbone stays deterministic.
fn build(seed: u64) -> Res<AttentionNet> {
    let cfg = AttentionNetConfig {
        gate_bias: true,
        ..AttentionNetConfig::default()
    };
    let (mut r1, mut r2, mut r3) = (
        StdRng::seed_from_u64(seed),
        StdRng::seed_from_u64(seed + 1),
        StdRng::seed_from_u64(seed + 2),
    );
    let vcfg = VariationalConfig::default();
    Ok(cfg.build_parts(Parts {
        backbone: &mut PlainLayers::new(&mut r1),
        gates: &mut BayesLayers::new(&vcfg, &mut r2)?,
        head: &mut BayesLayers::new(&vcfg, &mut r3)?,
    })?)
}

fn data_spec(f: &Flags) -> Res<DataSpec> {
    let mut d = DataSpec {
        scaling: ScalingSpec::Symmetric,
        augment: bowles_augment(),
        ..DataSpec::default()
    };
    data_source(f, &mut d)?;
    Ok(d)
}

/// Per image: the spread of gate `k`'s map, sum of std / sum of mean over
/// the image (a coefficient of variation of the whole map).
fn spreads(net: &AttentionNet, x: &ArrayD<f32>, draws: usize, seed: u64) -> Res<Vec<[f64; 3]>> {
    let mut out = Vec::new();
    for start in (0..x.shape()[0]).step_by(16) {
        let end = (start + 16).min(x.shape()[0]);
        let xb = Tensor::new(x.slice_axis(Axis(0), (start..end).into()).to_owned());
        let stats = attention_map_stats(net, &xb, draws, seed)?;
        for i in 0..end - start {
            let mut v = [0.0; 3];
            for (k, (mean, std)) in stats.iter().enumerate().take(3) {
                let m = mean.index_axis(Axis(0), i).sum();
                let sd = std.index_axis(Axis(0), i).sum();
                v[k] = f64::from(sd) / f64::from(m).max(1e-12);
            }
            out.push(v);
        }
    }
    Ok(out)
}

/// One markdown row per group: its name, size, and mean ± standard error of
/// each column, formatted by `cell`.
fn push_rows<const K: usize>(
    md: &mut String,
    groups: &[(&str, Vec<[f64; K]>)],
    cell: impl Fn(f64, f64) -> String,
) {
    for (name, v) in groups {
        let cells: Vec<String> = (0..K)
            .map(|k| {
                let (m, se) = mean_se(v, k);
                cell(m, se)
            })
            .collect();
        let _ = writeln!(md, "| {name} | {} | {} |", v.len(), cells.join(" | "));
    }
}

/// Per-image values in three groups: right and wrong test predictions, and
/// a second image set.
fn split_groups<const K: usize>(
    test: &[[f64; K]],
    right: &[bool],
    other: Vec<[f64; K]>,
    other_name: &'static str,
) -> [(&'static str, Vec<[f64; K]>); 3] {
    let pick = |want: bool| -> Vec<[f64; K]> {
        test.iter()
            .zip(right)
            .filter(|(_, r)| **r == want)
            .map(|(v, _)| *v)
            .collect()
    };
    [
        ("test images, correct", pick(true)),
        ("test images, wrong", pick(false)),
        (other_name, other),
    ]
}

/// Per image: the entropy of the predictive mean over the draws and the
/// mutual information between prediction and weights.
fn predictive_uncertainty(samples: &Array3<f32>) -> Res<Vec<[f64; 2]>> {
    let s = samples.mapv(f64::from);
    let h = entropy(cal_mean(s.view())?.view())?;
    let mi = mutual_information(s.view())?;
    Ok(h.iter().zip(&mi).map(|(&h, &m)| [h, m]).collect())
}

/// Mean and standard error of column `k` over a group of images.
fn mean_se<const K: usize>(v: &[[f64; K]], k: usize) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().map(|s| s[k]).sum::<f64>() / n;
    let var = v.iter().map(|s| (s[k] - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, (var / n).sqrt())
}

fn train(
    f: &Flags,
    train: &ArrayLoader<u8>,
    val: &ArrayLoader<u8>,
    out: &Path,
) -> Res<AttentionNet> {
    let seed = f.get("--seed", 0)?;
    let mut net = build(seed)?;
    let tcfg = TrainConfig::default()
        .epochs(f.get("--epochs", 100)?)
        .batch_size(f.get("--batch", 16)?)
        .adam(f.get("--lr", 5e-5)?)
        .seed(seed)
        .checkpoint_dir(out.join("ckpt"))
        .resume(true);
    let elbo = Elbo::default()
        .temperature(f.get("--temperature", 0.01)?)
        .check()?;
    let h = Trainer::new(tcfg)?
        .step(ElboStep::new(elbo)?)
        .validation(Validation::new(val).samples(4)?)
        .fit(&mut net, train)?;
    eprintln!(
        "trained {} epochs (best {:?})",
        h.records.len(),
        h.best_epoch
    );
    save_model(&net, out.join("model.safetensors"))?;
    net.eval();
    Ok(net)
}

fn main() {
    init_logging();
    exit_on_error(run());
}

fn run() -> Res<()> {
    let f = Flags::parse(&argv(), &FLAGS, HELP)?;
    fanaroff::tensor::pool::set_max_bytes(f.get::<usize>("--pool-mib", 3072)? << 20);
    if let Some(t) = f.opt("--threads")? {
        fanaroff::tensor::set_num_threads(t)?;
    }
    let out: PathBuf = f.get("--out", PathBuf::from("target/attention_bayes"))?;
    let docs: PathBuf = f.opt("--docs")?.unwrap_or_else(|| out.clone());
    let (seed, draws): (u64, usize) = (f.get("--seed", 0)?, f.get("--draws", 20)?);
    let spec = data_spec(&f)?;
    let data = spec.load(seed)?;
    let (tr, va) = (spec.train_loader(&data.train)?, spec.loader(&data.val)?);
    std::fs::create_dir_all(&out)?;
    let net = train(&f, &tr, &va, &out)?;
    let (test, unc) = (spec.loader(&data.test)?, spec.loader(&data.uncertain)?);
    let pcfg = PredictConfig::with_samples(draws)
        .batch_size(16)
        .seed(seed ^ 0x5eed);
    let samples = predict_samples(&net, test.inputs().view(), &pcfg)?;
    let probs = predictive_mean(samples.view());
    let right: Vec<bool> = probs
        .outer_iter()
        .zip(test.labels())
        .map(|(p, y)| usize::from(p[1] > p[0]) == *y)
        .collect();
    let acc = right.iter().filter(|&&r| r).count() as f64 / right.len() as f64;
    let s_test = spreads(&net, &test.inputs(), draws, seed)?;
    let s_unc = spreads(&net, &unc.inputs(), draws, seed)?;
    let groups = split_groups(&s_test, &right, s_unc, data_name(&spec));
    let u_test = predictive_uncertainty(&samples)?;
    let u_unc = predictive_uncertainty(&predict_samples(&net, unc.inputs().view(), &pcfg)?)?;
    let u_groups = split_groups(&u_test, &right, u_unc, data_name(&spec));
    let mut md = format!(
        "Bayesian attention ({}): variational gates and classifier, GMM prior, T = {}, {} epochs, seed {seed}; \
         test accuracy of the predictive mean over {draws} draws: {:.1} %.\n\n\
         Spread of a map = sum of its per-pixel std over draws / sum of its mean (mean ± standard error over images).\n\n\
         | images | n | gate 1 | gate 2 | gate 3 |\n|---|---|---|---|---|\n",
        data.source,
        f.get("--temperature", 0.01)?,
        f.get("--epochs", 100)?,
        100.0 * acc
    );
    push_rows(&mut md, &groups, |m, se| format!("{m:.3e} ± {se:.1e}"));
    md.push_str(
        "\nThe classifier's uncertainty for the same images: entropy of the predictive mean \
         and mutual information (the part of it due to disagreement between weight draws), in nats.\n\n\
         | images | n | predictive entropy | mutual information |\n|---|---|---|---|\n",
    );
    push_rows(&mut md, &u_groups, |m, se| format!("{m:.3} ± {se:.3}"));
    std::fs::create_dir_all(&docs)?;
    std::fs::write(docs.join("attention_bayes.md"), &md)?;
    figure(
        &net,
        &test,
        &right,
        &unc,
        draws,
        seed,
        &docs.join("attention_bayes.png"),
    )?;
    println!("{md}\nwrote {}/attention_bayes.{{md,png}}", docs.display());
    Ok(())
}

fn data_name(spec: &DataSpec) -> &'static str {
    if spec.synthetic.is_some() {
        "second synthetic draw (not hard cases)"
    } else {
        "MBFRUncertain"
    }
}

/// Rows: 3 correct and 3 wrong test images, 3 MBFRUncertain images.
/// Columns: the image, then gate 1's and gate 2's mean and std maps.
fn figure(
    net: &AttentionNet,
    test: &ArrayLoader<u8>,
    right: &[bool],
    unc: &ArrayLoader<u8>,
    draws: usize,
    seed: u64,
    path: &Path,
) -> Res<()> {
    let mut rows: Vec<(&ArrayLoader<u8>, usize)> = Vec::new();
    rows.extend(
        (0..right.len())
            .filter(|&i| right[i])
            .take(3)
            .map(|i| (test, i)),
    );
    rows.extend(
        (0..right.len())
            .filter(|&i| !right[i])
            .take(3)
            .map(|i| (test, i)),
    );
    rows.extend((0..unc.labels().len().min(3)).map(|i| (unc, i)));
    let mut grid = ImageGrid::new(5);
    for (loader, i) in rows {
        let x = loader.inputs();
        let xi = Tensor::new(x.slice_axis(Axis(0), (i..i + 1).into()).to_owned());
        let img: Array2<f32> = loader
            .examples()
            .mapv(f32::from)
            .slice(s![i, 0, .., ..])
            .to_owned();
        let stats = attention_map_stats(net, &xi, draws, seed)?;
        grid.push(img.view(), None)?;
        for (mean, std) in stats.iter().take(2) {
            let m = mean
                .slice(s![0, .., ..])
                .to_owned()
                .into_dimensionality::<Ix2>()?;
            let sd = std
                .slice(s![0, .., ..])
                .to_owned()
                .into_dimensionality::<Ix2>()?;
            grid.push(img.view(), Some(m.view()))?;
            grid.push(img.view(), Some(sd.view()))?;
        }
    }
    grid.save(path)?;
    Ok(())
}
