//! Times the attention-gated network of Bowles et al. (2021) exactly as
//! `bench/torch_attention_reference.py bench` times its PyTorch twin, with
//! the same JSON keys, so the two can be run alternately and compared:
//!
//! * `epoch_det`, `epoch_bayes`: one training epoch over the MBFRConfident
//!   training images (all of them, no validation split), batch 16, the
//!   paper's augmentation (rotation ±180°, shift ±2 px, scale 0.9-1.1),
//!   Adam lr 5e-5; `det` is the plain network, `bayes` has Bayes-by-backprop
//!   gates (the 1x1 convolutions) trained with the ELBO;
//! * `fwd_bwd_det`, `fwd_bwd_bayes`: forward + backward of one batch of 16;
//! * `inference_det`, `inference_bayes`: a forward pass without a graph over
//!   the MBFRConfident test images, in batches of 16.
//!
//! Softmax normalisation, concat aggregation, inputs scaled to [-1, 1].
//!
//! ```text
//! cargo run --release --example bench_attention -- --threads 2 --out target/attention_ours.json
//! ```

use clap::Parser;
use fanaroff::data::{MiraBest, Scaling, Subset};
use fanaroff::nn::{Module, ModuleExt};
use fanaroff::tensor::NoGradGuard;
use fanaroff::train::{ArrayLoader, Batch, Loader, StepContext, TrainConfig, Trainer};
use fanaroff_cli::Experiment;
use fanaroff_examples::{bowles_augment, median};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Timings of the attention-gated network (keys shared with the PyTorch twin).
#[derive(Parser)]
struct Args {
    /// The full MiraBest release.
    #[arg(long, default_value = fanaroff_examples::DEFAULT_DATA)]
    data: PathBuf,
    /// Rayon threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Timed repeats of each epoch and inference pass.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Timed repeats of each forward + backward.
    #[arg(long, default_value_t = 10)]
    mb_repeats: usize,
    /// Minibatch size.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Only the deterministic network.
    #[arg(long)]
    det_only: bool,
    /// Skip the training epochs (forward + backward and inference only).
    #[arg(long)]
    no_epoch: bool,
    /// Upper bound of the buffer pool in MiB (default: the library's).
    #[arg(long)]
    pool_mib: Option<usize>,
    /// Write the JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The network of the experiment files: plain or with Bayesian gates.
fn model(bayes: bool) -> Res<fanaroff_cli::Built> {
    let (gates, bias) = if bayes {
        ("bayes", true)
    } else {
        ("plain", false)
    };
    let exp = Experiment::from_toml(&format!(
        "[data]\nsynthetic = 16\n[model]\nkind = \"attention_net\"\n\
         layers = {{ gates = \"{gates}\" }}\nnet = {{ gate_bias = {bias} }}"
    ))?;
    Ok(exp.model.build(&mut StdRng::seed_from_u64(0))?)
}

fn timed(f: &mut dyn FnMut() -> Res<()>, repeats: usize, warmup: usize) -> Res<Value> {
    for _ in 0..warmup {
        f()?;
    }
    let mut ts = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let t0 = Instant::now();
        f()?;
        ts.push(t0.elapsed().as_secs_f64());
    }
    let min = ts.iter().copied().fold(f64::INFINITY, f64::min);
    Ok(json!({"median": median(ts.clone()), "min": min, "n": ts.len(), "all": ts}))
}

/// Peak resident memory of this process (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

/// Timed training epochs (after one warm-up epoch), with the buffer
/// pool's fresh allocations per timed epoch: 0 in a steady state.
fn epoch(bayes: bool, train: &dyn Loader, a: &Args) -> Res<Value> {
    let mut built = model(bayes)?;
    let cfg = TrainConfig::default()
        .epochs(1)
        .batch_size(a.batch)
        .adam(5e-5)
        .schedule(None)
        .restore_best(false)
        .progress(false)
        .log_epochs(false);
    let mut trainer = Trainer::new(cfg)?.step(built.step);
    let mut run = || -> Res<()> { Ok(trainer.fit(&mut built.model, train).map(|_| ())?) };
    run()?;
    let before = fanaroff::tensor::pool::stats();
    let mut v = timed(&mut run, a.repeats, 0)?;
    let pool = fanaroff::tensor::pool::stats().since(&before);
    let per = |x: u64| x as f64 / a.repeats as f64;
    v["pool_misses_per_epoch"] = json!(per(pool.misses));
    v["pool_missed_mib_per_epoch"] = json!(per(pool.missed_bytes) / 1048576.0);
    Ok(v)
}

fn fwd_bwd(bayes: bool, batch: &Batch, a: &Args) -> Res<Value> {
    let built = model(bayes)?;
    let mut rng = StdRng::seed_from_u64(1);
    let mut step = built.step;
    let mut model = built.model;
    model.set_training(true);
    timed(
        &mut || {
            let mut ctx = StepContext {
                model: &model,
                rng: &mut rng,
                epoch: 0,
                step: 0,
                steps_per_epoch: 1,
            };
            step.step(batch, &mut ctx)?.loss.backward()?;
            Ok(())
        },
        a.mb_repeats,
        2,
    )
}

fn inference(bayes: bool, test: &ArrayLoader<u8>, a: &Args) -> Res<Value> {
    let mut model = model(bayes)?.model;
    model.set_training(false);
    let mut rng = StdRng::seed_from_u64(2);
    timed(
        &mut || {
            let _g = NoGradGuard::new();
            let all: Vec<usize> = (0..test.len()).collect();
            for idx in all.chunks(a.batch) {
                model.forward(&test.batch(idx, 0, false)?.inputs, &mut rng)?;
            }
            Ok(())
        },
        a.repeats,
        1,
    )
}

fn main() -> Res<()> {
    let a = Args::parse();
    if a.threads == 0 || a.repeats == 0 || a.mb_repeats == 0 || a.batch == 0 {
        return Err("--threads, --repeats, --mb-repeats and --batch must be >= 1".into());
    }
    fanaroff::tensor::set_num_threads(a.threads)?;
    if let Some(mib) = a.pool_mib {
        fanaroff::tensor::pool::set_max_bytes(mib << 20);
    }
    let mb = MiraBest::open(&a.data).map_err(|e| format!("--data {}: {e}", a.data.display()))?;
    let (train, test) = (
        mb.train().subset(Subset::MbFrConfident)?,
        mb.test().subset(Subset::MbFrConfident)?,
    );
    let train =
        ArrayLoader::from_dataset(&train, Scaling::Symmetric)?.with_augment(bowles_augment());
    let test = ArrayLoader::from_dataset(&test, Scaling::Symmetric)?;
    let first: Vec<usize> = (0..a.batch.min(train.len())).collect();
    let batch = train.batch(&first, 0, true)?;
    let mut out = serde_json::Map::new();
    out.insert("framework".into(), json!("fanaroff"));
    out.insert("threads".into(), json!(a.threads));
    out.insert("batch".into(), json!(a.batch));
    out.insert("train_images".into(), json!(train.len()));
    out.insert("test_images".into(), json!(test.len()));
    let kinds: &[bool] = if a.det_only { &[false] } else { &[false, true] };
    for &bayes in kinds {
        let tag = if bayes { "bayes" } else { "det" };
        out.insert(
            format!("params_{tag}"),
            json!(model(bayes)?.model.num_parameters()),
        );
        let mut parts = vec![
            ("fwd_bwd", fwd_bwd(bayes, &batch, &a)?),
            ("inference", inference(bayes, &test, &a)?),
        ];
        if !a.no_epoch {
            parts.push(("epoch", epoch(bayes, &train, &a)?));
        }
        for (key, v) in parts {
            println!(
                "{key}_{tag:<5} median {:.3} s",
                v["median"].as_f64().unwrap_or(f64::NAN)
            );
            out.insert(format!("{key}_{tag}"), v);
        }
    }
    out.insert("peak_rss_mib".into(), json!(peak_rss_mib()));
    let text = serde_json::to_string_pretty(&Value::Object(out))?;
    match &a.out {
        Some(p) => std::fs::write(p, text)?,
        None => println!("{text}"),
    }
    Ok(())
}
