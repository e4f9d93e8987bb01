//! Where the networks look: the fraction of attention and of saliency
//! (gradient, gradient x input, LRP) on source pixels of the MBFRConfident
//! test images, for trained attention-gated networks and for the plain
//! LeNet trained with the same recipe. A front end of the attention study
//! (`[study] kind = "attention"`): the gated runs are studied through
//! `study.from`, the LeNets are trained by a second grid, and a figure puts
//! their maps side by side.
//!
//! ```text
//! cargo run --release --example 09_attention_gating -- --aggs mean --constant-lr --out runs/ag
//! cargo run --release --example 10_attention_saliency -- --runs runs/ag/runs/0000 --lenet-epochs 100
//! ```
//!
//! Saliency maps are signed; their mass is that of their absolute value
//! (summed over the input channel). Attention maps are non-negative after
//! their minimum is subtracted. Source pixels are the non-zero pixels of
//! the processed image.

use clap::Parser;
use fanaroff_examples::{DataArgs, exit_on_error, run_grid, saliency_figure};
use std::path::PathBuf;

/// 10_attention_saliency: attention and saliency mass on source pixels
#[derive(Parser, Debug)]
#[command(name = "10_attention_saliency")]
struct Args {
    /// Finished attention_net run folders (e.g. from 09_attention_gating)
    #[arg(long, value_delimiter = ',')]
    runs: Vec<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
    /// Also train the plain LeNet with the attention recipe (batch 16,
    /// constant Adam rate, the paper's augmentation) for N epochs [0: no LeNet]
    #[arg(long, default_value_t = 0)]
    lenet_epochs: usize,
    /// The LeNet's training seeds
    #[arg(long, value_delimiter = ',', default_value = "0,1,2")]
    lenet_seeds: Vec<u64>,
    /// The LeNet's Adam learning rate (the attention recipe's)
    #[arg(long, default_value_t = 5e-5)]
    lenet_lr: f32,
    /// LRP stabiliser (the input layer uses the z^B rule on [-1, 1])
    #[arg(long, default_value_t = 1e-6)]
    epsilon: f32,
    /// Images per explanation batch
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Right and wrong test images in the figure
    #[arg(long, default_value_t = 3)]
    figure_rows: usize,
    /// Threads of the numeric pool [all]
    #[arg(long)]
    threads: Option<usize>,
    /// Folder of both sweeps, the tables and the figure
    #[arg(long, default_value = "target/attention_saliency")]
    out: PathBuf,
}

/// The attention study's keys.
fn study(a: &Args) -> String {
    format!(
        "[base.study]\nkind = \"attention\"\nbatch_size = {}\nlrp = {{ epsilon = {} }}\n",
        a.batch, a.epsilon
    )
}

/// The study over the given attention runs.
fn gated_grid(a: &Args) -> String {
    let dirs: Vec<String> = a.runs.iter().map(|d| d.display().to_string()).collect();
    format!(
        "[base]\nname = \"attention_saliency\"\n[base.data]\n{}\n\
         [base.model]\nkind = \"attention_net\"\n{}[grid]\n\"study.from\" = {dirs:?}\n",
        a.data.toml(),
        study(a)
    )
}

/// The plain LeNet on the attention recipe, then the same study.
fn lenet_grid(a: &Args) -> String {
    format!(
        "[base]\nname = \"lenet_saliency\"\n[base.data]\n{}\nscaling = \"symmetric\"\n\
         augment = {{ max_rotation = 180.0, max_shift = 2.0, scale_range = [0.9, 1.1] }}\n\
         [base.model]\nkind = \"lenet\"\n\
         [base.training]\nepochs = {}\nbatch_size = 16\noptimizer = {{ kind = \"adam\", lr = {} }}\n\
         schedule = \"none\"\nprogress = false\n\
         [base.evaluation]\nsamples = 1\nentropy_samples = 1\n{}[grid]\nseed = {:?}\n",
        a.data.toml(),
        a.lenet_epochs,
        a.lenet_lr,
        study(a),
        a.lenet_seeds
    )
}

fn main() {
    let a = Args::parse();
    exit_on_error((|| {
        if a.runs.is_empty() && a.lenet_epochs == 0 {
            return Err("nothing to explain: give --runs DIR or --lenet-epochs N".into());
        }
        let mut shown: Vec<PathBuf> = a.runs.first().cloned().into_iter().collect();
        if !a.runs.is_empty() {
            let (_, c) = run_grid(&gated_grid(&a), &a.out.join("gated"), a.threads)?;
            print!("{}", c.rows_csv());
        }
        if a.lenet_epochs > 0 {
            let (sweep, c) = run_grid(&lenet_grid(&a), &a.out.join("lenet"), a.threads)?;
            print!("{}", c.rows_summary_csv());
            shown.push(sweep.run_dir(0));
        }
        if !shown.is_empty() && a.figure_rows > 0 {
            saliency_figure(&shown, a.figure_rows, &a.out.join("attention_saliency.png"))?;
        }
        println!("tables and figure in {}", a.out.display());
        Ok(())
    })());
}
