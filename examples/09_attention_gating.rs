//! The attention-gated CNN of Bowles et al. 2021 on MBFRConfident: trains
//! each normalisation x aggregation (x seed), reports test accuracy and AUC,
//! and where the attention falls (fraction of attention on source pixels).
//!
//! ```text
//! cargo run --release --example 09_attention_gating -- --norms softmax --aggs concat --epochs 100
//! cargo run --release --example 09_attention_gating -- --norms softmax,sigmoid,range,std_mean \
//!     --aggs concat,mean,deep_supervision,fine_tuned --docs docs/attention
//! ```
//!
//! Every run keeps a checkpoint and its result under `--out`, so an
//! interrupted sweep resumes and finished runs are reused.

use fanaroff::attention::{
    Aggregation, AttentionNet, AttentionNetConfig, DeepSupervisionStep, Normalisation,
    ProbabilityCrossEntropyStep, attention_maps, source_mass,
};
use fanaroff::calibrate::auroc;
use fanaroff::data::{Dataset, Scaling};
use fanaroff::nn::init::reinit_kaiming_normal;
use fanaroff::nn::models::PlainLayers;
use fanaroff::nn::{ModuleExt, TensorFile, load_model, load_present, save_model};
use fanaroff::plot::Figure;
use fanaroff::tensor::Tensor;
use fanaroff::train::{
    ArrayLoader, AugmentedValidation, CrossEntropyStep, Loader, Monitor, PredictConfig,
    TrainConfig, Trainer, Validation, predict_augmented, predict_samples, predictive_mean,
    write_atomic,
};
use fanaroff_examples::{Flags, bowles_augment, load_confident, mean_std_cell};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const HELP: &str = "09_attention_gating: attention-gated CNN (Bowles et al. 2021) on MBFRConfident

options (defaults in brackets):
  --data PATH          MiraBest full release [../shared/data/mirabest/MiraBest_full_batches.tar.gz;
                       synthetic images with a notice when the default is absent]
  --synthetic N        use N synthetic galaxies [off]
  --norms LIST         softmax, sigmoid, range, std_mean [softmax]
  --aggs LIST          concat, mean, deep_supervision, fine_tuned, or mean_with_concat (the
                       study code's deep supervision: gate classifiers and a concat
                       classifier averaged, one loss) [concat]
  --seeds LIST         training seeds [0]
  --epochs N           [100; other lengths give run folders an _eN suffix, and copying a
                       finished run's ckpt/ folder into such a folder continues that run]
  --finetune-epochs N  second stage of fine_tuned (combination only) [20]
  --batch N            [16]
  --lr LR              Adam learning rate [5e-5]
  --threads N          rayon threads [all]
  --pool-mib N         memory the buffer pool may hold; one training step of this network
                       cycles through more than 1 GiB of activations and gradients, and a
                       pool too small for them frees and re-faults pages every step (1024:
                       epochs about 1.25x as long, peak memory 1.7 instead of 4.1 GB) [3072]
  --tta N              also report accuracy and AUC over N random augmented copies of the
                       test set (the paper code's protocol uses 360) [0: off]
  --val-tta N          select the model by the validation NLL averaged over N augmented
                       copies of the validation images (the paper code's selection) [0: off,
                       the NLL on the images as they are]
  --reference-loss     train with the study code's loss (cross-entropy of the softmax
                       output, a double softmax) instead of the cross-entropy of the logits,
                       and select the model by that loss on the validation images; concat
                       and mean only; run folders get a _refloss suffix
  --constant-lr        keep the learning rate constant, as the study code does [off: the
                       training loop's plateau schedule, x 0.95 after 3 epochs without a
                       better validation loss]; run folders get a _const suffix
  --kaiming-init       re-draw conv and linear weights from N(0, 2 / fan_in) and batch-norm
                       scales from N(1, 0.02), the study code's init_weights(kaiming)
                       [off: PyTorch's default initialisation]; run folders get _kaiming
  --reuse-deep-supervision
                       fine_tuned: take stage 1 from the finished deep_supervision run of
                       the same setting and seed in --out (stage 1 is that run, exactly:
                       the combination starts as the mean of the heads and gets no
                       gradient there), so only the 20 combination epochs are trained
  --reevaluate         evaluate finished runs again from their saved weights
  --out DIR            runs, checkpoints, results [target/attention_gating]
  --docs DIR           where attention_gating.md goes [--out]";

const FLAGS: [&str; 15] = [
    "--data",
    "--synthetic",
    "--norms",
    "--aggs",
    "--seeds",
    "--epochs",
    "--finetune-epochs",
    "--batch",
    "--lr",
    "--threads",
    "--pool-mib",
    "--tta",
    "--val-tta",
    "--out",
    "--docs",
];

struct Args {
    data: Option<PathBuf>,
    synthetic: Option<usize>,
    norms: Vec<Normalisation>,
    aggs: Vec<Aggregation>,
    seeds: Vec<u64>,
    epochs: usize,
    finetune_epochs: usize,
    batch: usize,
    lr: f32,
    tta: usize,
    val_tta: usize,
    reevaluate: bool,
    reference_loss: bool,
    constant_lr: bool,
    kaiming_init: bool,
    reuse_ds: bool,
    out: PathBuf,
    docs: Option<PathBuf>,
}

fn parse_args(argv: &[String]) -> Res<Args> {
    let switches = [
        "--reevaluate",
        "--reference-loss",
        "--constant-lr",
        "--kaiming-init",
        "--reuse-deep-supervision",
    ];
    let f = Flags::parse_with_switches(argv, &FLAGS, &switches, HELP)?;
    if let Some(t) = f.opt::<usize>("--threads")? {
        fanaroff::tensor::set_num_threads(t)?;
    }
    fanaroff::tensor::pool::set_max_bytes(f.get::<usize>("--pool-mib", 3072)? << 20);
    let named = |list: Vec<String>, what: &str| -> Res<Vec<String>> {
        Ok(if list.is_empty() {
            vec![what.to_string()]
        } else {
            list
        })
    };
    let norms = named(f.list("--norms")?.unwrap_or_default(), "softmax")?
        .iter()
        .map(|n| {
            Normalisation::ALL
                .into_iter()
                .find(|x| x.name() == n)
                .ok_or(format!("--norms: unknown {n}"))
        })
        .collect::<Result<_, _>>()?;
    let aggs = named(f.list("--aggs")?.unwrap_or_default(), "concat")?
        .iter()
        .map(|n| {
            Aggregation::ALL
                .into_iter()
                .find(|x| x.name() == n)
                .ok_or(format!("--aggs: unknown {n}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let reference_loss = f.switch("--reference-loss");
    let two_stage = [Aggregation::DeepSupervision, Aggregation::FineTuned];
    if reference_loss && aggs.iter().any(|a| two_stage.contains(a)) {
        return Err("--reference-loss: only for the concat and mean aggregations".into());
    }
    let val_tta = f.get("--val-tta", 0)?;
    if reference_loss && val_tta > 0 {
        return Err(
            "--reference-loss selects by the loss on the plain validation images; \
                    it does not combine with --val-tta"
                .into(),
        );
    }
    Ok(Args {
        data: f.opt("--data")?,
        synthetic: f.opt("--synthetic")?,
        norms,
        aggs,
        seeds: f.list("--seeds")?.unwrap_or(vec![0]),
        epochs: f.get("--epochs", 100)?,
        finetune_epochs: f.get("--finetune-epochs", 20)?,
        batch: f.get("--batch", 16)?,
        lr: f.get("--lr", 5e-5)?,
        tta: f.get("--tta", 0)?,
        val_tta,
        reevaluate: f.switch("--reevaluate"),
        reference_loss,
        constant_lr: f.switch("--constant-lr"),
        kaiming_init: f.switch("--kaiming-init"),
        reuse_ds: f.switch("--reuse-deep-supervision"),
        out: f.get("--out", PathBuf::from("target/attention_gating"))?,
        docs: f.opt("--docs")?,
    })
}

/// MBFRConfident train (80 %, augmented), validation (20 %) and test.
struct Data {
    source: String,
    train: ArrayLoader<u8>,
    val: ArrayLoader<u8>,
    test: ArrayLoader<u8>,
    /// The validation images with the training augmentation, for `--val-tta`.
    val_augmented: ArrayLoader<u8>,
    /// The test images with the training augmentation, for `--tta`.
    test_augmented: ArrayLoader<u8>,
}

fn load_data(a: &Args, seed: u64) -> Res<Data> {
    let mut rng = StdRng::seed_from_u64(seed);
    let d = load_confident(a.data.as_deref(), a.synthetic, seed, 0.2, &mut rng)?;
    // the paper: inputs in [-1, 1]; rotations, shifts of 2 px, scaling 0.9-1.1
    let augment = bowles_augment().check()?;
    let l = |d: &Dataset| ArrayLoader::from_dataset(d, Scaling::Symmetric);
    Ok(Data {
        source: d.source,
        train: l(&d.train)?.with_augment(augment.clone()),
        val: l(&d.val)?,
        val_augmented: l(&d.val)?.with_augment(augment.clone()),
        test: l(&d.test)?,
        test_augmented: l(&d.test)?.with_augment(augment),
    })
}

/// Model selection on the validation images as they are, or (`val_tta`
/// > 0) averaged over that many augmented copies of them.
fn with_validation<'a>(
    t: Trainer<'a, AttentionNet>,
    data: &'a Data,
    val_tta: usize,
    reference_loss: bool,
) -> Res<Trainer<'a, AttentionNet>> {
    Ok(if val_tta > 0 {
        t.validation(AugmentedValidation::new(&data.val_augmented, val_tta)?)
    } else {
        let v = Validation::new(&data.val).samples(1)?;
        t.validation(v.with_probability_ce(reference_loss))
    })
}

/// The outcome of one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunResult {
    norm: String,
    agg: String,
    seed: u64,
    epochs: usize,
    best_epoch: Option<usize>,
    train_seconds: f64,
    test_accuracy: f64,
    test_auc: f64,
    /// Mean over test images of the fraction of attention on source pixels, per gate.
    source_mass: Vec<f64>,
    /// The fraction of the image area that is source, for comparison.
    source_area: f64,
    parameters: usize,
    /// Accuracy and AUC over `tta_reps` augmented copies of the test set.
    #[serde(default)]
    tta: Option<(usize, f64, f64)>,
}

fn run_dir(a: &Args, norm: Normalisation, agg: Aggregation, seed: u64) -> PathBuf {
    let mut name = format!("{}_{}_s{seed}", norm.name(), agg.name());
    for (on, suffix) in [
        (a.reference_loss, "_refloss"),
        (a.constant_lr, "_const"),
        (a.kaiming_init, "_kaiming"),
    ] {
        if on {
            name.push_str(suffix);
        }
    }
    // 100 epochs is the paper's recipe; other lengths get their own folder.
    // Copying a finished run's `ckpt/` into it continues that run.
    if a.epochs != 100 {
        name.push_str(&format!("_e{}", a.epochs));
    }
    a.out.join(name)
}

/// Trains (or resumes) one setting and evaluates it.
fn run_one(
    a: &Args,
    data: &Data,
    norm: Normalisation,
    agg: Aggregation,
    seed: u64,
) -> Res<RunResult> {
    let dir = run_dir(a, norm, agg, seed);
    if let Ok(text) = std::fs::read_to_string(dir.join("result.json")) {
        let old: RunResult = serde_json::from_str(&text)?;
        if !a.reevaluate {
            return Ok(old);
        }
        return reevaluate(a, data, old, &dir);
    }
    let cfg = AttentionNetConfig {
        normalisation: norm,
        aggregation: agg,
        ..AttentionNetConfig::default()
    };
    let mut rng = StdRng::seed_from_u64(seed);
    let mut net = cfg.build(&mut PlainLayers::new(&mut rng))?;
    if a.kaiming_init {
        reinit_kaiming_normal(&mut net, &mut rng)?;
    }
    let t0 = Instant::now();
    let tcfg = train_config(a, &dir, seed);
    let reused = match agg {
        Aggregation::FineTuned if a.reuse_ds => reuse_stage1(a, norm, seed, &mut net)?,
        _ => None,
    };
    let (best_epoch, earlier_seconds) = match &reused {
        Some(ds) => (ds.best_epoch, ds.train_seconds),
        None => (train(a, data, agg, &mut net, &tcfg)?, 0.0),
    };
    if agg == Aggregation::FineTuned {
        net.freeze_for_fine_tuning()?;
        let ft = tcfg
            .epochs(a.finetune_epochs)
            .checkpoint_dir(dir.join("ckpt_ft"));
        with_validation(Trainer::new(ft)?, data, a.val_tta, a.reference_loss)?
            .fit(&mut net, &data.train)?;
    }
    let train_seconds = earlier_seconds + t0.elapsed().as_secs_f64();
    save_model(&net, dir.join("model.safetensors"))?;
    let r = evaluate(
        &mut net,
        data,
        norm,
        agg,
        seed,
        best_epoch,
        a.epochs,
        train_seconds,
        a.tta,
    )?;
    save_result(dir.as_ref(), &r)?;
    Ok(r)
}

/// Trains a run (the first stage of a fine-tuned one); the best epoch.
fn train(
    a: &Args,
    data: &Data,
    agg: Aggregation,
    net: &mut AttentionNet,
    tcfg: &TrainConfig,
) -> Res<Option<usize>> {
    let trainer = with_validation(
        Trainer::new(tcfg.clone())?,
        data,
        a.val_tta,
        a.reference_loss,
    )?;
    let history = match agg {
        Aggregation::DeepSupervision | Aggregation::FineTuned => {
            trainer.step(DeepSupervisionStep).fit(net, &data.train)?
        }
        _ if a.reference_loss => trainer
            .step(ProbabilityCrossEntropyStep)
            .fit(net, &data.train)?,
        _ => trainer.step(CrossEntropyStep).fit(net, &data.train)?,
    };
    Ok(history.best_epoch)
}

/// Stage 1 of a fine-tuned run from the finished deep-supervision run of
/// the same setting and seed, if there is one: its weights (all but the
/// combination, which stays the mean of the heads) and its result.
fn reuse_stage1(
    a: &Args,
    norm: Normalisation,
    seed: u64,
    net: &mut AttentionNet,
) -> Res<Option<RunResult>> {
    let ds = run_dir(a, norm, Aggregation::DeepSupervision, seed);
    let Ok(text) = std::fs::read_to_string(ds.join("result.json")) else {
        eprintln!("no finished run in {}: training stage 1", ds.display());
        return Ok(None);
    };
    let old: RunResult = serde_json::from_str(&text)?;
    let file = TensorFile::read(ds.join("model.safetensors"))?;
    let missing = load_present(net, &file)?;
    if let Some(n) = missing.iter().find(|n| !n.starts_with("combine.")) {
        return Err(format!("{}: no tensor {n}", ds.display()).into());
    }
    eprintln!("stage 1 taken from {}", ds.display());
    Ok(Some(old))
}

/// The training recipe of one run: the paper's, with our flags applied.
fn train_config(a: &Args, dir: &std::path::Path, seed: u64) -> TrainConfig {
    let tcfg = TrainConfig::default()
        .epochs(a.epochs)
        .batch_size(a.batch)
        .adam(a.lr)
        .seed(seed)
        .checkpoint_dir(dir.join("ckpt"))
        .resume(true);
    let tcfg = if a.constant_lr {
        tcfg.schedule(None)
    } else {
        tcfg
    };
    // the study code selects the model by the loss it trains with
    if a.reference_loss {
        tcfg.monitor(Some(Monitor::min("val_prob_ce")))
    } else {
        tcfg
    }
}

#[allow(clippy::too_many_arguments)]
fn evaluate(
    net: &mut AttentionNet,
    data: &Data,
    norm: Normalisation,
    agg: Aggregation,
    seed: u64,
    best_epoch: Option<usize>,
    epochs: usize,
    train_seconds: f64,
    tta_reps: usize,
) -> Res<RunResult> {
    net.eval();
    let x = data.test.inputs();
    let probs = predictive_mean(
        predict_samples(
            net,
            x.view(),
            &PredictConfig::with_samples(1).batch_size(32),
        )?
        .view(),
    );
    let labels = data.test.labels();
    let correct = probs
        .outer_iter()
        .zip(labels)
        .filter(|(p, y)| usize::from(p[1] > p[0]) == **y)
        .count();
    let scores: Vec<f64> = probs.column(1).iter().map(|&p| f64::from(p)).collect();
    let positives: Vec<bool> = labels.iter().map(|&y| y == 1).collect();
    let (mass, area) = attention_on_sources(net, &data.test)?;
    let tta = match tta_reps {
        0 => None,
        reps => Some(augmented_accuracy(net, data, reps, seed)?),
    };
    Ok(RunResult {
        norm: norm.name().into(),
        agg: agg.name().into(),
        seed,
        epochs,
        best_epoch,
        train_seconds,
        test_accuracy: correct as f64 / labels.len() as f64,
        test_auc: auroc(&scores, &positives)?,
        source_mass: mass,
        source_area: area,
        parameters: net.num_parameters(),
        tta,
    })
}

/// Evaluates a finished run again from its saved weights (`--reevaluate`),
/// keeping its training facts.
fn reevaluate(a: &Args, data: &Data, old: RunResult, dir: &std::path::Path) -> Res<RunResult> {
    let norm = Normalisation::ALL
        .into_iter()
        .find(|n| n.name() == old.norm)
        .ok_or("unknown normalisation in result.json")?;
    let agg = Aggregation::ALL
        .into_iter()
        .find(|n| n.name() == old.agg)
        .ok_or("unknown aggregation in result.json")?;
    let cfg = AttentionNetConfig {
        normalisation: norm,
        aggregation: agg,
        ..AttentionNetConfig::default()
    };
    let mut net = cfg.build(&mut PlainLayers::new(&mut StdRng::seed_from_u64(old.seed)))?;
    load_model(&mut net, dir.join("model.safetensors"), true)?;
    let r = evaluate(
        &mut net,
        data,
        norm,
        agg,
        old.seed,
        old.best_epoch,
        old.epochs,
        old.train_seconds,
        a.tta,
    )?;
    save_result(dir, &r)?;
    Ok(r)
}

fn save_result(dir: &std::path::Path, r: &RunResult) -> Res<()> {
    let text = serde_json::to_string_pretty(r)?;
    Ok(write_atomic(&dir.join("result.json"), text.as_bytes())?)
}

/// The paper code's test protocol: accuracy and AUC over every prediction
/// on `reps` random augmented copies of the test set.
fn augmented_accuracy(
    net: &AttentionNet,
    data: &Data,
    reps: usize,
    seed: u64,
) -> Res<(usize, f64, f64)> {
    let cfg = PredictConfig::with_samples(1)
        .batch_size(32)
        .seed(seed ^ 0x77a);
    let p = predict_augmented(net, &data.test_augmented, reps, &cfg)?;
    let labels = data.test.labels();
    let (mut correct, mut scores, mut positives) = (0, Vec::new(), Vec::new());
    for pass in p.outer_iter() {
        for (row, &y) in pass.outer_iter().zip(labels) {
            correct += usize::from(usize::from(row[1] > row[0]) == y);
            scores.push(f64::from(row[1]));
            positives.push(y == 1);
        }
    }
    let acc = correct as f64 / scores.len() as f64;
    Ok((reps, acc, auroc(&scores, &positives)?))
}

/// Mean fraction of each gate's attention on source pixels (non-zero in
/// the processed image), and the mean fraction of the image that is source.
fn attention_on_sources(net: &AttentionNet, test: &ArrayLoader<u8>) -> Res<(Vec<f64>, f64)> {
    let raw = test
        .examples()
        .mapv(f32::from)
        .into_dimensionality::<ndarray::Ix4>()?;
    let x = Tensor::new(test.inputs());
    let mut per_gate = vec![Vec::new(); net.num_gates()];
    for start in (0..test.len()).step_by(32) {
        let end = (start + 32).min(test.len());
        let xb = Tensor::new(
            x.data()
                .slice_axis(ndarray::Axis(0), (start..end).into())
                .to_owned(),
        );
        let rb = raw
            .slice_axis(ndarray::Axis(0), (start..end).into())
            .to_owned();
        for (k, m) in attention_maps(net, &xb, 0)?.iter().enumerate() {
            per_gate[k].extend(source_mass(&rb, m)?);
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let area = raw.iter().filter(|&&p| p != 0.0).count() as f64 / raw.len() as f64;
    Ok((per_gate.iter().map(|v| mean(v)).collect(), area))
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = parse_args(&argv).and_then(|a| run(&a)) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(a: &Args) -> Res<()> {
    std::fs::create_dir_all(&a.out)?;
    let mut results = Vec::new();
    let mut source = String::new();
    for &seed in &a.seeds {
        let data = load_data(a, seed)?;
        source = data.source.clone();
        for &norm in &a.norms {
            for &agg in &a.aggs {
                eprintln!("== {} / {} / seed {seed}", norm.name(), agg.name());
                let r = run_one(a, &data, norm, agg, seed)?;
                eprintln!(
                    "   accuracy {:.1} %, AUC {:.3}, over augmented copies {:?}, attention on sources {:?} (source area {:.3}), {:.0} s",
                    100.0 * r.test_accuracy,
                    r.test_auc,
                    r.tta,
                    r.source_mass
                        .iter()
                        .map(|m| format!("{m:.3}"))
                        .collect::<Vec<_>>(),
                    r.source_area,
                    r.train_seconds
                );
                results.push(r);
            }
        }
    }
    let docs = a.docs.clone().unwrap_or_else(|| a.out.clone());
    std::fs::create_dir_all(&docs)?;
    let data = load_data(a, a.seeds[0])?;
    for &norm in &a.norms {
        for &agg in &a.aggs {
            figure(a, &data, norm, agg, &docs)?;
        }
    }
    let md = summary(&results, &source, a);
    write_atomic(&docs.join("attention_gating.md"), md.as_bytes())?;
    println!("{md}");
    Ok(())
}

/// Attention maps of the first seed's model over test images: up to four
/// correct and four wrong predictions, one row each (image, then gates 1-3).
fn figure(
    a: &Args,
    data: &Data,
    norm: Normalisation,
    agg: Aggregation,
    docs: &std::path::Path,
) -> Res<()> {
    let dir = run_dir(a, norm, agg, a.seeds[0]);
    let cfg = AttentionNetConfig {
        normalisation: norm,
        aggregation: agg,
        ..AttentionNetConfig::default()
    };
    let mut net = cfg.build(&mut PlainLayers::new(&mut StdRng::seed_from_u64(0)))?;
    fanaroff::nn::load_model(&mut net, dir.join("model.safetensors"), true)?;
    net.eval();
    let x = data.test.inputs();
    let probs = predictive_mean(
        predict_samples(
            &net,
            x.view(),
            &PredictConfig::with_samples(1).batch_size(32),
        )?
        .view(),
    );
    let labels = data.test.labels();
    let right: Vec<bool> = probs
        .outer_iter()
        .zip(labels)
        .map(|(p, y)| usize::from(p[1] > p[0]) == *y)
        .collect();
    let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| right[i]).take(4).collect();
    rows.extend((0..labels.len()).filter(|&i| !right[i]).take(4));
    let raw = data.test.examples().mapv(f32::from);
    let mut grid = fanaroff::plot::ImageGrid::new(1 + net.num_gates());
    for &i in &rows {
        let xi = Tensor::new(x.slice_axis(ndarray::Axis(0), (i..i + 1).into()).to_owned());
        let img = raw
            .index_axis(ndarray::Axis(0), i)
            .index_axis(ndarray::Axis(0), 0)
            .to_owned();
        let img = img.into_dimensionality::<ndarray::Ix2>()?;
        grid.push(img.view(), None)?;
        for m in attention_maps(&net, &xi, 0)? {
            let m = m
                .index_axis(ndarray::Axis(0), 0)
                .to_owned()
                .into_dimensionality::<ndarray::Ix2>()?;
            grid.push(img.view(), Some(m.view()))?;
        }
    }
    let path = docs.join(format!("attention_maps_{}_{}.png", norm.name(), agg.name()));
    grid.save(&path)?;
    eprintln!(
        "wrote {} (rows: {} correct, then wrong predictions)",
        path.display(),
        rows.iter().filter(|&&i| right[i]).count()
    );
    Ok(())
}

fn summary(results: &[RunResult], source: &str, a: &Args) -> String {
    let mut md = format!(
        "# Attention-gated CNN on {source}\n\n{} epochs, batch {}, Adam lr {}, seeds {:?}; \
         rotations, 2 px shifts, 0.9-1.1 scaling; {}; model selected on the validation {}. \
         Cells: mean ± std over seeds. Attention on sources: mean fraction of each gate's \
         attention (minus its minimum) on non-zero pixels.\n\n\
         | normalisation | aggregation | test accuracy | AUC | accuracy / AUC over augmented test copies (reps) | attention on sources (gate 1, 2, 3) | source area | minutes per run |\n\
         |---|---|---|---|---|---|---|---|\n",
        a.epochs,
        a.batch,
        a.lr,
        a.seeds,
        if a.reference_loss {
            "loss: cross-entropy of the softmax output (the study code's)"
        } else {
            "loss: cross-entropy of the logits"
        },
        if a.reference_loss {
            "loss (the training loss)".to_string()
        } else if a.val_tta > 0 {
            format!("NLL averaged over {} augmented copies", a.val_tta)
        } else {
            "NLL".to_string()
        }
    );
    for &norm in &a.norms {
        for &agg in &a.aggs {
            let g: Vec<&RunResult> = results
                .iter()
                .filter(|r| r.norm == norm.name() && r.agg == agg.name())
                .collect();
            let col = |f: fn(&RunResult) -> f64| g.iter().map(|r| f(r)).collect::<Vec<_>>();
            let gates = (0..g[0].source_mass.len())
                .map(|k| mean_std_cell(&g.iter().map(|r| r.source_mass[k]).collect::<Vec<_>>()))
                .collect::<Vec<_>>()
                .join(", ");
            let tta: Vec<(usize, f64, f64)> = g.iter().filter_map(|r| r.tta).collect();
            let tta = if tta.len() == g.len() {
                format!(
                    "{} / {} ({})",
                    mean_std_cell(&tta.iter().map(|t| t.1).collect::<Vec<_>>()),
                    mean_std_cell(&tta.iter().map(|t| t.2).collect::<Vec<_>>()),
                    tta[0].0
                )
            } else {
                "—".into()
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {tta} | {gates} | {:.3} | {:.1} |",
                norm.name(),
                agg.name(),
                mean_std_cell(&col(|r| r.test_accuracy)),
                mean_std_cell(&col(|r| r.test_auc)),
                g[0].source_area,
                col(|r| r.train_seconds).iter().sum::<f64>() / 60.0 / g.len() as f64
            );
        }
    }
    md
}
