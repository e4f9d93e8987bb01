//! Prunes trained BBB LeNets 0..90 % with each criterion and measures test
//! error, NLL, UCE and per-class UCE on MBFRConfident's test set (Mohan et
//! al. 2022, section "pruning"). A front end of the prune study
//! (`[study] kind = "prune"`): it writes a grid, runs it in this process
//! and collects the tables; `experiments/prune/small.toml` is the same as
//! a file for `fanaroff sweep`.
//!
//! ```text
//! fanaroff train experiments/bbb_default.toml --out runs/s0      # ... s1, s2
//! cargo run --release --example 08_pruning_sweep -- --model runs/s0 --model runs/s1
//! cargo run --release --example 08_pruning_sweep   # trains quick models (3 seeds, 30 epochs)
//! ```
//!
//! Writes `rows.csv`, `rows_summary.csv` (mean ± std over seeds),
//! `paired.csv` and a figure into `--out`; a killed sweep resumes.

use clap::Parser;
use fanaroff::cli::Collected;
use fanaroff::plot::{Color, Figure, LineChart};
use fanaroff_examples::{DataArgs, exit_on_error, run_grid, series, summary_rows};
use std::path::PathBuf;

/// 08_pruning_sweep: prune trained BBB LeNets 0..90 % with each criterion (the prune study)
#[derive(Parser, Debug)]
#[command(name = "08_pruning_sweep")]
struct Args {
    /// A finished BBB LeNet run folder, repeated per seed [train quick models]
    #[arg(long = "model")]
    models: Vec<PathBuf>,
    /// Quick models to train when no --model is given
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Epochs of a quick model
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    #[command(flatten)]
    data: DataArgs,
    /// Criteria (snr, snr-db, fisher-adam[-obd], fisher-grad[-obd], magnitude, random)
    #[arg(long, value_delimiter = ',')]
    criteria: Option<Vec<String>>,
    /// Pruned fractions [0, 0.1, ..., 0.9]
    #[arg(long, value_delimiter = ',')]
    fractions: Option<Vec<f64>>,
    /// Layers: all, fully_connected or convolutional [fully_connected]
    #[arg(long)]
    layers: Option<String>,
    /// Scope: per_layer or global [per_layer]
    #[arg(long)]
    scope: Option<String>,
    /// Weight draws per prediction [100]
    #[arg(long)]
    samples: Option<usize>,
    /// Fine-tune each pruned model this many epochs
    #[arg(long, default_value_t = 0)]
    finetune_epochs: usize,
    /// Threads of the numeric pool [all]
    #[arg(long)]
    threads: Option<usize>,
    /// Sweep folder: runs, tables, figure
    #[arg(long, default_value = "target/pruning_sweep")]
    out: PathBuf,
}

/// The study's keys given on the command line (the rest keep its defaults).
fn study_keys(a: &Args) -> String {
    let mut s = format!(
        "kind = \"prune\"\nfinetune_epochs = {}\n",
        a.finetune_epochs
    );
    if let Some(c) = &a.criteria {
        s += &format!("criteria = {c:?}\n");
    }
    if let Some(f) = &a.fractions {
        s += &format!("fractions = {f:?}\n");
    }
    for (k, v) in [("layers", &a.layers), ("scope", &a.scope)] {
        if let Some(v) = v {
            s += &format!("{k} = {v:?}\n");
        }
    }
    if let Some(n) = a.samples {
        s += &format!("samples = {n}\n");
    }
    s
}

/// A grid over training seeds (quick models) or over the given runs.
fn grid(a: &Args) -> String {
    let axis = if a.models.is_empty() {
        format!("seed = {:?}", (0..a.seeds).collect::<Vec<_>>())
    } else {
        let dirs: Vec<String> = a.models.iter().map(|d| d.display().to_string()).collect();
        format!("\"study.from\" = {dirs:?}")
    };
    format!(
        "[base]\nname = \"pruning_sweep\"\n[base.data]\n{}\n[base.model]\nkind = \"bbb_lenet\"\n\
         [base.training]\nepochs = {}\noptimizer = {{ kind = \"adam\", lr = 5e-4 }}\nprogress = false\n\
         [base.evaluation]\nsamples = 20\nentropy_samples = 20\n[base.study]\n{}[grid]\n{axis}\n",
        a.data.toml(),
        a.epochs,
        study_keys(a)
    )
}

/// Test error against the pruned fraction: the mean over seeds per criterion.
fn figure(c: &Collected, a: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut chart = LineChart::new("test error: mean over training seeds")
        .x_label("pruned fraction of the selected weights")
        .y_label("test error");
    let rows = summary_rows(c);
    for (k, (crit, xs, ys)) in series(&rows, "criterion", "fraction", "test_error_mean_mean")
        .iter()
        .enumerate()
    {
        chart = chart.line(crit, xs, ys, Color::palette(k));
    }
    chart.save_both(a.out.join("pruning_sweep_error"))?;
    Ok(())
}

fn main() {
    let a = Args::parse();
    exit_on_error((|| {
        let (_, c) = run_grid(&grid(&a), &a.out, a.threads)?;
        figure(&c, &a)?;
        print!("{}", c.rows_summary_csv());
        println!("tables and figure in {}", a.out.display());
        Ok(())
    })());
}
