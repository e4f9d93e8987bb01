//! Cold-posterior sweep of the BBB LeNet on MBFRConfident: test error, NLL
//! and UCE against the posterior temperature T, for one or more priors and
//! seeds. A showcase of the sweep library behind `fanaroff sweep`: the flags
//! become a grid file (`--work/temperature_grid.toml`), each grid index is one run
//! folder (resumable; a finished index is skipped), and the records are
//! collected into mean ± std over seeds. On a cluster, run the same grid
//! with `fanaroff sweep slurm` instead (docs/sweeps.md).
//!
//! ```text
//! cargo run --release --example 07_temperature_sweep -- --epochs 20 --threads 2
//! cargo run --release --example 07_temperature_sweep -- --temperatures 1,0.01 --priors "gmm;gaussian:0.1" --seeds 0,1,2
//! ```

use fanaroff::bayes::KlEstimator;
use fanaroff::cli::models::BbbLenet;
use fanaroff::cli::{Collected, Experiment, ModelSpec, Sweep, collect};
use fanaroff::plot::{Color, Figure, LineChart};
use fanaroff::train::TrainConfig;
use fanaroff_examples::{Flags, argv, data_source, exit_on_error, init_logging};
use std::path::{Path, PathBuf};

const HELP: &str = "07_temperature_sweep: BBB LeNet test error / NLL / UCE vs temperature and prior

options (defaults in brackets):
  --data PATH          MiraBest full release; must exist [../shared/data/mirabest/MiraBest_full_batches.tar.gz, else synthetic]
  --synthetic N        N synthetic galaxies instead [off]
  --temperatures LIST  comma-separated T values [1,0.1,0.01,0.001,0.0001]
  --priors LIST        semicolon-separated prior specs [gmm]
  --kl K               KL estimator: auto (closed form where there is one) | mc (single-sample, the paper's) | mc:N [auto]
  --seeds LIST         comma-separated training seeds [0]
  --epochs N           epochs per run [20]
  --lr LR              Adam learning rate [5e-4]
  --samples N          MC draws for the test metrics [100]
  --threads N          rayon threads [all]
  --work DIR           grid, run folders and collected tables [target/temperature_sweep]
  --docs DIR           where the table and plot go [docs]";

const FLAGS: [&str; 12] = [
    "--data",
    "--synthetic",
    "--temperatures",
    "--priors",
    "--kl",
    "--seeds",
    "--epochs",
    "--lr",
    "--samples",
    "--threads",
    "--work",
    "--docs",
];

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The grid file of the flags: the BBB LeNet experiment as `[base]`, priors
/// x temperatures x seeds as axes.
fn grid_text(f: &Flags) -> Res<String> {
    let mut base = Experiment::from_toml("data = { synthetic = 832 }")?;
    base.name = "temperature_sweep".into();
    data_source(f, &mut base.data)?;
    base.model = ModelSpec::default();
    if let Some(m) = base.model.settings_mut::<BbbLenet>() {
        m.variational = m.variational.clone().kl(f.get("--kl", KlEstimator::Auto)?);
    }
    base.training = TrainConfig::default()
        .epochs(f.get("--epochs", 20)?)
        .adam(f.get("--lr", 5e-4)?)
        .progress(false);
    base.evaluation.samples = f.get("--samples", 100)?;
    base.check()?;
    let temps: Vec<f64> = f
        .list("--temperatures")?
        .unwrap_or(vec![1.0, 1e-1, 1e-2, 1e-3, 1e-4]);
    let priors = f.get("--priors", "gmm".to_string())?;
    let seeds: Vec<u64> = f.list("--seeds")?.unwrap_or(vec![0]);
    let quoted: Vec<String> = priors
        .split(';')
        .map(|p| format!("{:?}", p.trim()))
        .collect();
    let list = |v: Vec<String>| v.join(", ");
    let base_table: toml::Table = toml::from_str(&base.to_toml()?)?;
    let mut doc = toml::Table::new();
    doc.insert("base".into(), toml::Value::Table(base_table));
    Ok(format!(
        "{}\n[grid]\n\"model.variational.prior\" = [{}]\n\"model.elbo.temperature\" = [{}]\nseed = [{}]\n",
        toml::to_string(&doc)?,
        list(quoted),
        list(temps.iter().map(|t| format!("{t:?}")).collect()),
        list(seeds.iter().map(|s| s.to_string()).collect()),
    ))
}

/// Test error vs T, one line per prior (mean over seeds).
fn plot(c: &Collected, path: &Path) -> Res<()> {
    let mut chart = LineChart::new("BBB LeNet on MBFRConfident: cold posteriors")
        .x_log(true)
        .x_label("posterior temperature T")
        .y_label("test error (mean over seeds)");
    let groups = c.groups();
    let priors: Vec<String> =
        groups
            .iter()
            .map(|(k, _)| k[0].clone())
            .fold(Vec::new(), |mut v, p| {
                if !v.contains(&p) {
                    v.push(p);
                }
                v
            });
    for (j, prior) in priors.iter().enumerate() {
        let (mut ts, mut errs) = (Vec::new(), Vec::new());
        for (key, rs) in groups.iter().filter(|(k, _)| &k[0] == prior) {
            ts.push(key[1].parse::<f64>()?);
            errs.push(
                rs.iter().map(|r| r.metrics["test_error_mean"]).sum::<f64>() / rs.len() as f64,
            );
        }
        if ts.len() >= 2 {
            chart = chart.line(prior.as_str(), &ts, &errs, Color::palette(j));
        }
    }
    chart.save(path)?;
    Ok(())
}

fn main() {
    init_logging();
    exit_on_error((|| {
        let f = Flags::parse(&argv(), &FLAGS, HELP)?;
        let work: PathBuf = f.get("--work", PathBuf::from("target/temperature_sweep"))?;
        let docs: PathBuf = f.get("--docs", PathBuf::from("docs"))?;
        std::fs::create_dir_all(&work)?;
        let grid_path = work.join("temperature_grid.toml");
        std::fs::write(&grid_path, grid_text(&f)?)?;
        let sweep = Sweep::open(&grid_path, &work)?;
        let todo = sweep.unfinished();
        eprintln!(
            "{} runs, {} to do (finished ones are skipped)",
            sweep.grid().len(),
            todo.len()
        );
        for i in todo {
            let planned = sweep.grid().run(i)?;
            eprintln!("== run {i}: {}", planned.label());
            sweep.run_index(i, f.opt("--threads")?, false)?;
        }
        let c = collect(&sweep)?;
        c.write(&work)?;
        std::fs::create_dir_all(&docs)?;
        let cmd: Vec<String> = std::env::args().skip(1).collect();
        let md = format!(
            "<!-- written by `cargo run --release --example 07_temperature_sweep -- {}` -->\n\nKL estimator: {}.\n\n{}",
            cmd.join(" "),
            f.get("--kl", KlEstimator::Auto)?,
            c.summary_markdown()
        );
        std::fs::write(docs.join("bayes_temperature_sweep.md"), &md)?;
        plot(&c, &docs.join("bayes_temperature_sweep.png"))?;
        println!(
            "{md}\nwrote {}/bayes_temperature_sweep.{{md,png}}",
            docs.display()
        );
        Ok(())
    })());
}
