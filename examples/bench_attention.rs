//! Times the attention-gated network of Bowles et al. (2021) exactly as
//! `bench/torch_attention_reference.py bench` times its PyTorch twin, with
//! the same JSON keys (softmax x concat, inputs in [-1, 1]), so the two can be
//! run alternately and compared:
//!
//! * `epoch_det`, `epoch_bayes`: one training epoch over the MBFRConfident
//!   training images (all of them, no validation split), batch 16, the
//!   paper's augmentation (rotation ±180°, shift ±2 px, scale 0.9-1.1),
//!   Adam lr 5e-5; `det` is the plain network, `bayes` has Bayes-by-backprop
//!   gates (the 1x1 convolutions) trained with the ELBO;
//! * `fwd_bwd_det`, `fwd_bwd_bayes`: forward + backward of one batch of 16;
//! * `inference_det`, `inference_bayes`: a forward pass without a graph over
//!   the MBFRConfident test images, in batches of 16 (`--draws-per-pass`: see `predictives`).
//!
//! ```text
//! cargo run --release --example bench_attention -- --threads 2 --out target/attention_ours.json
//! ```

use clap::Parser;
use fanaroff::train::Loader;
use fanaroff_examples::attention_bench::{AttentionData, Parts, Repeats, measure, predictives};
use fanaroff_examples::timing::{BenchResult, peak_rss_mib};
use serde_json::{Value, json};
use std::path::PathBuf;

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
    /// `epoch` or `inference` alone (each with its own peak memory), or `all`.
    #[arg(long, default_value = "all")]
    only: String,
    /// Upper bound of the buffer pool in MiB (default: the library's).
    #[arg(long)]
    pool_mib: Option<usize>,
    /// Time the 20-draw predictive with these draws per pass.
    #[arg(long, value_delimiter = ',')]
    draws_per_pass: Vec<usize>,
    /// Write the JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> BenchResult<()> {
    let a = Args::parse();
    if a.threads == 0 || a.repeats == 0 || a.mb_repeats == 0 || a.batch == 0 {
        return Err("--threads, --repeats, --mb-repeats and --batch must be >= 1".into());
    }
    fanaroff::tensor::set_num_threads(a.threads)?;
    if let Some(mib) = a.pool_mib {
        fanaroff::tensor::pool::set_max_bytes(mib << 20);
    }
    let parts = Parts::from_flags(&a.only, a.no_epoch)?;
    let data = AttentionData::open(&a.data)?;
    let r = Repeats {
        repeats: a.repeats,
        minibatch: a.mb_repeats,
        batch: a.batch,
    };
    let mut out = serde_json::Map::new();
    out.insert("framework".into(), json!("fanaroff"));
    out.insert("threads".into(), json!(a.threads));
    out.insert("batch".into(), json!(a.batch));
    out.insert("train_images".into(), json!(data.train.len()));
    out.insert("test_images".into(), json!(data.test.len()));
    for bayes in [false, true] {
        if !(bayes && a.det_only) {
            measure(bayes, &data, r, parts, &mut out)?;
        }
    }
    predictives(&data.test, r, &a.draws_per_pass, &mut out)?;
    out.insert("peak_rss_mib".into(), json!(peak_rss_mib()));
    let text = serde_json::to_string_pretty(&Value::Object(out))?;
    match &a.out {
        Some(p) => std::fs::write(p, text)?,
        None => println!("{text}"),
    }
    Ok(())
}
