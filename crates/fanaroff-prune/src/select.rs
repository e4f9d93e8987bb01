//! Which layers to prune, how many weights, and picking the lowest scores.

use crate::error::{Result, config, input};
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};

/// The layers whose weights may be pruned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LayerSet {
    /// Every maskable layer.
    All,
    /// Fully connected layers only (2-D weights), the paper's choice.
    #[default]
    FullyConnected,
    /// Convolutions only (4-D weights).
    Convolutional,
    /// These layers by dotted name (`fc1`, `features.conv2`).
    Names(Vec<String>),
}

impl LayerSet {
    /// Layers by name.
    pub fn names<S: AsRef<str>>(names: &[S]) -> Self {
        LayerSet::Names(names.iter().map(|s| s.as_ref().to_string()).collect())
    }

    pub(crate) fn contains(&self, layer: &str, fully_connected: bool) -> bool {
        match self {
            LayerSet::All => true,
            LayerSet::FullyConnected => fully_connected,
            LayerSet::Convolutional => !fully_connected,
            LayerSet::Names(n) => n.iter().any(|x| x == layer),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            LayerSet::All => "maskable".into(),
            LayerSet::FullyConnected => "fully connected".into(),
            LayerSet::Convolutional => "convolutional".into(),
            LayerSet::Names(n) => format!("{n:?}"),
        }
    }
}

/// Whether the amount applies to each layer alone or to all selected layers
/// together (one ranking across layers: a layer may lose more than another).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The same fraction (or threshold) in every layer.
    #[default]
    PerLayer,
    /// One ranking over every selected weight.
    Global,
}

/// How much to prune.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    /// Prune the lowest-scoring fraction in [0, 1] (rounded to the nearest
    /// count); weights pruned before count toward it.
    Fraction(f64),
    /// Prune every weight scoring below this value.
    Threshold(f64),
}

impl Amount {
    pub(crate) fn check(self) -> Result<Self> {
        match self {
            Amount::Fraction(f) if !(0.0..=1.0).contains(&f) => Err(config(
                "Amount::Fraction",
                format!("fraction {f} is outside [0, 1]"),
            )),
            Amount::Threshold(t) if t.is_nan() => {
                Err(config("Amount::Threshold", "threshold is NaN"))
            }
            a => Ok(a),
        }
    }
}

/// The scores of one layer, with the mask it has now.
pub(crate) struct Scored {
    pub scores: ArrayD<f32>,
    pub keep: Option<ArrayD<f32>>,
}

impl Scored {
    /// The scores, `None` for weights pruned before (they stay pruned and
    /// rank below every score).
    fn effective(&self) -> Vec<Option<f32>> {
        match &self.keep {
            None => self.scores.iter().map(|&s| Some(s)).collect(),
            Some(k) => self
                .scores
                .iter()
                .zip(k.iter())
                .map(|(&s, &k)| (k != 0.0).then_some(s))
                .collect(),
        }
    }
}

/// Checks the scores (shape, no NaN).
pub(crate) fn check_scores(layer: &str, s: &ArrayD<f32>, shape: &[usize]) -> Result<()> {
    if s.shape() != shape {
        return Err(input(
            "prune",
            format!(
                "criterion gave scores {:?} for layer {layer} of shape {shape:?}",
                s.shape()
            ),
        ));
    }
    if s.iter().any(|v| v.is_nan()) {
        return Err(input(
            "prune",
            format!("criterion gave NaN scores for layer {layer}"),
        ));
    }
    Ok(())
}

/// New keep-masks (1 keep, 0 prune) for the layers, in the same order.
pub(crate) fn select(layers: &[Scored], scope: Scope, amount: Amount) -> Vec<ArrayD<f32>> {
    match (scope, amount) {
        (_, Amount::Threshold(t)) => layers
            .iter()
            .map(|l| {
                let pruned = l
                    .effective()
                    .into_iter()
                    .map(|s| s.is_none_or(|s| f64::from(s) < t));
                to_mask(l, pruned.collect())
            })
            .collect(),
        (Scope::PerLayer, Amount::Fraction(f)) => layers
            .iter()
            .map(|l| to_mask(l, lowest(&l.effective(), f)))
            .collect(),
        (Scope::Global, Amount::Fraction(f)) => {
            let all: Vec<Option<f32>> = layers.iter().flat_map(|l| l.effective()).collect();
            let mut pruned = lowest(&all, f).into_iter();
            layers
                .iter()
                .map(|l| to_mask(l, pruned.by_ref().take(l.scores.len()).collect()))
                .collect()
        }
    }
}

/// Marks the `round(f * n)` lowest scores, pruned-before ones first (ties:
/// earlier index first).
fn lowest(scores: &[Option<f32>], f: f64) -> Vec<bool> {
    let k = (f * scores.len() as f64).round() as usize;
    let key = |i: usize| scores[i].unwrap_or(f32::NEG_INFINITY);
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| {
        (scores[a].is_some().cmp(&scores[b].is_some()))
            .then(key(a).total_cmp(&key(b)))
            .then(a.cmp(&b))
    });
    let mut out = vec![false; scores.len()];
    for &i in &order[..k.min(scores.len())] {
        out[i] = true;
    }
    out
}

/// The keep-mask: 0 where newly pruned or pruned before (pruning never
/// restores a weight).
fn to_mask(l: &Scored, pruned: Vec<bool>) -> ArrayD<f32> {
    let before = l.effective();
    let v = pruned
        .into_iter()
        .zip(before)
        .map(|(p, s)| if p || s.is_none() { 0.0 } else { 1.0 })
        .collect();
    ArrayD::from_shape_vec(l.scores.raw_dim(), v).expect("one flag per score")
}
