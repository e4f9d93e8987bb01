//! The `fanaroff` command: run experiment files, sweep grids locally or on
//! SLURM, inspect data. `fanaroff --help` lists everything.

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};
use fanaroff_cli::{
    Experiment, RunOptions, SlurmOptions, Sweep, collect, evaluate_ensemble, evaluate_saved,
    fits_summary, release_stats, run,
};
use fanaroff_data::download;
use fanaroff_data::mirabest::{RELEASES, Release};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Uncertainty-aware radio-galaxy classification: experiments, sweeps, data.
#[derive(Parser)]
#[command(name = "fanaroff", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train and evaluate one experiment file; writes record.json, the model,
    /// checkpoints and history into the output folder (a killed run resumes).
    Train {
        /// The experiment (TOML).
        experiment: PathBuf,
        /// Output folder [runs/<experiment name>].
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        exec: Exec,
    },
    /// Evaluate a saved model on the test data of an experiment file.
    Evaluate {
        /// The experiment (TOML) the model was trained with.
        experiment: PathBuf,
        /// The model weights (model.safetensors of a run folder).
        #[arg(long)]
        model: PathBuf,
        #[command(flatten)]
        exec: Exec,
    },
    /// Evaluate finished deterministic runs (same data and split) as a deep
    /// ensemble; prints the metrics as JSON.
    Ensemble {
        /// Run folders, each with experiment.toml and model.safetensors.
        #[arg(required = true, num_args = 2..)]
        runs: Vec<PathBuf>,
        #[command(flatten)]
        exec: Exec,
    },
    /// Expand a grid file into numbered runs and run them.
    #[command(subcommand)]
    Sweep(SweepCommand),
    /// Calibration report of saved predictions (every metric, diagrams).
    Calibrate(fanaroff_cli::CalibrateArgs),
    /// Inspect or download data.
    #[command(subcommand)]
    Data(DataCommand),
}

/// Execution settings shared by the commands that train.
#[derive(Args)]
struct Exec {
    /// Threads of the numeric pool [all cores]; results are reproducible
    /// for the same seed and thread count.
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
}

/// The sweep folder of a grid.
#[derive(Args)]
struct SweepDir {
    /// The grid (TOML: [base] experiment and [grid] axes).
    grid: PathBuf,
    /// Sweep folder [sweeps/<grid file stem>].
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum SweepCommand {
    /// List the runs of a grid with their index and settings.
    Plan(SweepDir),
    /// Run one index (a no-op when it has a record; resumes a killed one).
    Run {
        #[command(flatten)]
        dir: SweepDir,
        /// The index (SLURM: $SLURM_ARRAY_TASK_ID).
        #[arg(long)]
        index: usize,
        #[command(flatten)]
        exec: Exec,
    },
    /// Run every unfinished index on this machine with a pool of workers.
    Local {
        #[command(flatten)]
        dir: SweepDir,
        /// Worker processes at once.
        #[arg(short = 'j', long, default_value_t = 1)]
        jobs: usize,
        /// Threads per worker.
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
    /// Write an sbatch --array script for the unfinished indices.
    Slurm {
        #[command(flatten)]
        dir: SweepDir,
        #[command(flatten)]
        resources: SlurmArgs,
        /// Include finished indices too (they are no-ops).
        #[arg(long)]
        all: bool,
        /// Where the script goes [<sweep folder>/sweep.sbatch].
        #[arg(long)]
        script: Option<PathBuf>,
        /// Submit it with sbatch.
        #[arg(long)]
        submit: bool,
    },
    /// Re-evaluate every finished run from its saved model with this
    /// version's metrics (the records' metrics are replaced).
    Reevaluate {
        #[command(flatten)]
        dir: SweepDir,
        #[command(flatten)]
        exec: Exec,
    },
    /// Merge the records into runs.csv, summary.csv and summary.md (mean ±
    /// std over seeds); list missing and failed indices.
    Collect(SweepDir),
}

/// Resources of each SLURM array task.
#[derive(Args)]
struct SlurmArgs {
    /// Partition [the cluster's default].
    #[arg(long)]
    partition: Option<String>,
    /// Account to charge.
    #[arg(long)]
    account: Option<String>,
    /// Wall-time limit per task.
    #[arg(long, default_value = "04:00:00")]
    time: String,
    /// Memory per task.
    #[arg(long, default_value = "8G")]
    mem: String,
    /// CPUs per task (also the run's thread count).
    #[arg(long, default_value_t = 2)]
    cpus: usize,
    /// At most this many tasks at once.
    #[arg(long)]
    throttle: Option<usize>,
}

impl From<SlurmArgs> for SlurmOptions {
    fn from(a: SlurmArgs) -> Self {
        SlurmOptions {
            partition: a.partition,
            account: a.account,
            time: a.time,
            mem: a.mem,
            cpus: a.cpus,
            throttle: a.throttle,
        }
    }
}

#[derive(Subcommand)]
enum DataCommand {
    /// Counts of a MiraBest release per split, subset and class.
    Stats {
        /// The release (.tar.gz or folder).
        path: PathBuf,
    },
    /// Header and pixel statistics of a FITS cut-out, and of its MiraBest
    /// processing.
    Fits {
        /// The FITS file.
        file: PathBuf,
    },
    /// Download a published MiraBest release (or any URL with its md5);
    /// resumes a partial download and keeps the file only if its md5 matches.
    Fetch(FetchArgs),
}

#[derive(Args)]
struct FetchArgs {
    /// The release: full, basic (FRI/FRII, 9 batches) or basic-2019 (the
    /// first basic release, the one in shared/data).
    #[arg(long, default_value = "full", conflicts_with = "url",
          value_parser = PossibleValuesParser::new(RELEASES.map(|r| r.name)))]
    release: String,
    /// Download this URL instead of a named release.
    #[arg(long, requires = "md5")]
    url: Option<String>,
    /// The md5 (hex) the file at --url must have.
    #[arg(long, requires = "url")]
    md5: Option<String>,
    /// Folder to save into.
    #[arg(long, default_value = "data")]
    out: PathBuf,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    fanaroff_cli::init_stderr_log();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cmd: Command) -> Res<()> {
    match cmd {
        Command::Train {
            experiment,
            out,
            exec,
        } => train(&experiment, out, &exec),
        Command::Evaluate {
            experiment,
            model,
            exec,
        } => evaluate_model(&experiment, &model, &exec),
        Command::Ensemble { runs, exec } => {
            if let Some(t) = exec.threads {
                fanaroff_tensor::set_num_threads(t)?;
            }
            let m = evaluate_ensemble(&runs)?;
            println!("{}", serde_json::to_string_pretty(&m)?);
            Ok(())
        }
        Command::Sweep(s) => sweep(s),
        Command::Data(DataCommand::Stats { path }) => show(release_stats(&path)?),
        Command::Calibrate(args) => {
            println!("{}", args.run()?);
            Ok(())
        }
        Command::Data(DataCommand::Fits { file }) => show(fits_summary(&file)?),
        Command::Data(DataCommand::Fetch(args)) => fetch(&args),
    }
}

/// `data fetch`: prints the path of the verified file.
fn fetch(a: &FetchArgs) -> Res<()> {
    let progress = !a.no_progress;
    let got = match (&a.url, &a.md5) {
        (Some(url), Some(md5)) => {
            // The URL's last path segment, without a query.
            let name = url.split(['?', '#']).next().unwrap_or(url);
            let name = name
                .rsplit('/')
                .find(|s| !s.is_empty())
                .unwrap_or("download");
            download(url, md5, &a.out.join(name), progress)?
        }
        _ => {
            let r = Release::named(&a.release).ok_or("unknown release")?;
            eprintln!("{}: {}\n  from {}", r.name, r.about, r.url);
            r.fetch(&a.out, progress)?
        }
    };
    if got.received == 0 {
        eprintln!("already there, md5 verified");
    }
    println!("{}", got.path.display());
    Ok(())
}

fn show(text: String) -> Res<()> {
    print!("{text}");
    Ok(())
}

fn train(path: &Path, out: Option<PathBuf>, exec: &Exec) -> Res<()> {
    let exp = Experiment::from_file(path)?;
    let dir = out.unwrap_or_else(|| Path::new("runs").join(&exp.name));
    let opts = RunOptions::new(&dir)
        .threads(exec.threads)
        .progress(!exec.no_progress);
    let r = run(&exp, &opts)?;
    println!(
        "{} (seed {}), {}: {} epochs, best {:?}, {:.1} s",
        r.name, r.seed, r.data, r.epochs_run, r.best_epoch, r.train_seconds
    );
    for (k, v) in &r.metrics {
        println!("  {k:<22} {v:.4}");
    }
    println!("wrote {}", dir.join("record.json").display());
    Ok(())
}

fn evaluate_model(path: &Path, model: &Path, exec: &Exec) -> Res<()> {
    let exp = Experiment::from_file(path)?;
    if let Some(t) = exec.threads {
        fanaroff_tensor::set_num_threads(t)?;
    }
    let m = evaluate_saved(&exp, model)?;
    println!("{}", serde_json::to_string_pretty(&m)?);
    Ok(())
}

fn open(d: &SweepDir) -> Res<Sweep> {
    let stem = d
        .grid
        .file_stem()
        .map_or("sweep".into(), |s| s.to_string_lossy().into_owned());
    let dir = d
        .out
        .clone()
        .unwrap_or_else(|| Path::new("sweeps").join(stem));
    Ok(Sweep::open(&d.grid, &dir)?)
}

fn sweep(cmd: SweepCommand) -> Res<()> {
    match cmd {
        SweepCommand::Plan(d) => {
            let s = open(&d)?;
            for r in s.grid().runs()? {
                println!(
                    "{:>4}  {:<8}  {}",
                    r.index,
                    format!("{:?}", s.state(r.index)).to_lowercase(),
                    r.label()
                );
            }
            println!("{} runs; folder {}", s.grid().len(), s.dir().display());
            Ok(())
        }
        SweepCommand::Run { dir, index, exec } => {
            let s = open(&dir)?;
            match s.run_index(index, exec.threads, !exec.no_progress)? {
                None => println!("index {index}: already done"),
                Some(r) => println!(
                    "index {index}: done in {:.1} s (test error {:.4})",
                    r.train_seconds,
                    r.metric("test_error_mean")?
                ),
            }
            Ok(())
        }
        SweepCommand::Local { dir, jobs, threads } => local(&open(&dir)?, jobs, threads),
        SweepCommand::Slurm {
            dir,
            resources,
            all,
            script,
            submit,
        } => slurm(&open(&dir)?, resources.into(), all, script, submit),
        SweepCommand::Reevaluate { dir, exec } => reevaluate(&open(&dir)?, &exec),
        SweepCommand::Collect(d) => {
            let s = open(&d)?;
            let c = collect(&s)?;
            c.write(s.dir())?;
            print!("{}", c.summary_markdown());
            println!(
                "wrote {}/{{runs.csv,summary.csv,summary.md,paired.csv}} (studies: rows.csv, rows_summary.csv too)",
                s.dir().display()
            );
            for p in c.write_heatmaps(s.dir())? {
                println!("wrote {}", p.display());
            }
            Ok(())
        }
    }
}

fn slurm(
    s: &Sweep,
    opts: SlurmOptions,
    all: bool,
    script: Option<PathBuf>,
    submit: bool,
) -> Res<()> {
    let indices = if all {
        (0..s.grid().len()).collect()
    } else {
        s.unfinished()
    };
    let exe = std::env::current_exe()?;
    let text = opts.script(s, &indices, &exe, &std::env::current_dir()?)?;
    let path = script.unwrap_or_else(|| s.dir().join("sweep.sbatch"));
    std::fs::create_dir_all(s.dir().join("slurm"))?;
    std::fs::write(&path, text)?;
    println!("wrote {} ({} tasks)", path.display(), indices.len());
    if submit {
        let st = std::process::Command::new("sbatch").arg(&path).status()?;
        if !st.success() {
            return Err(format!("sbatch {} failed: {st}", path.display()).into());
        }
    }
    Ok(())
}

fn local(s: &Sweep, jobs: usize, threads: usize) -> Res<()> {
    let todo = s.unfinished().len();
    eprintln!(
        "{todo} of {} runs to do, {jobs} at a time, {threads} threads each",
        s.grid().len()
    );
    let exe = std::env::current_exe()?;
    let mut finished = 0;
    let failed = s.run_local(&exe, jobs, threads, &mut |i, ev| match ev {
        None => eprintln!("start  {i:>4}"),
        Some(ok) => {
            finished += 1;
            eprintln!(
                "{} {i:>4}  ({finished}/{todo})",
                if ok { "done  " } else { "FAILED" }
            );
        }
    })?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("indices {failed:?} failed; see their error.txt and log.txt").into())
    }
}

fn reevaluate(s: &Sweep, exec: &Exec) -> Res<()> {
    if let Some(t) = exec.threads {
        fanaroff_tensor::set_num_threads(t)?;
    }
    for i in 0..s.grid().len() {
        match s.reevaluate(i)? {
            Some(r) => println!(
                "index {i}: re-evaluated in {:.1} s (test error {:.4})",
                r.eval_seconds,
                r.metric("test_error_mean")?
            ),
            None => println!("index {i}: not finished, skipped"),
        }
    }
    Ok(())
}
