//! The attention-gated CNN of Bowles et al. 2021 on MBFRConfident: trains
//! each normalisation x aggregation x seed and measures test accuracy, AUC
//! and the fraction of attention on source pixels. A front end of the
//! attention study (`[model] kind = "attention_net"`, `[study] kind =
//! "attention"`): it writes a grid, runs it in this process (a killed sweep
//! resumes), collects the tables and draws each setting's maps;
//! `experiments/attention/small.toml` is the same as a file for `fanaroff
//! sweep`.
//!
//! ```text
//! cargo run --release --example 09_attention_gating -- --norms softmax --aggs concat --epochs 100
//! cargo run --release --example 09_attention_gating -- --norms softmax,sigmoid,range,std_mean \
//!     --aggs concat,mean,deep_supervision,fine_tuned --seeds 0,1,2
//! ```

use clap::Parser;
use fanaroff_examples::{DataArgs, attention_maps_figure, exit_on_error, run_grid};
use std::path::PathBuf;

/// 09_attention_gating: attention-gated CNN (Bowles et al. 2021) on MBFRConfident
#[derive(Parser, Debug)]
#[command(name = "09_attention_gating")]
struct Args {
    #[command(flatten)]
    data: DataArgs,
    /// Normalisations: softmax, sigmoid, range, std_mean
    #[arg(long, value_delimiter = ',', default_value = "softmax")]
    norms: Vec<String>,
    /// Aggregations: concat, mean, deep_supervision, fine_tuned, mean_with_concat
    #[arg(long, value_delimiter = ',', default_value = "concat")]
    aggs: Vec<String>,
    /// Training seeds
    #[arg(long, value_delimiter = ',', default_value = "0")]
    seeds: Vec<u64>,
    /// Epochs (passes over the augmented training set)
    #[arg(long, default_value_t = 100)]
    epochs: usize,
    /// Second stage of fine_tuned (the combination alone)
    #[arg(long, default_value_t = 20)]
    finetune_epochs: usize,
    /// Minibatch size
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Adam learning rate
    #[arg(long, default_value_t = 5e-5)]
    lr: f32,
    /// Accuracy and AUC also over N augmented copies of the test set (the study code: 360)
    #[arg(long, default_value_t = 0)]
    tta: usize,
    /// Select the model by the validation NLL over N augmented copies (the study code's)
    #[arg(long, default_value_t = 0)]
    val_tta: usize,
    /// The study code's loss (cross-entropy of the softmax output) and selection by it
    #[arg(long)]
    reference_loss: bool,
    /// Constant learning rate, as the study code [plateau x0.95 after 3 epochs]
    #[arg(long)]
    constant_lr: bool,
    /// Kaiming-normal weights, as the study code's init_weights(kaiming)
    #[arg(long)]
    kaiming_init: bool,
    /// Correct and wrong test images per maps figure (0: no figures)
    #[arg(long, default_value_t = 4)]
    figure_rows: usize,
    /// Threads of the numeric pool [all]
    #[arg(long)]
    threads: Option<usize>,
    /// Memory the buffer pool may hold, MiB (default: the library's, 512;
    /// enough for a training step of this network since the fused gate)
    #[arg(long)]
    pool_mib: Option<usize>,
    /// Sweep folder: runs, tables, figures
    #[arg(long, default_value = "target/attention_gating")]
    out: PathBuf,
}

/// The recipe's keys that the flags switch on.
fn options(a: &Args) -> [String; 5] {
    let on = |b: bool, s: &str| if b { s.to_string() } else { String::new() };
    [
        on(a.kaiming_init, "init = \"kaiming\"\n")
            + &on(a.reference_loss, "loss = \"probabilities\"\n"),
        on(a.constant_lr, "schedule = \"none\"\n"),
        on(a.reference_loss, "monitor = { metric = \"val_prob_ce\" }\n"),
        on(a.val_tta > 0, &format!("val_tta = {}\n", a.val_tta)),
        on(a.tta > 0, &format!("tta = {}\n", a.tta)),
    ]
}

/// The grid: the paper's data and recipe, normalisation x aggregation x seed.
fn grid(a: &Args) -> String {
    let [model, schedule, monitor, val_tta, tta] = options(a);
    format!(
        "[base]\nname = \"attention_gating\"\n\
         [base.data]\n{}\nscaling = \"symmetric\"\n\
         augment = {{ max_rotation = 180.0, max_shift = 2.0, scale_range = [0.9, 1.1] }}\n\
         [base.model]\nkind = \"attention_net\"\nfinetune_epochs = {}\n{model}\
         [base.training]\nepochs = {}\nbatch_size = {}\noptimizer = {{ kind = \"adam\", lr = {} }}\n\
         progress = false\n{schedule}{monitor}\
         [base.evaluation]\nsamples = 1\nentropy_samples = 1\n{val_tta}\
         [base.study]\nkind = \"attention\"\n{tta}\
         [grid]\n\"model.net.normalisation\" = {:?}\n\"model.net.aggregation\" = {:?}\nseed = {:?}\n",
        a.data.toml(),
        a.finetune_epochs,
        a.epochs,
        a.batch,
        a.lr,
        a.norms,
        a.aggs,
        a.seeds
    )
}

fn main() {
    let a = Args::parse();
    exit_on_error((|| {
        if let Some(mib) = a.pool_mib {
            fanaroff::tensor::pool::set_max_bytes(mib << 20);
        }
        let (sweep, c) = run_grid(&grid(&a), &a.out, a.threads)?;
        // one maps figure per setting, from its first seed's run
        let first_seed = a.seeds[0].to_string();
        for (index, values, _) in c.runs.iter().filter(|r| r.1.last() == Some(&first_seed)) {
            if a.figure_rows > 0 {
                let name = format!("attention_maps_{}.png", values[..2].join("_"));
                attention_maps_figure(&sweep.run_dir(*index), a.figure_rows, &a.out.join(name))?;
            }
        }
        print!("{}", c.rows_summary_csv());
        println!("tables and figures in {}", a.out.display());
        Ok(())
    })());
}
