//! The relevance maps the SpRAy study clusters: LRP of the predicted class
//! for every test image, at the posterior mean and at fixed weight draws,
//! and the concepts (channels) of the last conv layer of a chain.

use crate::error::{Result, invalid};
use fanaroff_attention::{
    AttentionNet, GatedLayer, LrpConfig, concept_relevance, concept_relevance_gated, lrp_any,
};
use fanaroff_nn::{Module, ModuleExt, SampleMode, Sequential, set_sample_mode};
use fanaroff_tensor::{Tensor, no_grad};
use ndarray::{Array2, Array3, ArrayD, Axis, Slice};
use rand::SeedableRng;
use rand::rngs::StdRng;

const BATCH: usize = 32;

/// Batches of `x` along its first axis.
fn batches(x: &ArrayD<f32>) -> impl Iterator<Item = (std::ops::Range<usize>, Tensor)> + '_ {
    let n = x.shape()[0];
    (0..n).step_by(BATCH).map(move |s| {
        let r = s..(s + BATCH).min(n);
        let xb = x.slice_axis(Axis(0), Slice::from(r.clone())).to_owned();
        (r, Tensor::from_array(xb))
    })
}

/// The class the model (deterministic now: mean or a fixed draw) predicts
/// for each image.
pub(crate) fn predicted(model: &dyn Module, x: &ArrayD<f32>) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(x.shape()[0]);
    for (_, xb) in batches(x) {
        let z = no_grad(|| model.forward_rng(&xb, &mut StdRng::seed_from_u64(0)))?;
        for row in z.data().outer_iter() {
            let best = (0..row.len()).fold(0, |b, k| if row[k] > row[b] { k } else { b });
            out.push(best);
        }
    }
    Ok(out)
}

/// LRP maps `[N, H, W]` of `classes` (channels summed).
pub(crate) fn lrp_maps(
    model: &mut dyn Module,
    x: &ArrayD<f32>,
    classes: &[usize],
    cfg: &LrpConfig,
) -> Result<Array3<f32>> {
    let (n, h, w) = (x.shape()[0], x.shape()[2], x.shape()[3]);
    let mut maps = Array3::<f32>::zeros((n, h, w));
    for (r, xb) in batches(x) {
        let m = lrp_any(model, &xb, &classes[r.clone()], cfg)?.ok_or_else(|| {
            invalid(
                "study",
                "spray needs a model with LRP rules (a LeNet or the attention net)",
            )
        })?;
        let m = m.sum_axis(Axis(1));
        maps.slice_axis_mut(Axis(0), Slice::from(r)).assign(
            &m.into_dimensionality::<ndarray::Ix3>()
                .map_err(|e| invalid("spray", e.to_string()))?,
        );
    }
    Ok(maps)
}

/// The model at its posterior mean (no noise), in evaluation mode.
pub(crate) fn at_mean(model: &mut dyn Module) {
    model.set_training(false);
    set_sample_mode(model, SampleMode::Mean);
}

/// LRP maps of the same images at `draws` fixed weight draws (draw `d`:
/// `SampleMode::Fixed(seed + 1000 d)`), each draw explaining its own
/// predicted class; `[draws, N, H, W]`.
pub(crate) fn draw_maps(
    model: &mut dyn Module,
    x: &ArrayD<f32>,
    draws: usize,
    seed: u64,
    cfg: &LrpConfig,
) -> Result<Vec<Array3<f32>>> {
    let mut out = Vec::with_capacity(draws);
    for d in 0..draws as u64 {
        set_sample_mode(model, SampleMode::Fixed(seed.wrapping_add(1000 * d)));
        let classes = predicted(model, x)?;
        out.push(lrp_maps(model, x, &classes, cfg)?);
    }
    set_sample_mode(model, SampleMode::Mean);
    Ok(out)
}

/// One concept of the last conv layer: its channel, its share of the
/// layer's relevance over the images (signed relevance of the channel over
/// the summed absolute relevance of all channels), and the images that hold
/// most of it.
pub(crate) struct Concept {
    pub layer: String,
    pub channel: usize,
    pub share: f64,
    pub references: Vec<usize>,
}

/// The `top` channels of the last conv layer by their share of the summed
/// relevance, each with its `k` reference images (largest relevance for
/// that channel first): of a chain (LeNets), or of the last gated block of
/// the attention net (gated CRP rules). `None` for other models.
pub(crate) fn concepts(
    model: &mut dyn Module,
    x: &ArrayD<f32>,
    classes: &[usize],
    top: usize,
    k: usize,
    cfg: &LrpConfig,
) -> Result<Option<Vec<Concept>>> {
    let Some((layer, rel)) = layer_relevance(model, x, classes, cfg)? else {
        return Ok(None);
    };
    let per: Vec<f64> = rel.sum_axis(Axis(0)).to_vec();
    // shares of the summed absolute relevance: channels with negative
    // relevance would otherwise push the others' shares past 100 %
    let total: f64 = per.iter().map(|v| v.abs()).sum();
    let mut order: Vec<usize> = (0..per.len()).collect();
    order.sort_by(|&a, &b| per[b].total_cmp(&per[a]));
    let out = order
        .iter()
        .take(top)
        .map(|&c| {
            let col = rel.column(c);
            let mut imgs: Vec<usize> = (0..col.len()).collect();
            imgs.sort_by(|&a, &b| col[b].total_cmp(&col[a]));
            imgs.truncate(k);
            Concept {
                layer: layer.clone(),
                channel: c,
                share: per[c] / total,
                references: imgs,
            }
        })
        .collect();
    Ok(Some(out))
}

/// The concept layer of `model` and the relevance of each of its channels
/// per image, `[N, C]`.
fn layer_relevance(
    model: &mut dyn Module,
    x: &ArrayD<f32>,
    classes: &[usize],
    cfg: &LrpConfig,
) -> Result<Option<(String, Array2<f64>)>> {
    let xt = Tensor::from_array(x.clone());
    let Some(any) = model.as_any_mut() else {
        return Ok(None);
    };
    if let Some(net) = any.downcast_mut::<AttentionNet>() {
        let block = net.num_gates() - 1;
        let layers = net.block_layers(block).unwrap_or_default();
        let Some(layer) = layers.iter().rev().find(|n| n.starts_with('c')) else {
            return Ok(None);
        };
        let at = GatedLayer { block, layer };
        let rel = concept_relevance_gated(net, &xt, classes, at, cfg)?;
        return Ok(Some((
            format!("block{}.{layer}", block + 1),
            rel.mapv(f64::from),
        )));
    }
    let Some(seq) = any.downcast_mut::<Sequential>() else {
        return Ok(None);
    };
    let Some(layer) = seq
        .names()
        .iter()
        .rev()
        .find(|n| n.starts_with("conv"))
        .map(|s| s.to_string())
    else {
        return Ok(None);
    };
    let rel = concept_relevance(seq, &xt, classes, &layer, cfg)?;
    Ok(Some((layer, rel.mapv(f64::from))))
}
