//! How uncertain a Bayesian attention net's maps are: the spread of each
//! gate's map over weight draws, beside the classifier's own uncertainty,
//! for right and wrong test predictions and for a second image set (e.g.
//! MBFRUncertain).

use crate::maps::attention_map_stats;
use crate::net::AttentionNet;
use fanaroff_calibrate::{entropy, mutual_information};
use fanaroff_core::mean_std;
use fanaroff_nn::{Error, Result};
use fanaroff_tensor::Tensor;
use fanaroff_train::{ArrayLoader, PredictConfig, predict_samples, predictive_mean};
use ndarray::{Array3, ArrayD, Axis};
use serde::{Deserialize, Serialize};

/// Settings of the map-spread study.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MapSpreadStudy {
    /// Weight draws per image (>= 2).
    pub draws: usize,
    /// Images per forward pass.
    pub batch_size: usize,
}

impl Default for MapSpreadStudy {
    fn default() -> Self {
        MapSpreadStudy {
            draws: 20,
            batch_size: 16,
        }
    }
}

/// One group of images: means over its images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapSpreadRow {
    /// `test_right`, `test_wrong` or the second set's name.
    pub group: String,
    /// Images in the group.
    pub images: usize,
    /// Per gate: the map's spread, the sum over pixels of its standard
    /// deviation over draws divided by the sum of its mean.
    pub spread: Vec<f64>,
    /// Entropy of the predictive mean over the draws, nats.
    pub entropy: f64,
    /// Mutual information between prediction and weights, nats.
    pub mutual_information: f64,
}

/// Per image: each gate's spread, then the predictive entropy and MI.
struct PerImage {
    spread: Vec<Vec<f64>>,
    entropy: Vec<f64>,
    mi: Vec<f64>,
    right: Vec<bool>,
}

impl MapSpreadStudy {
    /// Rows for the right and the wrong test predictions (predictive mean
    /// over the draws) and, with `other = (name, images)`, for a second set.
    /// Draw `d` of the maps uses seed `seed + d`.
    ///
    /// # Errors
    /// Fewer than 2 draws, an empty loader, prediction failures.
    pub fn run(
        &self,
        net: &AttentionNet,
        test: &ArrayLoader<u8>,
        other: Option<(&str, &ArrayLoader<u8>)>,
        seed: u64,
    ) -> Result<Vec<MapSpreadRow>> {
        let t = self.per_image(net, test, seed)?;
        let mut rows = vec![
            t.row("test_right", |i| t.right[i]),
            t.row("test_wrong", |i| !t.right[i]),
        ];
        if let Some((name, images)) = other {
            let o = self.per_image(net, images, seed)?;
            rows.push(o.row(name, |_| true));
        }
        Ok(rows)
    }

    fn per_image(
        &self,
        net: &AttentionNet,
        images: &ArrayLoader<u8>,
        seed: u64,
    ) -> Result<PerImage> {
        if self.draws < 2 {
            return Err(fanaroff_core::config(
                "MapSpreadStudy.draws",
                "must be >= 2",
            ));
        }
        let x = images.inputs();
        let cfg = PredictConfig::with_samples(self.draws)
            .batch_size(self.batch_size.max(1))
            .seed(seed ^ 0x5eed);
        let samples = predict_samples(net, x.view(), &cfg).map_err(external)?;
        let probs = predictive_mean(samples.view());
        let right = probs
            .outer_iter()
            .zip(images.labels())
            .map(|(p, y)| usize::from(p[1] > p[0]) == *y)
            .collect();
        let (entropy, mi) = uncertainty(&samples)?;
        Ok(PerImage {
            spread: self.spreads(net, &x, seed)?,
            entropy,
            mi,
            right,
        })
    }

    /// Per image, per gate: sum of the map's std over its mean.
    fn spreads(&self, net: &AttentionNet, x: &ArrayD<f32>, seed: u64) -> Result<Vec<Vec<f64>>> {
        let n = x.shape()[0];
        let step = self.batch_size.max(1);
        let mut out = Vec::with_capacity(n);
        for start in (0..n).step_by(step) {
            let end = (start + step).min(n);
            let xb = Tensor::new(x.slice_axis(Axis(0), (start..end).into()).to_owned());
            let stats = attention_map_stats(net, &xb, self.draws, seed)?;
            for i in 0..end - start {
                let of = |a: &ArrayD<f32>| f64::from(a.index_axis(Axis(0), i).sum());
                out.push(
                    stats
                        .iter()
                        .map(|(m, s)| of(s) / of(m).max(1e-12))
                        .collect(),
                );
            }
        }
        Ok(out)
    }
}

impl PerImage {
    fn row(&self, group: &str, keep: impl Fn(usize) -> bool) -> MapSpreadRow {
        let idx: Vec<usize> = (0..self.right.len()).filter(|&i| keep(i)).collect();
        let mean =
            |v: &dyn Fn(usize) -> f64| mean_std(&idx.iter().map(|&i| v(i)).collect::<Vec<_>>()).0;
        let gates = self.spread.first().map_or(0, Vec::len);
        MapSpreadRow {
            group: group.to_string(),
            images: idx.len(),
            spread: (0..gates).map(|k| mean(&|i| self.spread[i][k])).collect(),
            entropy: mean(&|i| self.entropy[i]),
            mutual_information: mean(&|i| self.mi[i]),
        }
    }
}

/// Entropy of the predictive mean and mutual information per image.
fn uncertainty(samples: &Array3<f32>) -> Result<(Vec<f64>, Vec<f64>)> {
    let s = samples.mapv(f64::from);
    let mean = s.mean_axis(Axis(0)).expect("at least one draw");
    let h = entropy(mean.view()).map_err(external)?;
    let mi = mutual_information(s.view()).map_err(external)?;
    Ok((h.to_vec(), mi.to_vec()))
}

fn external<E: std::error::Error + Send + Sync + 'static>(e: E) -> Error {
    Error::External(Box::new(e))
}
