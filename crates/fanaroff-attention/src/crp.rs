//! Concept relevance propagation (Achtibat et al. 2023) for chains of
//! layers: LRP conditioned on channels of one layer ("concepts"), the
//! relevance of each concept, and reference images per concept by
//! relevance maximisation.

use crate::saliency::{
    Condition, LrpConfig, epsilon_step, one_hot, require_eval_mode, sequential_acts,
    sequential_backward_where,
};
use fanaroff_nn::{Module, Result, Sequential, is_stochastic};
use fanaroff_tensor::Tensor;
use ndarray::{Array2, ArrayD, Axis};

fn layer_index(model: &Sequential, layer: &str) -> Result<usize> {
    model
        .names()
        .iter()
        .position(|n| *n == layer)
        .ok_or_else(|| {
            fanaroff_core::input(
                "crp",
                format!("no layer `{layer}`; layers: {:?}", model.names()),
            )
        })
}

fn check(model: &Sequential, what: &'static str) -> Result<()> {
    require_eval_mode(model, what)?;
    if is_stochastic(model) || model.is_empty() {
        return Err(fanaroff_core::input(
            what,
            "need a non-empty deterministic model",
        ));
    }
    Ok(())
}

/// The input relevance of `logit[n, classes[n]]` conditioned on
/// `channels` of `layer`: LRP as [`lrp`](crate::lrp), with the relevance at
/// the output of `layer` kept on those channels only. Over all channels of
/// the layer the conditional maps sum to the unconditional one (the rules
/// are linear in the relevance).
///
/// # Errors
/// As [`lrp`](crate::lrp); an unknown layer; a channel the layer does not have.
pub fn conditional_relevance(
    model: &mut Sequential,
    x: &Tensor,
    classes: &[usize],
    layer: &str,
    channels: &[usize],
    cfg: &LrpConfig,
) -> Result<ArrayD<f32>> {
    check(model, "conditional_relevance")?;
    let index = layer_index(model, layer)?;
    let acts = sequential_acts(model, x.data())?;
    let width = acts[index + 1].shape().get(1).copied().unwrap_or(0);
    if let Some(c) = channels.iter().find(|&&c| c >= width) {
        return Err(fanaroff_core::input(
            "crp",
            format!("channel {c}; `{layer}` has {width}"),
        ));
    }
    let out = acts.last().expect("output");
    let r = one_hot(out.shape(), classes)? * out;
    let condition = Condition {
        layer: index,
        channels,
    };
    sequential_backward_where(model, &acts, r, cfg, true, Some(&condition))
}

/// The relevance of every channel of `layer` for `logit[n, classes[n]]`,
/// `[N, C]`: the LRP relevance at the layer's output summed over positions.
///
/// # Errors
/// As [`conditional_relevance`].
pub fn concept_relevance(
    model: &mut Sequential,
    x: &Tensor,
    classes: &[usize],
    layer: &str,
    cfg: &LrpConfig,
) -> Result<Array2<f32>> {
    check(model, "concept_relevance")?;
    let index = layer_index(model, layer)?;
    let acts = sequential_acts(model, x.data())?;
    let out = acts.last().expect("output");
    let mut r = one_hot(out.shape(), classes)? * out;
    let names: Vec<String> = model.names().iter().map(|s| s.to_string()).collect();
    for i in (index + 1..names.len()).rev() {
        let m: &dyn Module = model.get(&names[i]).expect("named child");
        r = epsilon_step(m, &acts[i], &r, cfg.epsilon)?;
    }
    let (n, c) = (r.shape()[0], r.shape().get(1).copied().unwrap_or(1));
    let rest = r.len() / (n * c).max(1);
    let r = r
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((n, c, rest))
        .map_err(|e| fanaroff_core::input::<fanaroff_nn::Error>("crp", e.to_string()))?;
    Ok(r.sum_axis(Axis(2)))
}

/// Reference images of a concept by relevance maximisation: the indices of
/// the `k` images of `x` whose relevance for channel `channel` of `layer`
/// (for their own class `classes[n]`) is largest, largest first.
///
/// # Errors
/// As [`concept_relevance`]; a channel the layer does not have.
pub fn reference_images(
    model: &mut Sequential,
    x: &Tensor,
    classes: &[usize],
    layer: &str,
    channel: usize,
    k: usize,
    cfg: &LrpConfig,
) -> Result<Vec<usize>> {
    let rel = concept_relevance(model, x, classes, layer, cfg)?;
    if channel >= rel.ncols() {
        return Err(fanaroff_core::input(
            "crp",
            format!("channel {channel}; `{layer}` has {}", rel.ncols()),
        ));
    }
    let col = rel.column(channel);
    let mut order: Vec<usize> = (0..col.len()).collect();
    order.sort_by(|&a, &b| col[b].total_cmp(&col[a]).then(a.cmp(&b)));
    order.truncate(k);
    Ok(order)
}
