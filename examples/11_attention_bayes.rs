//! Bayesian attention: the attention-gated CNN of Bowles et al. 2021 with
//! variational gates and classifier (plain backbone), trained by the ELBO,
//! so each attention map has a per-pixel mean and standard deviation over
//! weight draws. A front end of the map-spread study (`[study] kind =
//! "map_spread"`): how uncertain the maps are for right and wrong test
//! predictions and for MBFRUncertain sources, beside the classifier's own
//! uncertainty (predictive entropy and mutual information), over seeds; and
//! a figure of mean and spread maps of the first seed.
//!
//! ```text
//! cargo run --release --example 11_attention_bayes -- --epochs 100 --seeds 0,1,2 --threads 2
//! ```
//!
//! Every run keeps a checkpoint per epoch, so a killed sweep resumes.

use clap::Parser;
use fanaroff_examples::{DataArgs, exit_on_error, run_grid, spread_figure};
use std::path::PathBuf;

/// 11_attention_bayes: attention-gated CNN with variational gates and classifier
#[derive(Parser, Debug)]
#[command(name = "11_attention_bayes")]
struct Args {
    #[command(flatten)]
    data: DataArgs,
    /// Training seeds
    #[arg(long, value_delimiter = ',', default_value = "0")]
    seeds: Vec<u64>,
    /// Epochs
    #[arg(long, default_value_t = 100)]
    epochs: usize,
    /// Minibatch size
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Adam learning rate
    #[arg(long, default_value_t = 5e-5)]
    lr: f32,
    /// Posterior temperature of the ELBO
    #[arg(long, default_value_t = 0.01)]
    temperature: f64,
    /// Weight draws for predictions and map statistics
    #[arg(long, default_value_t = 20)]
    draws: usize,
    /// Images per group in the figure (0: no figure)
    #[arg(long, default_value_t = 3)]
    figure_rows: usize,
    /// Threads of the numeric pool [all]
    #[arg(long)]
    threads: Option<usize>,
    /// Memory the buffer pool may hold, MiB (default: the library's, 512)
    #[arg(long)]
    pool_mib: Option<usize>,
    /// Sweep folder: runs, tables, figure
    #[arg(long, default_value = "target/attention_bayes")]
    out: PathBuf,
}

/// The paper's network with variational gates (with biases) and
/// classifier, the paper's data and recipe, one run per seed.
fn grid(a: &Args) -> String {
    format!(
        "[base]\nname = \"attention_bayes\"\n[base.data]\n{}\nscaling = \"symmetric\"\n\
         augment = {{ max_rotation = 180.0, max_shift = 2.0, scale_range = [0.9, 1.1] }}\n\
         [base.model]\nkind = \"attention_net\"\nnet = {{ gate_bias = true }}\n\
         layers = {{ gates = \"bayes\", head = \"bayes\" }}\nelbo = {{ temperature = {} }}\n\
         [base.training]\nepochs = {}\nbatch_size = {}\noptimizer = {{ kind = \"adam\", lr = {} }}\n\
         progress = false\n\
         [base.evaluation]\nsamples = {d}\nentropy_samples = {d}\n\
         [base.study]\nkind = \"map_spread\"\ndraws = {d}\n[grid]\nseed = {:?}\n",
        a.data.toml(),
        a.temperature,
        a.epochs,
        a.batch,
        a.lr,
        a.seeds,
        d = a.draws
    )
}

fn main() {
    let a = Args::parse();
    exit_on_error((|| {
        if let Some(mib) = a.pool_mib {
            fanaroff::tensor::pool::set_max_bytes(mib << 20);
        }
        let (sweep, c) = run_grid(&grid(&a), &a.out, a.threads)?;
        if a.figure_rows > 0 {
            let path = a.out.join("attention_bayes.png");
            spread_figure(&sweep.run_dir(0), a.figure_rows, a.draws, &path)?;
        }
        print!("{}", c.rows_summary_csv());
        println!("tables and figure in {}", a.out.display());
        Ok(())
    })());
}
