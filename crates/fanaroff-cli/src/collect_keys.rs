//! Differences between the rows of one run: for each row key (a prune
//! study's `criterion` or `fraction`, say), every value against the key's
//! first value, with the other row keys held, paired by seed within each
//! setting of the grid.

use crate::collect::Collected;
use crate::collect_rows::{FlatRow, PAIRED_STATS, push_paired};
use std::collections::HashMap;

/// The rows of one group: the same settings and the same other row keys.
type Group<'a, 'b> = ((Vec<String>, Vec<String>), Vec<&'b FlatRow<'a>>);

impl Collected {
    /// One line per (setting, row key, value, other row keys, field): the
    /// number of seeds, mean and std of `field(value) - field(first value)`
    /// and a two-sided paired t-test. The first value of a key is the one
    /// seen first in the records (a prune study's first criterion, or its
    /// fraction 0).
    pub fn paired_keys_csv(&self) -> String {
        let (keys, fields) = (self.row_keys(), self.row_fields());
        let rows = self.flat_rows();
        let mut head: Vec<String> = self.setting_axes().iter().map(|s| s.to_string()).collect();
        head.extend(["key", "baseline", "value", "row", "metric"].map(String::from));
        let mut s = format!("{},{PAIRED_STATS}\n", head.join(","));
        let index: HashMap<(&[String], u64, &[String]), &FlatRow<'_>> = rows
            .iter()
            .map(|f| ((&f.settings[..], f.seed, &f.key[..]), f))
            .collect();
        for (j, key) in keys.iter().enumerate() {
            let mut values: Vec<&String> = Vec::new();
            for f in &rows {
                if !values.contains(&&f.key[j]) {
                    values.push(&f.key[j]);
                }
            }
            for v in values.iter().skip(1) {
                for ((set, others), group) in groups_at(&rows, j, v) {
                    let base = |f: &FlatRow<'_>| {
                        let mut k = f.key.clone();
                        k[j] = values[0].clone();
                        index.get(&(&f.settings[..], f.seed, &k[..])).copied()
                    };
                    for field in &fields {
                        let d: Vec<f64> = group
                            .iter()
                            .filter_map(|f| {
                                Some(
                                    f.row.get(field)?.as_f64()?
                                        - base(f)?.row.get(field)?.as_f64()?,
                                )
                            })
                            .collect();
                        let mut line = set.clone();
                        line.extend([
                            key.clone(),
                            values[0].clone(),
                            (*v).clone(),
                            others.join(" "),
                            field.clone(),
                        ]);
                        let head: Vec<&str> = line.iter().map(String::as_str).collect();
                        push_paired(&mut s, &head, &d);
                    }
                }
            }
        }
        s
    }
}

/// The rows whose key `j` is `v`, grouped by settings and the other keys,
/// in order of first appearance.
fn groups_at<'a, 'b>(rows: &'b [FlatRow<'a>], j: usize, v: &str) -> Vec<Group<'a, 'b>> {
    let mut groups: Vec<Group<'a, 'b>> = Vec::new();
    for f in rows.iter().filter(|f| f.key[j] == v) {
        let mut others = f.key.clone();
        others.remove(j);
        let k = (f.settings.clone(), others);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, members)) => members.push(f),
            None => groups.push((k, vec![f])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RunRecord;
    use serde_json::json;

    fn record(seed: u64, rows: &[(&str, f64, f64)]) -> RunRecord {
        let text = format!(
            r#"{{"name":"t","seed":{seed},"experiment":"","data":"","counts":[0,0,0,0],
            "metrics":{{}},"row_keys":["criterion","fraction"],"epochs_run":1,
            "best_epoch":null,"resumed_after_epoch":0,"train_seconds":0,"eval_seconds":0,
            "threads":1,"versions":{{}},"started":0,"finished":0}}"#
        );
        let mut r: RunRecord = serde_json::from_str(&text).unwrap();
        r.rows = rows
            .iter()
            .map(|(c, f, e)| json!({"criterion": c, "fraction": f, "err": e}))
            .collect();
        r
    }

    #[test]
    fn rows_of_one_run_are_paired_against_the_first_value_of_each_key() {
        let s0 = [
            ("snr", 0.0, 0.10),
            ("snr", 0.5, 0.12),
            ("mag", 0.0, 0.10),
            ("mag", 0.5, 0.20),
        ];
        let s1 = [
            ("snr", 0.0, 0.08),
            ("snr", 0.5, 0.11),
            ("mag", 0.0, 0.08),
            ("mag", 0.5, 0.14),
        ];
        let c = Collected {
            axes: vec!["seed".into()],
            runs: vec![
                (0, vec!["0".into()], record(0, &s0)),
                (1, vec!["1".into()], record(1, &s1)),
            ],
            missing: vec![],
            failed: vec![],
        };
        let p = c.paired_keys_csv();
        assert!(
            p.starts_with("key,baseline,value,row,metric,n,mean,std,t,p\n"),
            "{p}"
        );
        let stats = |prefix: &str| -> Vec<f64> {
            let l = p
                .lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("{prefix} in {p}"));
            l.split(',')
                .skip(5)
                .map(|x| x.parse().unwrap_or(f64::NAN))
                .collect()
        };
        // mag - snr at 50 %: 0.08 and 0.03
        let m = stats("criterion,snr,mag,0.5,err");
        assert_eq!(m[0], 2.0);
        assert!((m[1] - 0.055).abs() < 1e-12, "{m:?}");
        // t = 0.055 / (0.035355 / sqrt 2) = 2.2
        assert!((m[3] - 2.2).abs() < 1e-9, "{m:?}");
        // equal at 0 %: no spread, so no t
        let z = stats("criterion,snr,mag,0.0,err");
        assert!(z[1].abs() < 1e-12 && z[3].is_nan(), "{z:?}");
        // 50 % against unpruned, per criterion
        assert!((stats("fraction,0.0,0.5,snr,err")[1] - 0.025).abs() < 1e-12);
        assert!((stats("fraction,0.0,0.5,mag,err")[1] - 0.08).abs() < 1e-12);
        assert_eq!(p.lines().count(), 1 + 2 + 2);
    }
}
