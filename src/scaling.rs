//! The scaling figure of `docs/performance.md`: seconds per training epoch
//! against batch size and threads, for the BBB LeNet (and its deterministic
//! twin) and the attention-gated CNN (plain and Bayesian gates), ours and
//! PyTorch's, measured alternately by running the benchmark programs
//! (`15_bench_vs_reference`, `bench_attention` and their PyTorch twins).

use crate::timing::BenchResult;
use fanaroff::plot::{Color, Legend, LineChart};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What to run.
#[derive(Debug, Clone)]
pub struct Sitting {
    /// Batch sizes.
    pub batches: Vec<usize>,
    /// Thread counts.
    pub threads: Vec<usize>,
    /// Timed epochs per point (after one warm-up).
    pub repeats: usize,
    /// The Python with torch.
    pub python: PathBuf,
    /// The folder of our example binaries.
    pub examples: PathBuf,
    /// Scratch folder for the programs' JSON.
    pub scratch: PathBuf,
    /// Also the attention net with Bayesian gates (twice the time).
    pub bayes_gates: bool,
}

/// One measured point.
#[derive(Debug, Clone)]
pub struct Point {
    /// `lenet` or `attention`.
    pub network: &'static str,
    /// `fanaroff` or `pytorch`.
    pub framework: &'static str,
    /// `bbb`, `det` (LeNet) or `det`, `bayes` (attention gates).
    pub variant: &'static str,
    /// Threads.
    pub threads: usize,
    /// Batch size.
    pub batch: usize,
    /// Median seconds per epoch.
    pub seconds: f64,
}

/// Runs `cmd`, which writes JSON to `out`, and reads it.
fn json_of(mut cmd: Command, out: &Path) -> BenchResult<Value> {
    let status = cmd.arg("--out").arg(out).status()?;
    if !status.success() {
        return Err(format!("{cmd:?} failed ({status})").into());
    }
    Ok(serde_json::from_str(&std::fs::read_to_string(out)?)?)
}

/// The four programs of one (network, threads, batch): ours then PyTorch's.
fn programs(s: &Sitting, network: &str, t: usize, b: usize) -> [(&'static str, Command); 2] {
    let args = |c: &mut Command| {
        c.args(["--threads", &t.to_string(), "--batch", &b.to_string()]);
        c.args(["--repeats", &s.repeats.to_string(), "--mb-repeats", "1"]);
    };
    let (mut ours, mut theirs) = if network == "lenet" {
        let mut o = Command::new(s.examples.join("15_bench_vs_reference"));
        o.args(["--samples", "1"]);
        let mut p = Command::new(&s.python);
        p.arg("bench/torch_lenet_epochs.py");
        (o, p)
    } else {
        let mut p = Command::new(&s.python);
        p.args(["bench/torch_attention_reference.py", "bench"]);
        (Command::new(s.examples.join("bench_attention")), p)
    };
    args(&mut ours);
    if network == "lenet" {
        theirs.args(["--threads", &t.to_string(), "--batch", &b.to_string()]);
        theirs.args(["--repeats", &s.repeats.to_string()]);
    } else {
        args(&mut theirs);
        if !s.bayes_gates {
            ours.arg("--det-only");
            theirs.arg("--det-only");
        }
    }
    [("fanaroff", ours), ("pytorch", theirs)]
}

/// Measures every point, ours and PyTorch's alternately.
///
/// # Errors
/// A program that fails or writes no JSON.
pub fn measure(s: &Sitting) -> BenchResult<Vec<Point>> {
    let mut points = Vec::new();
    for network in ["lenet", "attention"] {
        let variants: &[&'static str] = match network {
            "lenet" => &["bbb", "det"],
            _ if s.bayes_gates => &["det", "bayes"],
            _ => &["det"],
        };
        for &t in &s.threads {
            for &b in &s.batches {
                for (framework, cmd) in programs(s, network, t, b) {
                    let out = s
                        .scratch
                        .join(format!("{network}_{framework}_t{t}_b{b}.json"));
                    let v = json_of(cmd, &out)?;
                    for &variant in variants {
                        let seconds = v[format!("epoch_{variant}")]["median"]
                            .as_f64()
                            .ok_or("no epoch")?;
                        println!(
                            "{network} {framework} {variant} threads {t} batch {b}: {seconds:.2} s"
                        );
                        points.push(Point {
                            network,
                            framework,
                            variant,
                            threads: t,
                            batch: b,
                            seconds,
                        });
                    }
                }
            }
        }
    }
    Ok(points)
}

/// The points as CSV (`network,framework,variant,threads,batch,seconds`).
pub fn csv(points: &[Point]) -> String {
    let mut s = String::from("network,framework,variant,threads,batch,seconds\n");
    for p in points {
        let line = format!(
            "{},{},{},{},{},{}\n",
            p.network, p.framework, p.variant, p.threads, p.batch, p.seconds
        );
        s.push_str(&line);
    }
    s
}

/// Seconds per epoch against batch size (log axis) for one network: a line
/// per framework, variant and thread count.
pub fn figure(points: &[Point], network: &str) -> LineChart {
    let mut keys: Vec<(&str, &str, usize)> = Vec::new();
    for p in points.iter().filter(|p| p.network == network) {
        if !keys.contains(&(p.framework, p.variant, p.threads)) {
            keys.push((p.framework, p.variant, p.threads));
        }
    }
    let mut chart = LineChart::new(format!("{network}: one training epoch"))
        .x_label("batch size")
        .y_label("seconds per epoch")
        .x_log(true)
        .legend(Legend::Auto);
    for (i, &(f, v, t)) in keys.iter().enumerate() {
        let mine: Vec<&Point> = points
            .iter()
            .filter(|p| (p.network, p.framework, p.variant, p.threads) == (network, f, v, t))
            .collect();
        let xs: Vec<f64> = mine.iter().map(|p| p.batch as f64).collect();
        let ys: Vec<f64> = mine.iter().map(|p| p.seconds).collect();
        chart = chart.line(
            format!("{f} {v}, {t} thread(s)"),
            &xs,
            &ys,
            Color::palette(i),
        );
    }
    chart
}
