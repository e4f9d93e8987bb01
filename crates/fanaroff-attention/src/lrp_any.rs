//! LRP of whichever model a caller holds: the gated rules for an
//! [`AttentionNet`], the layer rules for a [`Sequential`], nothing for
//! other models.

use crate::lrp_gated::lrp_attention;
use crate::net::AttentionNet;
use crate::saliency::{LrpConfig, lrp};
use fanaroff_nn::{Module, Result, Sequential};
use fanaroff_tensor::Tensor;
use ndarray::ArrayD;

/// The LRP relevance of `classes` for the inputs `x`, `[N, C, H, W]`, with
/// the rules that fit `model`: [`lrp_attention`] for an attention net,
/// [`lrp`] for a sequential model; `None` for any other model (no rules).
///
/// # Errors
/// As [`lrp`] and [`lrp_attention`]: a model in training mode, a layer
/// without rules, shape mismatches.
pub fn lrp_any(
    model: &mut dyn Module,
    x: &Tensor,
    classes: &[usize],
    cfg: &LrpConfig,
) -> Result<Option<ArrayD<f32>>> {
    let Some(any) = model.as_any_mut() else {
        return Ok(None);
    };
    if let Some(net) = any.downcast_mut::<AttentionNet>() {
        return lrp_attention(net, x, classes, cfg).map(Some);
    }
    match any.downcast_mut::<Sequential>() {
        Some(seq) => lrp(seq, x, classes, cfg).map(Some),
        None => Ok(None),
    }
}

/// Whether [`lrp_any`] has rules for `model` (an attention net or a
/// sequential model).
pub fn has_lrp_rules(model: &dyn Module) -> bool {
    model
        .as_any()
        .is_some_and(|a| a.is::<AttentionNet>() || a.is::<Sequential>())
}
