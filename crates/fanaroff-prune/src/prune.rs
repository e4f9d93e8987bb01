//! Pruning a model: score the selected layers, pick the weights, write masks.

use crate::criterion::Criterion;
use crate::error::{Result, input};
use crate::select::{Amount, LayerSet, Scope, Scored, check_scores, select};
use fanaroff_nn::{Module, join};
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What to prune: which layers, per layer or globally, how much.
///
/// ```
/// use fanaroff_prune::{LayerSet, PruneConfig};
/// let paper = PruneConfig::fraction(0.3); // FC layers, each layer 30 %
/// let global = PruneConfig::fraction(0.5).global().layers(LayerSet::All);
/// assert_ne!(paper, global);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PruneConfig {
    /// The layers to prune (default: fully connected, the paper's choice).
    #[serde(default)]
    pub layers: LayerSet,
    /// Per layer (default) or one global ranking.
    #[serde(default)]
    pub scope: Scope,
    /// The fraction to remove, or a score threshold.
    pub amount: Amount,
}

impl PruneConfig {
    /// Prune fraction `f` of the fully connected weights of each layer.
    pub fn fraction(f: f64) -> Self {
        PruneConfig {
            layers: LayerSet::default(),
            scope: Scope::PerLayer,
            amount: Amount::Fraction(f),
        }
    }

    /// Prune every fully connected weight scoring below `t`.
    pub fn threshold(t: f64) -> Self {
        PruneConfig {
            amount: Amount::Threshold(t),
            ..Self::fraction(0.0)
        }
    }

    /// Chooses the layers.
    pub fn layers(mut self, layers: LayerSet) -> Self {
        self.layers = layers;
        self
    }

    /// One ranking over every selected weight.
    pub fn global(mut self) -> Self {
        self.scope = Scope::Global;
        self
    }

    /// The same amount in every layer.
    pub fn per_layer(mut self) -> Self {
        self.scope = Scope::PerLayer;
        self
    }
}

/// Kept and total weights of one pruned layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerReport {
    /// Dotted layer name.
    pub layer: String,
    /// Weights in the layer.
    pub total: usize,
    /// Weights kept.
    pub kept: usize,
}

/// What [`prune`] did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PruneReport {
    /// The criterion's name.
    pub criterion: String,
    /// The selected layers, in model order.
    pub layers: Vec<LayerReport>,
}

impl PruneReport {
    /// Fraction of the selected weights that are pruned.
    pub fn sparsity(&self) -> f64 {
        let total: usize = self.layers.iter().map(|l| l.total).sum();
        let kept: usize = self.layers.iter().map(|l| l.kept).sum();
        if total == 0 {
            0.0
        } else {
            1.0 - kept as f64 / total as f64
        }
    }
}

/// Prunes `model`: scores the weights of the selected layers with
/// `criterion`, picks the lowest (per layer or globally), and writes the
/// layers' masks. A masked weight is exactly zero (mean zero, no noise, no
/// KL) in every later forward pass, training step and saved file. Weights
/// pruned before stay pruned and count toward a fraction, so pruning can be
/// repeated in steps.
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for a fraction
/// outside [0, 1] or a NaN threshold; [`InvalidInput`](fanaroff_core::Error::InvalidInput)
/// for a layer name the model does not have, a model without layers of the
/// asked kind, a criterion that cannot score a layer, or NaN scores.
/// On error the model is unchanged.
///
/// # Example
/// ```
/// use fanaroff_nn::{Linear, LinearConfig, ModuleExt, Sequential};
/// use fanaroff_prune::{Magnitude, PruneConfig, prune};
/// use rand::{SeedableRng, rngs::StdRng};
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let mut model = Sequential::new().push("fc", Linear::new(LinearConfig::new(10, 10), &mut rng)?);
/// let report = prune(&mut model, &mut Magnitude, &PruneConfig::fraction(0.3))?;
/// assert_eq!(report.layers[0].kept, 70);
/// assert_eq!(model.named_masks()[0].0, "fc.weight_mask");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn prune<M: Module + ?Sized>(
    model: &mut M,
    criterion: &mut dyn Criterion,
    cfg: &PruneConfig,
) -> Result<PruneReport> {
    let amount = cfg.amount.check()?;
    let (names, scored) = score_layers(model, criterion, &cfg.layers)?;
    let masks = select(&scored, cfg.scope, amount);
    let mut by_mask: BTreeMap<String, ArrayD<f32>> = names
        .iter()
        .map(|n| join(n, "weight_mask"))
        .zip(masks)
        .collect();
    let mut err = None;
    model.visit_masks_mut("", &mut |name, slot| {
        if let Some(m) = by_mask.remove(name)
            && let Err(e) = slot.set(m)
        {
            err.get_or_insert(e);
        }
    });
    if let Some(e) = err {
        return Err(e.into());
    }
    model.enforce_masks();
    Ok(report(model, criterion.name(), &names))
}

/// Scores every selected layer (names and scores in model order).
fn score_layers<M: Module + ?Sized>(
    model: &M,
    criterion: &mut dyn Criterion,
    set: &LayerSet,
) -> Result<(Vec<String>, Vec<Scored>)> {
    let mut names = Vec::new();
    let mut all = Vec::new();
    let mut scored = Vec::new();
    let mut err = None;
    model.visit_weights("", &mut |layer, w| {
        all.push(layer.to_string());
        if err.is_some() || !set.contains(layer, w.is_fully_connected()) {
            return;
        }
        let s = criterion
            .scores(layer, w)
            .and_then(|s| check_scores(layer, &s, w.mean.shape()).map(|_| s));
        match s {
            Ok(scores) => {
                names.push(layer.to_string());
                scored.push(Scored {
                    scores,
                    keep: w.mask.get().cloned(),
                });
            }
            Err(e) => err = Some(e),
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    check_selection(set, &names, &all)?;
    Ok((names, scored))
}

fn check_selection(set: &LayerSet, found: &[String], all: &[String]) -> Result<()> {
    if let LayerSet::Names(asked) = set
        && let Some(missing) = asked.iter().find(|n| !all.contains(n))
    {
        return Err(input(
            "prune",
            format!("the model has no maskable layer {missing:?}; its maskable layers are {all:?}"),
        ));
    }
    if found.is_empty() {
        return Err(input(
            "prune",
            format!(
                "the model has no {} layer to prune (maskable layers: {all:?})",
                set.describe()
            ),
        ));
    }
    Ok(())
}

fn report<M: Module + ?Sized>(model: &M, criterion: String, names: &[String]) -> PruneReport {
    let mut layers = Vec::new();
    model.visit_weights("", &mut |layer, w| {
        if names.iter().any(|n| n == layer) {
            layers.push(LayerReport {
                layer: layer.to_string(),
                total: w.len(),
                kept: w.mask.kept(),
            });
        }
    });
    PruneReport { criterion, layers }
}

/// Sparsity of every maskable layer of a model (pruned or not), for reports.
pub fn sparsity_by_layer<M: Module + ?Sized>(model: &M) -> Vec<LayerReport> {
    let mut out = Vec::new();
    model.visit_weights("", &mut |layer, w| {
        out.push(LayerReport {
            layer: layer.to_string(),
            total: w.len(),
            kept: w.mask.kept(),
        })
    });
    out
}
