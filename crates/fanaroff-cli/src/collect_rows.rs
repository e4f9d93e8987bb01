//! Tables of a sweep beyond one row per run: the studies' rows, their mean
//! ± std over seeds, and differences between the settings of an axis
//! paired by seed.

use crate::collect::{Collected, csv_cells};
use crate::record::RunRecord;
use fanaroff_calibrate::paired_t_test;
use fanaroff_core::mean_std;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A cell of a study row as text (strings unquoted).
fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Setting-axis values and row-key values of a group of rows.
type GroupKey = (Vec<String>, Vec<String>);

/// One study row with the run it came from.
pub(crate) struct FlatRow<'a> {
    pub settings: Vec<String>,
    pub seed: u64,
    pub key: Vec<String>,
    pub row: &'a serde_json::Map<String, serde_json::Value>,
}

impl Collected {
    pub(crate) fn row_keys(&self) -> Vec<String> {
        self.runs
            .first()
            .map_or_else(Vec::new, |(_, _, r)| r.row_keys.clone())
    }

    /// Numeric fields of the study rows that are not row keys: every field
    /// that is a number in some row (rows of different tests fill
    /// different fields), in the order they are first seen.
    pub(crate) fn row_fields(&self) -> Vec<String> {
        let keys = self.row_keys();
        let mut fields: Vec<String> = Vec::new();
        let rows = self.runs.iter().flat_map(|(_, _, r)| r.rows.iter());
        for o in rows.filter_map(|r| r.as_object()) {
            for (k, v) in o {
                if v.is_number() && !keys.contains(k) && !fields.contains(k) {
                    fields.push(k.clone());
                }
            }
        }
        fields
    }

    pub(crate) fn flat_rows(&self) -> Vec<FlatRow<'_>> {
        let keys = self.row_keys();
        let settings = |values: &[String]| -> Vec<String> {
            let seed = self.axes.iter().position(|k| k == "seed");
            (0..values.len())
                .filter(|j| Some(*j) != seed)
                .map(|j| values[j].clone())
                .collect()
        };
        let mut out = Vec::new();
        for (_, values, r) in &self.runs {
            for row in r.rows.iter().filter_map(|v| v.as_object()) {
                out.push(FlatRow {
                    settings: settings(values),
                    seed: r.seed,
                    key: keys
                        .iter()
                        .map(|k| row.get(k).map_or(String::new(), cell))
                        .collect(),
                    row,
                });
            }
        }
        out
    }

    /// Whether any run has study rows.
    pub fn has_rows(&self) -> bool {
        self.runs.iter().any(|(_, _, r)| !r.rows.is_empty())
    }

    /// One CSV line per study row: setting axes, seed, row keys, fields.
    pub fn rows_csv(&self) -> String {
        let (keys, fields) = (self.row_keys(), self.row_fields());
        let mut head: Vec<String> = self.setting_axes().iter().map(|s| s.to_string()).collect();
        head.push("seed".into());
        head.extend(keys.iter().cloned());
        head.extend(fields.iter().cloned());
        let mut s = head.join(",") + "\n";
        for f in self.flat_rows() {
            let mut line = f.settings.clone();
            line.push(f.seed.to_string());
            line.extend(f.key.iter().cloned());
            line.extend(
                fields
                    .iter()
                    .map(|k| f.row.get(k).map_or(String::new(), cell)),
            );
            let _ = writeln!(s, "{}", csv_cells(&line));
        }
        s
    }

    /// Study rows grouped by setting and row key: `n` seeds and mean and
    /// std over seeds of every numeric field.
    pub fn rows_summary_csv(&self) -> String {
        let (keys, fields) = (self.row_keys(), self.row_fields());
        let mut groups: Vec<(GroupKey, Vec<&FlatRow<'_>>)> = Vec::new();
        let rows = self.flat_rows();
        for f in &rows {
            let k = (f.settings.clone(), f.key.clone());
            match groups.iter_mut().find(|(g, _)| *g == k) {
                Some((_, v)) => v.push(f),
                None => groups.push((k, vec![f])),
            }
        }
        let mut head: Vec<String> = self.setting_axes().iter().map(|s| s.to_string()).collect();
        head.extend(keys.iter().cloned());
        head.push("n".into());
        head.extend(
            fields
                .iter()
                .flat_map(|n| [format!("{n}_mean"), format!("{n}_std")]),
        );
        let mut s = head.join(",") + "\n";
        for ((set, key), v) in groups {
            let cells: Vec<String> = fields
                .iter()
                .flat_map(|n| {
                    let x: Vec<f64> = v.iter().filter_map(|f| f.row.get(n)?.as_f64()).collect();
                    let (m, sd) = mean_std(&x);
                    [m.to_string(), sd.to_string()]
                })
                .collect();
            let mut line: Vec<String> = set;
            line.extend(key);
            line.push(v.len().to_string());
            line.extend(cells);
            let _ = writeln!(s, "{}", csv_cells(&line));
        }
        s
    }

    /// Differences between each value of a setting axis and the axis's
    /// first value, paired by seed, the other axes and the row key: one
    /// line per (axis, value, row key, metric) with the number of pairs,
    /// the mean and std of the differences and a two-sided paired t-test
    /// (`t`, `p`; empty with fewer than two pairs or no spread). Run metrics
    /// come first (`row` empty), then the numeric fields of study rows.
    pub fn paired_csv(&self) -> String {
        let mut s = format!("axis,baseline,value,row,metric,{PAIRED_STATS}\n");
        let axes: Vec<usize> = (0..self.axes.len())
            .filter(|&j| self.axes[j] != "seed")
            .collect();
        for &a in &axes {
            let values = self.axis_values(a);
            for v in values.iter().skip(1) {
                self.paired_metrics(a, &values[0], v, &mut s);
                self.paired_rows(a, &values[0], v, &mut s);
            }
        }
        s
    }

    fn axis_values(&self, a: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, values, _) in &self.runs {
            if !out.contains(&values[a]) {
                out.push(values[a].clone());
            }
        }
        out
    }

    /// The runs with `values[a] == want`, keyed by (other axes, seed).
    fn runs_at(&self, a: usize, want: &str) -> BTreeMap<(Vec<String>, u64), &RunRecord> {
        self.runs
            .iter()
            .filter(|(_, values, _)| values[a] == want)
            .map(|(_, values, r)| {
                let mut others = values.clone();
                others.remove(a);
                ((others, r.seed), r)
            })
            .collect()
    }

    fn paired_metrics(&self, a: usize, base: &str, value: &str, s: &mut String) {
        let (b, v) = (self.runs_at(a, base), self.runs_at(a, value));
        for m in self.metric_names() {
            let d: Vec<f64> = v
                .iter()
                .filter_map(|(k, r)| Some(r.metrics.get(&m)? - b.get(k)?.metrics.get(&m)?))
                .collect();
            push_paired(s, &[&self.axes[a], base, value, "", &m], &d);
        }
    }

    fn paired_rows(&self, a: usize, base: &str, value: &str, s: &mut String) {
        let (b, v) = (self.runs_at(a, base), self.runs_at(a, value));
        let keys = self.row_keys();
        let key_of = |row: &serde_json::Value| -> String {
            keys.iter()
                .map(|k| cell(&row[k]))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let first = v.values().next().map_or(&[][..], |r| &r.rows[..]);
        for proto in first {
            let rk = key_of(proto);
            for f in self.row_fields() {
                let d: Vec<f64> = v
                    .iter()
                    .filter_map(|(k, r)| {
                        let x = r.rows.iter().find(|row| key_of(row) == rk)?[&f].as_f64()?;
                        let y =
                            b.get(k)?.rows.iter().find(|row| key_of(row) == rk)?[&f].as_f64()?;
                        Some(x - y)
                    })
                    .collect();
                push_paired(s, &[&self.axes[a], base, value, &rk, &f], &d);
            }
        }
    }
}

/// The statistics columns of a paired-differences table.
pub(crate) const PAIRED_STATS: &str = "n,mean,std,t,p";

/// One line: the `head` cells, then `n`, mean, std, t and p of the
/// differences `d` (nothing when `d` is empty).
pub(crate) fn push_paired(s: &mut String, head: &[&str], d: &[f64]) {
    if d.is_empty() {
        return;
    }
    let (m, sd) = mean_std(d);
    let (t, p) = paired_t_test(d).map_or((String::new(), String::new()), |r| {
        (r.t.to_string(), r.p.to_string())
    });
    let cells: Vec<String> = head.iter().map(|c| c.to_string()).collect();
    let _ = writeln!(s, "{},{},{m},{sd},{t},{p}", csv_cells(&cells), d.len());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(seed: u64, err: f64, rows: Vec<serde_json::Value>) -> RunRecord {
        let text = format!(
            r#"{{"name":"t","seed":{seed},"experiment":"","data":"","counts":[0,0,0,0],
            "metrics":{{"test_error_mean":{err}}},"row_keys":["criterion"],"epochs_run":1,
            "best_epoch":null,"resumed_after_epoch":0,"train_seconds":0,"eval_seconds":0,
            "threads":1,"versions":{{}},"started":0,"finished":0}}"#
        );
        let mut r: RunRecord = serde_json::from_str(&text).unwrap();
        r.rows = rows;
        r
    }

    #[test]
    fn differences_are_paired_by_seed_and_row_key() {
        let row = |c: &str, e: f64| json!({"criterion": c, "err": e});
        // axis lr: 0.1 (baseline) and 0.2, seeds 0 and 1
        let runs = vec![
            (
                0,
                vec!["0.1".into(), "0".into()],
                record(0, 0.30, vec![row("snr", 0.3), row("random", 0.5)]),
            ),
            (
                1,
                vec!["0.1".into(), "1".into()],
                record(1, 0.20, vec![row("snr", 0.2), row("random", 0.4)]),
            ),
            (
                2,
                vec!["0.2".into(), "0".into()],
                record(0, 0.25, vec![row("snr", 0.1), row("random", 0.5)]),
            ),
            (
                3,
                vec!["0.2".into(), "1".into()],
                record(1, 0.10, vec![row("snr", 0.1), row("random", 0.2)]),
            ),
        ];
        let c = Collected {
            axes: vec!["lr".into(), "seed".into()],
            runs,
            missing: vec![],
            failed: vec![],
        };
        let p = c.paired_csv();
        // n, mean, std, t, p of the line that starts with `prefix`
        let line = |prefix: &str| {
            p.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("{prefix} in {p}"))
                .split(',')
                .skip(5)
                .map(|x| x.parse::<f64>().unwrap_or(f64::NAN))
                .collect::<Vec<f64>>()
        };
        assert!(
            p.starts_with("axis,baseline,value,row,metric,n,mean,std,t,p\n"),
            "{p}"
        );
        // test error: -0.05 and -0.10 -> mean -0.075, std 0.0354, n 2,
        // t = -0.075 / (0.0354 / sqrt 2) = -3, p (1 df) = 1 - 2 atan(3) / pi
        let m = line("lr,0.1,0.2,,test_error_mean");
        assert_eq!(m[0], 2.0);
        assert!(
            (m[1] + 0.075).abs() < 1e-12 && (m[2] - 0.035355339).abs() < 1e-8,
            "{m:?}"
        );
        let p_cauchy = 1.0 - 2.0 * 3f64.atan() / std::f64::consts::PI;
        assert!(
            (m[3] + 3.0).abs() < 1e-9 && (m[4] - p_cauchy).abs() < 1e-9,
            "{m:?}"
        );
        // rows: snr -0.2 and -0.1; random 0 and -0.2
        let s = line("lr,0.1,0.2,snr,err");
        assert!((s[1] + 0.15).abs() < 1e-12, "{s:?}");
        let r = line("lr,0.1,0.2,random,err");
        assert!((r[1] + 0.1).abs() < 1e-12, "{r:?}");
        let summary = c.rows_summary_csv();
        assert!(
            summary.starts_with("lr,criterion,n,err_mean,err_std\n"),
            "{summary}"
        );
        assert!(summary.contains("0.1,snr,2,0.25"), "{summary}");
        assert_eq!(c.rows_csv().lines().count(), 9);
    }

    #[test]
    fn a_field_missing_from_the_first_row_still_gets_its_column() {
        // the robustness study: the clean row has no attack success, the
        // attack rows have no accuracy
        let rows = |s: f64| {
            vec![
                json!({"criterion": "clean", "accuracy": 0.9, "success": null}),
                json!({"criterion": "pgd", "accuracy": null, "success": s}),
            ]
        };
        let c = Collected {
            axes: vec!["seed".into()],
            runs: vec![
                (0, vec!["0".into()], record(0, 0.1, rows(0.2))),
                (1, vec!["1".into()], record(1, 0.1, rows(0.4))),
            ],
            missing: vec![],
            failed: vec![],
        };
        let summary = c.rows_summary_csv();
        let head = summary.lines().next().unwrap();
        assert!(head.contains("success_mean"), "{summary}");
        let pgd = summary.lines().find(|l| l.starts_with("pgd")).unwrap();
        assert!(
            pgd.contains(",0.30000000000000004,") || pgd.contains(",0.3,"),
            "{summary}"
        );
        assert!(
            c.rows_csv()
                .lines()
                .next()
                .unwrap()
                .ends_with("accuracy,success")
        );
    }
}
