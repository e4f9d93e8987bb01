//! What the study examples share: the data flags and running a grid in
//! this process, so that each example is only a front end of a study.

use crate::DEFAULT_DATA;
use fanaroff::cli::{Collected, Sweep, collect};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The data flags of a study example.
#[derive(clap::Args, Debug, Clone)]
pub struct DataArgs {
    /// MiraBest release [../shared/data/mirabest/MiraBest_full_batches.tar.gz;
    /// 832 synthetic images with a notice when that is absent]
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Use this many synthetic galaxies instead
    #[arg(long)]
    pub synthetic: Option<usize>,
}

impl DataArgs {
    /// The data source as TOML keys of an experiment's `[data]` table.
    pub fn toml(&self) -> String {
        match (&self.synthetic, &self.data) {
            (Some(n), _) => format!("synthetic = {n}"),
            (None, Some(p)) => format!("mirabest = {:?}", p.display().to_string()),
            (None, None) if Path::new(DEFAULT_DATA).exists() => {
                format!("mirabest = {DEFAULT_DATA:?}")
            }
            (None, None) => {
                eprintln!("notice: {DEFAULT_DATA} not found; using 832 synthetic galaxies");
                "synthetic = 832".into()
            }
        }
    }
}

/// Runs every unfinished run of the grid `text` in the sweep folder `out`
/// (in this process, resuming killed runs), then collects its tables into
/// `out` (`runs.csv`, `summary.*`, `paired.csv`, `rows*.csv`). Returns
/// the sweep (for its run folders) and the collected records.
///
/// # Errors
/// An invalid grid, a folder holding another grid, a failed run.
pub fn run_grid(
    text: &str,
    out: &Path,
    threads: Option<usize>,
) -> Result<(Sweep, Collected), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(out)?;
    let file = out.join("front_end.toml");
    std::fs::write(&file, text)?;
    if let Some(t) = threads {
        fanaroff::tensor::set_num_threads(t)?;
    }
    let sweep = Sweep::open(&file, out)?;
    let todo = sweep.unfinished();
    for (k, i) in todo.iter().enumerate() {
        eprintln!("run {} of {} (index {i})", k + 1, todo.len());
        sweep.run_index(*i, None, false)?;
    }
    let c = collect(&sweep)?;
    c.write(out)?;
    Ok((sweep, c))
}

/// The rows of `rows_summary.csv` (mean ± std over seeds per setting and
/// row key) as maps from column to value, for figures.
pub fn summary_rows(c: &Collected) -> Vec<BTreeMap<String, String>> {
    let text = c.rows_summary_csv();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    lines
        .map(|l| {
            head.iter()
                .zip(l.split(','))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// One line per value of column `by`: `(value, xs, ys)` from columns `x`
/// and `y` of `rows` (rows without a number there are left out).
pub fn series(
    rows: &[BTreeMap<String, String>],
    by: &str,
    x: &str,
    y: &str,
) -> Vec<(String, Vec<f64>, Vec<f64>)> {
    let mut out: Vec<(String, Vec<f64>, Vec<f64>)> = Vec::new();
    for r in rows {
        let (Some(key), Some(xv), Some(yv)) = (r.get(by), num(r, x), num(r, y)) else {
            continue;
        };
        match out.iter_mut().find(|s| &s.0 == key) {
            Some(s) => {
                s.1.push(xv);
                s.2.push(yv);
            }
            None => out.push((key.clone(), vec![xv], vec![yv])),
        }
    }
    out
}

fn num(r: &BTreeMap<String, String>, k: &str) -> Option<f64> {
    r.get(k)?.parse().ok()
}
