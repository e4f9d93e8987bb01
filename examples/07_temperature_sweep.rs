//! Cold-posterior sweep of the BBB LeNet on MBFRConfident: test error, NLL
//! and UCE against the posterior temperature T, for one or more priors and
//! seeds. A showcase of the sweep library behind `fanaroff sweep`: the flags
//! become a grid file (`--work/front_end.toml`), each grid index is one run
//! folder (resumable; a finished index is skipped), and the records are
//! collected into mean ± std over seeds. On a cluster, run the same grid
//! with `fanaroff sweep slurm` instead (docs/sweeps.md).
//!
//! ```text
//! cargo run --release --example 07_temperature_sweep -- --epochs 20 --threads 2
//! cargo run --release --example 07_temperature_sweep -- --temperatures 1,0.01 --priors "gmm;gaussian:0.1" --seeds 0,1,2
//! ```

use clap::Parser;
use fanaroff::bayes::KlEstimator;
use fanaroff::cli::Collected;
use fanaroff::plot::{Color, Figure, LineChart};
use fanaroff_examples::{DataArgs, exit_on_error, run_grid, series};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// 07_temperature_sweep: BBB LeNet test error / NLL / UCE vs temperature and prior
#[derive(Parser, Debug)]
#[command(name = "07_temperature_sweep")]
struct Args {
    #[command(flatten)]
    data: DataArgs,
    /// Posterior temperatures
    #[arg(long, value_delimiter = ',', default_value = "1,0.1,0.01,0.001,0.0001")]
    temperatures: Vec<f64>,
    /// Prior specs, separated by semicolons
    #[arg(long, value_delimiter = ';', default_value = "gmm")]
    priors: Vec<String>,
    /// KL estimator: auto (closed form where there is one), mc (one draw, the paper's) or mc:N
    #[arg(long, default_value = "auto")]
    kl: KlEstimator,
    /// Training seeds
    #[arg(long, value_delimiter = ',', default_value = "0")]
    seeds: Vec<u64>,
    /// Epochs per run
    #[arg(long, default_value_t = 20)]
    epochs: usize,
    /// Adam learning rate
    #[arg(long, default_value_t = 5e-4)]
    lr: f32,
    /// MC draws for the test metrics
    #[arg(long, default_value_t = 100)]
    samples: usize,
    /// Threads of the numeric pool [all]
    #[arg(long)]
    threads: Option<usize>,
    /// Grid, run folders, collected tables and the figure
    #[arg(long, default_value = "target/temperature_sweep")]
    work: PathBuf,
}

/// The BBB LeNet experiment as `[base]`, priors x temperatures x seeds.
fn grid(a: &Args) -> Result<String, toml::ser::Error> {
    let priors: Vec<&str> = a.priors.iter().map(|p| p.trim()).collect();
    Ok(format!(
        "[base]\nname = \"temperature_sweep\"\n[base.data]\n{}\n\
         [base.model]\nkind = \"bbb_lenet\"\nvariational = {{ kl = {} }}\n\
         [base.training]\nepochs = {}\noptimizer = {{ kind = \"adam\", lr = {} }}\nprogress = false\n\
         [base.evaluation]\nsamples = {}\n[grid]\n\"model.variational.prior\" = {priors:?}\n\
         \"model.elbo.temperature\" = {:?}\nseed = {:?}\n",
        a.data.toml(),
        toml::Value::try_from(a.kl)?,
        a.epochs,
        a.lr,
        a.samples,
        a.temperatures,
        a.seeds
    ))
}

/// Test error vs T, one line per prior (mean over seeds).
fn plot(c: &Collected, a: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut chart = LineChart::new("BBB LeNet on MBFRConfident: cold posteriors")
        .x_log(true)
        .x_label("posterior temperature T")
        .y_label("test error (mean over seeds)");
    let rows: Vec<BTreeMap<String, String>> = c
        .groups()
        .iter()
        .map(|(key, rs)| {
            let err = rs.iter().map(|r| r.metrics["test_error_mean"]).sum::<f64>();
            let mean = err / rs.len() as f64;
            BTreeMap::from([
                ("prior".to_string(), key[0].clone()),
                ("t".to_string(), key[1].clone()),
                ("error".to_string(), mean.to_string()),
            ])
        })
        .collect();
    for (j, (prior, ts, errs)) in series(&rows, "prior", "t", "error").iter().enumerate() {
        chart = chart.line(prior, ts, errs, Color::palette(j));
    }
    chart.save(a.work.join("bayes_temperature_sweep.png"))?;
    Ok(())
}

fn main() {
    let a = Args::parse();
    exit_on_error((|| {
        let (_, c) = run_grid(&grid(&a)?, &a.work, a.threads)?;
        plot(&c, &a)?;
        println!("{}", c.summary_markdown());
        println!("tables and figure in {}", a.work.display());
        Ok(())
    })());
}
