//! Concept relevance (CRP) through the attention-gated network: LRP with
//! the gated rules of [`lrp_attention`](crate::lrp_attention), conditioned
//! on channels of one layer of one gated block.
//!
//! The rules are those of the unconditional map: a gate passes all of
//! `alpha * x`'s relevance to `x` (the map is a fixed weight), so nothing
//! reaches the gating path and the bilinear resize of the map carries no
//! relevance; the aggregation (concat, mean of heads, fine-tuned
//! combination) splits the logit's relevance over the gates by the epsilon
//! rule. A concept of block `b` collects the relevance that passes through
//! that block: its own gate's share and what comes down from the blocks
//! above. Relevance that enters below `b` (the gates of blocks `< b`) never
//! passes through it and belongs to none of its concepts, so over all
//! channels of block `b` the conditional maps sum to the map of the
//! relevance through block `b`: the whole unconditional map for `b = 0`.

use crate::lrp_gated::{aggregation_backward, block_output_relevance, trace};
use crate::net::AttentionNet;
use crate::saliency::{
    Condition, LrpConfig, epsilon_step, one_hot, require_eval_mode, sequential_backward,
    sequential_backward_where,
};
use fanaroff_nn::{Module, Result, is_stochastic};
use fanaroff_tensor::Tensor;
use ndarray::{Array2, ArrayD, Axis};

/// A layer of a gated block, by block index and layer name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatedLayer<'a> {
    /// The block (0: the finest, next to the input).
    pub block: usize,
    /// The layer's name inside the block (e.g. `"conv1"`).
    pub layer: &'a str,
}

fn check(net: &AttentionNet, at: GatedLayer<'_>, what: &'static str) -> Result<usize> {
    require_eval_mode(net, what)?;
    if is_stochastic(net) {
        return Err(fanaroff_core::input(
            what,
            "need a deterministic network (eval mode, SampleMode::Mean)",
        ));
    }
    if at.block >= net.gates.len() {
        return Err(fanaroff_core::input(
            what,
            format!(
                "block {}; the network has {} gated blocks",
                at.block,
                net.gates.len()
            ),
        ));
    }
    let names = net.blocks[at.block].names();
    names.iter().position(|n| *n == at.layer).ok_or_else(|| {
        fanaroff_core::input(
            what,
            format!(
                "no layer `{}` in block {}; layers: {names:?}",
                at.layer, at.block
            ),
        )
    })
}

/// The input relevance of `logit[n, classes[n]]` that passes through
/// `channels` of `at` (see the module docs), shaped like `x`.
///
/// # Errors
/// A stochastic network or one in training mode; an unknown block or
/// layer; a channel the layer does not have; `classes` that do not fit.
pub fn conditional_relevance_gated(
    net: &mut AttentionNet,
    x: &Tensor,
    classes: &[usize],
    at: GatedLayer<'_>,
    channels: &[usize],
    cfg: &LrpConfig,
) -> Result<ArrayD<f32>> {
    let index = check(net, at, "conditional_relevance_gated")?;
    let t = trace(net, x)?;
    let width = t.blocks[at.block][index + 1].shape()[1];
    if let Some(c) = channels.iter().find(|&&c| c >= width) {
        return Err(fanaroff_core::input(
            "crp",
            format!(
                "channel {c}; `{}` of block {} has {width}",
                at.layer, at.block
            ),
        ));
    }
    let r_out = one_hot(t.logits.shape(), classes)? * &t.logits;
    let r_pooled = aggregation_backward(net, &t, &r_out, cfg.epsilon)?;
    let r_b = block_output_relevance(net, &t, &r_pooled, cfg, at.block)?;
    let condition = Condition {
        layer: index,
        channels,
    };
    let b = at.block;
    let mut r = sequential_backward_where(
        &mut net.blocks[b],
        &t.blocks[b],
        r_b,
        cfg,
        b == 0,
        Some(&condition),
    )?;
    for k in (0..b).rev() {
        let feat = t.blocks[k].last().expect("block output");
        r = epsilon_step(&net.pool, feat, &r, cfg.epsilon)?;
        r = sequential_backward(&mut net.blocks[k], &t.blocks[k], r, cfg, k == 0)?;
    }
    Ok(r)
}

/// The relevance of every channel of `at` for `logit[n, classes[n]]`,
/// `[N, C]`: the relevance at the layer's output summed over positions.
///
/// # Errors
/// As [`conditional_relevance_gated`].
pub fn concept_relevance_gated(
    net: &mut AttentionNet,
    x: &Tensor,
    classes: &[usize],
    at: GatedLayer<'_>,
    cfg: &LrpConfig,
) -> Result<Array2<f32>> {
    let index = check(net, at, "concept_relevance_gated")?;
    let t = trace(net, x)?;
    let r_out = one_hot(t.logits.shape(), classes)? * &t.logits;
    let r_pooled = aggregation_backward(net, &t, &r_out, cfg.epsilon)?;
    let mut r = block_output_relevance(net, &t, &r_pooled, cfg, at.block)?;
    let block = &net.blocks[at.block];
    let names: Vec<String> = block.names().iter().map(|s| s.to_string()).collect();
    let acts = &t.blocks[at.block];
    for i in (index + 1..names.len()).rev() {
        let m: &dyn Module = block.get(&names[i]).expect("named child");
        r = epsilon_step(m, &acts[i], &r, cfg.epsilon)?;
    }
    let (n, c) = (r.shape()[0], r.shape()[1]);
    let rest = r.len() / (n * c).max(1);
    Ok(r.as_standard_layout()
        .into_owned()
        .into_shape_with_order((n, c, rest))
        .map_err(|e| fanaroff_core::input::<fanaroff_nn::Error>("crp", e.to_string()))?
        .sum_axis(Axis(2)))
}
