//! Sweep heat maps: the mean of a metric over seeds for every pair of
//! values of two swept settings (e.g. prior x temperature).

use crate::collect::Collected;
use ndarray::Array2;
#[cfg(feature = "plot")]
use std::path::{Path, PathBuf};

/// A metric's mean over seeds laid out by two settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricTable {
    /// Name of the row setting and its values, in first-seen order.
    pub rows: (String, Vec<String>),
    /// Name of the column setting and its values.
    pub cols: (String, Vec<String>),
    /// Means over seeds; NaN where no run finished or none has the metric.
    pub values: Array2<f64>,
}

fn first_seen(keys: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in keys {
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

impl Collected {
    /// The mean over seeds of `metric` as a table over the sweep's two
    /// setting axes (the seed axis aside); `None` when the sweep does not
    /// vary exactly two settings.
    ///
    /// # Errors
    /// A name that is not a metric (see [`METRICS`](crate::METRICS)).
    pub fn metric_table(&self, metric: &str) -> crate::Result<Option<MetricTable>> {
        if !self.metric_names().iter().any(|m| m == metric) {
            crate::record::check_metric(metric)?;
        }
        let axes: Vec<&String> = self.axes.iter().filter(|a| *a != "seed").collect();
        if axes.len() != 2 {
            return Ok(None);
        }
        let groups = self.groups();
        let rows = first_seen(groups.iter().map(|(k, _)| k[0].clone()));
        let cols = first_seen(groups.iter().map(|(k, _)| k[1].clone()));
        let mut values = Array2::from_elem((rows.len(), cols.len()), f64::NAN);
        for (key, runs) in &groups {
            let v: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.metrics.get(metric).copied())
                .collect();
            let (Some(r), Some(c)) = (
                rows.iter().position(|x| *x == key[0]),
                cols.iter().position(|x| *x == key[1]),
            ) else {
                continue;
            };
            if !v.is_empty() {
                values[[r, c]] = v.iter().sum::<f64>() / v.len() as f64;
            }
        }
        Ok(Some(MetricTable {
            rows: (axes[0].clone(), rows),
            cols: (axes[1].clone(), cols),
            values,
        }))
    }

    /// Writes `heatmap_METRIC.png` and `.svg` into `dir` for each summary
    /// metric the runs have, when the sweep varies two settings; returns
    /// the files written (none for other sweeps).
    ///
    /// # Errors
    /// A figure that cannot be written.
    #[cfg(feature = "plot")]
    pub fn write_heatmaps(&self, dir: &Path) -> crate::Result<Vec<PathBuf>> {
        use crate::collect::SUMMARY_METRICS;
        use fanaroff_plot::{Figure, Heatmap};
        let mut written = Vec::new();
        let names = self.metric_names();
        for metric in SUMMARY_METRICS
            .iter()
            .filter(|m| names.iter().any(|n| n == *m))
        {
            let Some(t) = self.metric_table(metric)? else {
                return Ok(written);
            };
            let rows: Vec<&str> = t.rows.1.iter().map(String::as_str).collect();
            let cols: Vec<&str> = t.cols.1.iter().map(String::as_str).collect();
            let title = format!("{metric}, mean over seeds");
            let figure = |e: fanaroff_plot::Error| crate::error::invalid("heat map", e.to_string());
            let map = Heatmap::new(title, t.values, &rows, &cols).map_err(figure)?;
            let map = map.labels(t.cols.0.as_str(), t.rows.0.as_str());
            written.extend(
                map.save_both(dir.join(format!("heatmap_{metric}")))
                    .map_err(figure)?,
            );
        }
        Ok(written)
    }
}
