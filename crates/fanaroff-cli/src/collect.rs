//! Merging the records of a sweep into tables: one row per run, and one
//! row per setting with mean ± std over seeds.

use crate::error::{Result, io};
use crate::grid::show;
use crate::record::{RECORD_FILE, RunRecord};
use crate::sweep::{RunState, Sweep};
use fanaroff_core::mean_std;
use std::fmt::Write as _;
use std::path::Path;

/// The metrics the markdown summary shows (the CSV files have all).
pub const SUMMARY_METRICS: [&str; 6] = [
    "test_error_mean",
    "nll",
    "ece",
    "uce",
    "entropy_confident",
    "entropy_uncertain",
];

/// The records of a sweep, and what is missing.
#[derive(Debug, Clone)]
pub struct Collected {
    /// Axis keys, in grid order.
    pub axes: Vec<String>,
    /// `(index, axis values, record)` of every finished run.
    pub runs: Vec<(usize, Vec<String>, RunRecord)>,
    /// Indices with no record and no error (not run, running or killed).
    pub missing: Vec<usize>,
    /// Indices whose last attempt failed, with the message.
    pub failed: Vec<(usize, String)>,
}

/// Reads every record of `sweep`.
///
/// # Errors
/// A record that exists but cannot be read.
pub fn collect(sweep: &Sweep) -> Result<Collected> {
    let axes = sweep.grid().axes().iter().map(|(k, _)| k.clone()).collect();
    let mut out = Collected {
        axes,
        runs: Vec::new(),
        missing: Vec::new(),
        failed: Vec::new(),
    };
    for planned in sweep.grid().runs()? {
        let i = planned.index;
        match sweep.state(i) {
            RunState::Done => {
                let r = RunRecord::read(&sweep.run_dir(i).join(RECORD_FILE))?;
                let values = planned.settings.iter().map(|(_, v)| show(v)).collect();
                out.runs.push((i, values, r));
            }
            RunState::Failed(msg) => out.failed.push((i, msg)),
            RunState::Started | RunState::Pending => out.missing.push(i),
        }
    }
    Ok(out)
}

impl Collected {
    /// Every metric name that occurs, sorted.
    pub fn metric_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .runs
            .iter()
            .flat_map(|(_, _, r)| r.metrics.keys().cloned())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Position of the `seed` axis, if any.
    fn seed_axis(&self) -> Option<usize> {
        self.axes.iter().position(|k| k == "seed")
    }

    /// Runs grouped by their axis values without the seed, in index order
    /// of each group's first run.
    pub fn groups(&self) -> Vec<(Vec<String>, Vec<&RunRecord>)> {
        let seed = self.seed_axis();
        let mut groups: Vec<(Vec<String>, Vec<&RunRecord>)> = Vec::new();
        for (_, values, r) in &self.runs {
            let key: Vec<String> = values
                .iter()
                .enumerate()
                .filter(|(j, _)| Some(*j) != seed)
                .map(|(_, v)| v.clone())
                .collect();
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, rs)) => rs.push(r),
                None => groups.push((key, vec![r])),
            }
        }
        groups
    }

    pub(crate) fn setting_axes(&self) -> Vec<&str> {
        let seed = self.seed_axis();
        (0..self.axes.len())
            .filter(|j| Some(*j) != seed)
            .map(|j| self.axes[j].as_str())
            .collect()
    }

    /// One CSV row per finished run: index, axis values (and the seed when
    /// it is not an axis), every metric, epochs and seconds.
    pub fn runs_csv(&self) -> String {
        let names = self.metric_names();
        let seed_col = self.seed_axis().is_none();
        let mut head = vec!["index".to_string()];
        head.extend(self.axes.iter().cloned());
        if seed_col {
            head.push("seed".into());
        }
        head.extend(names.iter().cloned());
        head.extend(["epochs_run", "best_epoch", "train_seconds"].map(String::from));
        let mut s = head.join(",") + "\n";
        for (i, values, r) in &self.runs {
            let mut row = vec![i.to_string(), csv_cells(values)];
            if seed_col {
                row.push(r.seed.to_string());
            }
            row.extend(
                names
                    .iter()
                    .map(|n| r.metrics.get(n).map_or(String::new(), |v| v.to_string())),
            );
            row.push(r.epochs_run.to_string());
            row.push(r.best_epoch.map_or(String::new(), |b| b.to_string()));
            row.push(format!("{:.1}", r.train_seconds));
            let _ = writeln!(s, "{}", row.join(","));
        }
        s
    }

    /// One CSV row per setting: axis values, number of seeds, and mean and
    /// std over seeds of every metric.
    pub fn summary_csv(&self) -> String {
        let names = self.metric_names();
        let cols: Vec<String> = names
            .iter()
            .flat_map(|n| [format!("{n}_mean"), format!("{n}_std")])
            .collect();
        let mut s = format!("{},n,{}\n", self.setting_axes().join(","), cols.join(","));
        for (key, rs) in self.groups() {
            let cells: Vec<String> = names
                .iter()
                .flat_map(|n| {
                    let v: Vec<f64> = rs
                        .iter()
                        .filter_map(|r| r.metrics.get(n).copied())
                        .collect();
                    let (m, sd) = if v.is_empty() {
                        (f64::NAN, f64::NAN)
                    } else {
                        mean_std(&v)
                    };
                    [m.to_string(), sd.to_string()]
                })
                .collect();
            let _ = writeln!(s, "{},{},{}", csv_cells(&key), rs.len(), cells.join(","));
        }
        s
    }

    /// A markdown table of the headline metrics (`test_error_mean`, `nll`,
    /// `ece`, `uce`, `entropy_confident`, `entropy_uncertain`) as mean ± std
    /// over seeds (the mean alone for one seed), followed by the missing and
    /// failed indices.
    pub fn summary_markdown(&self) -> String {
        let axes = self.setting_axes();
        let mut s = format!(
            "| {} | seeds | {} |\n",
            axes.join(" | "),
            SUMMARY_METRICS.join(" | ")
        );
        let _ = writeln!(
            s,
            "|{}",
            "---|".repeat(axes.len() + 1 + SUMMARY_METRICS.len())
        );
        for (key, rs) in self.groups() {
            let cells: Vec<String> = SUMMARY_METRICS
                .iter()
                .map(|n| {
                    let v: Vec<f64> = rs
                        .iter()
                        .filter_map(|r| r.metrics.get(*n).copied())
                        .collect();
                    if v.is_empty() {
                        return "—".into();
                    }
                    let (m, sd) = mean_std(&v);
                    if v.len() == 1 {
                        format!("{m:.4}")
                    } else {
                        format!("{m:.4} ± {sd:.4}")
                    }
                })
                .collect();
            let seeds: Vec<String> = rs.iter().map(|r| r.seed.to_string()).collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                key.join(" | "),
                seeds.join(","),
                cells.join(" | ")
            );
        }
        s.push_str(&format!("\nmissing: {}\n", index_list(&self.missing)));
        let failed: Vec<usize> = self.failed.iter().map(|(i, _)| *i).collect();
        s.push_str(&format!("failed: {}\n", index_list(&failed)));
        s
    }

    /// Writes `runs.csv`, `summary.csv`, `summary.md` and `paired.csv`
    /// into `dir`, and with study rows `rows.csv`, `rows_summary.csv` and
    /// `paired_keys.csv` (rows of one run against each other, when a row
    /// key has more than one value).
    ///
    /// # Errors
    /// An unwritable folder.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        for (name, text) in [
            ("runs.csv", self.runs_csv()),
            ("summary.csv", self.summary_csv()),
            ("summary.md", self.summary_markdown()),
            ("paired.csv", self.paired_csv()),
        ] {
            fanaroff_train::write_atomic(&dir.join(name), text.as_bytes())?;
        }
        if self.has_rows() {
            fanaroff_train::write_atomic(&dir.join("rows.csv"), self.rows_csv().as_bytes())?;
            let summary = self.rows_summary_csv();
            fanaroff_train::write_atomic(&dir.join("rows_summary.csv"), summary.as_bytes())?;
            let keys = self.paired_keys_csv();
            if keys.lines().count() > 1 {
                fanaroff_train::write_atomic(&dir.join("paired_keys.csv"), keys.as_bytes())?;
            }
        }
        Ok(())
    }
}

/// Quotes cells that hold commas.
pub(crate) fn csv_cells(v: &[String]) -> String {
    v.iter()
        .map(|c| {
            if c.contains(',') {
                format!("\"{c}\"")
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `none` or `1, 4, 7`.
fn index_list(v: &[usize]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_metrics_are_metrics() {
        for m in SUMMARY_METRICS {
            crate::record::check_metric(m).unwrap();
        }
        assert!(crate::record::check_metric("test_eror_mean").is_err());
    }
    use std::collections::BTreeMap;

    fn record(seed: u64, err: f64) -> RunRecord {
        RunRecord {
            name: "t".into(),
            seed,
            experiment: String::new(),
            data: String::new(),
            counts: [0; 4],
            metrics: BTreeMap::from([("test_error_mean".to_string(), err)]),
            study: "train".into(),
            row_keys: Vec::new(),
            rows: Vec::new(),
            epochs_run: 1,
            best_epoch: Some(1),
            resumed_after_epoch: 0,
            train_seconds: 1.0,
            eval_seconds: 0.0,
            threads: 1,
            versions: BTreeMap::new(),
            started: 0,
            finished: 0,
        }
    }

    #[test]
    fn groups_over_seeds_with_sample_std() {
        let c = Collected {
            axes: vec!["model.elbo.temperature".into(), "seed".into()],
            runs: vec![
                (0, vec!["1".into(), "0".into()], record(0, 0.10)),
                (1, vec!["1".into(), "1".into()], record(1, 0.20)),
                (2, vec!["0.01".into(), "0".into()], record(0, 0.05)),
            ],
            missing: vec![3],
            failed: vec![],
        };
        let groups = c.groups();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].1.len(), 2);
        let md = c.summary_markdown();
        // mean 0.15, sample std sqrt(0.005) = 0.0707
        assert!(md.contains("| 1 | 0,1 | 0.1500 ± 0.0707 |"), "{md}");
        assert!(
            md.contains("missing: 3") && md.contains("failed: none"),
            "{md}"
        );
        let csv = c.summary_csv();
        assert!(
            csv.starts_with("model.elbo.temperature,n,test_error_mean_mean,test_error_mean_std\n")
        );
        let runs = c.runs_csv();
        assert_eq!(runs.lines().count(), 4);
        assert!(
            runs.starts_with("index,model.elbo.temperature,seed,test_error_mean,epochs_run"),
            "{runs}"
        );
        assert!(runs.contains("\n1,1,1,0.2,1,1,1.0\n"), "{runs}");
    }
}
