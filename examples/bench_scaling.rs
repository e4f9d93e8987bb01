//! Seconds per training epoch against batch size and threads, for the BBB
//! LeNet and the attention-gated CNN, ours and PyTorch's alternately
//! (`docs/performance.md`). Runs the built benchmark examples and the
//! PyTorch twins; writes `scaling.csv`, `scaling_lenet.png` and
//! `scaling_attention.png`.
//!
//! ```text
//! cargo build --release --examples
//! cargo run --release --example bench_scaling -- --python /path/to/venv/bin/python --out docs/performance
//! ```

use clap::Parser;
use fanaroff::plot::Figure;
use fanaroff_examples::scaling::{Sitting, csv, figure, measure};
use fanaroff_examples::timing::BenchResult;
use std::path::PathBuf;

/// Epoch time against batch size and threads, ours and PyTorch's.
#[derive(Parser)]
struct Args {
    /// Batch sizes.
    #[arg(long, value_delimiter = ',', default_value = "8,16,32,64")]
    batches: Vec<usize>,
    /// Thread counts.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Timed epochs per point (after a warm-up).
    #[arg(long, default_value_t = 1)]
    repeats: usize,
    /// A Python with torch and numpy.
    #[arg(long, default_value = "python3")]
    python: PathBuf,
    /// Also the attention net with Bayesian gates.
    #[arg(long)]
    bayes_gates: bool,
    /// Folder of the CSV and figures.
    #[arg(long, default_value = "target/scaling")]
    out: PathBuf,
}

fn main() -> BenchResult<()> {
    let a = Args::parse();
    if a.batches.contains(&0) || a.threads.contains(&0) || a.repeats == 0 {
        return Err("--batches, --threads and --repeats must be >= 1".into());
    }
    let exe = std::env::current_exe()?;
    let sitting = Sitting {
        batches: a.batches,
        threads: a.threads,
        repeats: a.repeats,
        python: a.python,
        examples: exe.parent().ok_or("no examples folder")?.to_path_buf(),
        scratch: a.out.join("json"),
        bayes_gates: a.bayes_gates,
    };
    std::fs::create_dir_all(&sitting.scratch)?;
    let points = measure(&sitting)?;
    std::fs::write(a.out.join("scaling.csv"), csv(&points))?;
    for network in ["lenet", "attention"] {
        figure(&points, network).save(a.out.join(format!("scaling_{network}.png")))?;
    }
    println!("wrote {}", a.out.join("scaling.csv").display());
    Ok(())
}
