//! LRP through an attention-gated network (the rules are documented on
//! [`lrp_attention`], the public item).

use crate::net::{Aggregation, AttentionNet};
use crate::saliency::{
    LrpConfig, epsilon_step, one_hot, require_eval_mode, sequential_acts, sequential_backward,
};
use fanaroff_nn::{ModuleExt, Pass, Result, is_stochastic};
use fanaroff_tensor::Tensor;
use ndarray::{ArrayD, Axis, Slice};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// What the backward pass needs from the forward pass.
pub(crate) struct Trace {
    /// Per block: its input and every layer's output.
    pub(crate) blocks: Vec<Vec<ArrayD<f32>>>,
    /// Per gate: the gated features `alpha * x` and their spatial sums.
    pub(crate) gated: Vec<(ArrayD<f32>, ArrayD<f32>)>,
    /// Per head: its output (mean, deep supervision, fine-tuned).
    heads: Vec<ArrayD<f32>>,
    pub(crate) logits: ArrayD<f32>,
}

/// Relevance of `logit[n, classes[n]]` on the input of an attention-gated
/// network, shaped like `x`.
///
/// A gate multiplies two paths: `gated = alpha(x, g) * x`. We use the rule
/// LRP commonly uses for multiplicative gates (Arras et al. 2017 for LSTMs):
/// the attention map is a fixed weight on the signal, so all of `gated`'s
/// relevance goes to `x` and none to the gating path (theta, phi, psi and
/// the last block, which only computes the gating signal). Everything else
/// is the epsilon rule of [`lrp`](crate::lrp), layer by layer: the
/// classifier(s), the spatial sum, each backbone block, max pooling (winner
/// takes all), and `cfg.input_rule` at the first convolution. A block's
/// output collects relevance from its own gate and from the blocks above it.
///
/// Without biases (batch-norm shifts and running means included) the
/// relevance sums to the explained logit as `epsilon -> 0`.
///
/// Put the network in evaluation mode, with variational layers at their
/// posterior mean, first.
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for a stochastic
/// network, one in training mode or `classes` that do not fit; model errors.
pub fn lrp_attention(
    net: &mut AttentionNet,
    x: &Tensor,
    classes: &[usize],
    cfg: &LrpConfig,
) -> Result<ArrayD<f32>> {
    require_eval_mode(net, "lrp_attention")?;
    if is_stochastic(net) {
        return Err(fanaroff_core::input(
            "lrp_attention",
            "need a deterministic network (eval mode, SampleMode::Mean)",
        ));
    }
    let t = trace(net, x)?;
    let r_out = one_hot(t.logits.shape(), classes)? * &t.logits;
    let r_pooled = aggregation_backward(net, &t, &r_out, cfg.epsilon)?;
    let r0 = block_output_relevance(net, &t, &r_pooled, cfg, 0)?;
    sequential_backward(&mut net.blocks[0], &t.blocks[0], r0, cfg, true)
}

/// The relevance at the output of gated block `until`: its gate's share of
/// the pooled relevance plus what comes down from the blocks above (each
/// block above taken back through its layers by the epsilon rule).
pub(crate) fn block_output_relevance(
    net: &mut AttentionNet,
    t: &Trace,
    r_pooled: &[ArrayD<f32>],
    cfg: &LrpConfig,
    until: usize,
) -> Result<ArrayD<f32>> {
    let eps = cfg.epsilon;
    let mut r_above: Option<ArrayD<f32>> = None; // at the input of the next block
    for k in (until..net.gates.len()).rev() {
        let feat = t.blocks[k].last().expect("block output");
        let (gated, pooled) = &t.gated[k];
        // spatial sum (epsilon rule), then alpha * x with alpha fixed
        let share = ndarray::Zip::from(&r_pooled[k])
            .and(pooled)
            .map_collect(|&r, &z| r / stabilise(z, eps));
        let mut r = gated * &share.insert_axis(Axis(2)).insert_axis(Axis(3));
        if let Some(above) = &r_above {
            r = r + epsilon_step(&net.pool, feat, above, eps)?;
        }
        if k == until {
            return Ok(r);
        }
        r_above = Some(sequential_backward(
            &mut net.blocks[k],
            &t.blocks[k],
            r,
            cfg,
            false,
        )?);
    }
    Err(fanaroff_core::input(
        "lrp_attention",
        format!(
            "block {until}: the network has {} gated blocks",
            net.gates.len()
        ),
    ))
}

pub(crate) fn stabilise(z: f32, eps: f32) -> f32 {
    z + eps * if z < 0.0 { -1.0 } else { 1.0 }
}

/// The forward pass of [`AttentionNet::forward_all`], keeping activations.
pub(crate) fn trace(net: &AttentionNet, x: &Tensor) -> Result<Trace> {
    let mut rng = StdRng::seed_from_u64(0);
    let mut h = x.data().clone();
    let mut blocks = Vec::new();
    for (i, block) in net.blocks.iter().enumerate() {
        let acts = sequential_acts(block, &h)?;
        h = acts.last().expect("block output").clone();
        blocks.push(acts);
        if i + 1 < net.blocks.len() {
            h = net
                .pool
                .forward_rng(&Tensor::new(h), &mut rng)?
                .data()
                .clone();
        }
    }
    let g = Tensor::new(h);
    let mut gated = Vec::new();
    for (gate, acts) in net.gates.iter().zip(&blocks) {
        let f = Tensor::new(acts.last().expect("block output").clone());
        let (y, _alpha) = gate.gate(&f, &g, &mut Pass::new(&mut rng))?;
        let pooled = y.sum_axes(&[2, 3], false)?.data().clone();
        gated.push((y.data().clone(), pooled));
    }
    let pooled: Vec<Tensor> = gated.iter().map(|(_, p)| Tensor::new(p.clone())).collect();
    let (logits, heads) = net.aggregate_logits(&pooled, &mut Pass::new(&mut rng))?;
    Ok(Trace {
        blocks,
        gated,
        heads: heads.iter().map(|t| t.data().clone()).collect(),
        logits: logits.data().clone(),
    })
}

/// Relevance of each gate's pooled vector from the relevance of the logits.
pub(crate) fn aggregation_backward(
    net: &AttentionNet,
    t: &Trace,
    r_out: &ArrayD<f32>,
    eps: f32,
) -> Result<Vec<ArrayD<f32>>> {
    let pooled: Vec<&ArrayD<f32>> = t.gated.iter().map(|(_, p)| p).collect();
    if net.cfg.aggregation == Aggregation::Concat {
        let v = concat(&pooled)?;
        let r = epsilon_step(&*net.heads[0], &v, r_out, eps)?;
        return Ok(split(&r, &pooled));
    }
    let r_heads: Vec<ArrayD<f32>> = match &net.combine {
        // with the study code's ReLU on the heads, the combination reads the
        // rectified logits; relevance passes a ReLU unchanged
        Some(c) => {
            let read: Vec<ArrayD<f32>> = if net.cfg.aggregation.relu_on_heads() {
                t.heads.iter().map(|h| h.mapv(|v| v.max(0.0))).collect()
            } else {
                t.heads.clone()
            };
            let u = concat(&read.iter().collect::<Vec<_>>())?;
            let r = epsilon_step(&**c, &u, r_out, eps)?;
            split(&r, &read.iter().collect::<Vec<_>>())
        }
        // logits = mean of the heads: each head's share of every logit
        None => {
            let k = t.heads.len() as f32;
            let s = ndarray::Zip::from(r_out)
                .and(&t.logits)
                .map_collect(|&r, &z| r / stabilise(z, eps));
            t.heads.iter().map(|h| h / k * &s).collect()
        }
    };
    let mut r_pooled: Vec<ArrayD<f32>> = net
        .heads
        .iter()
        .zip(&pooled)
        .zip(&r_heads)
        .map(|((h, p), r)| epsilon_step(&**h, p, r, eps))
        .collect::<Result<_>>()?;
    if net.cfg.aggregation == Aggregation::MeanWithConcat {
        // the last head reads the concatenation: split its relevance back
        let n = pooled.len();
        let r = epsilon_step(&*net.heads[n], &concat(&pooled)?, &r_heads[n], eps)?;
        for (acc, part) in r_pooled.iter_mut().zip(split(&r, &pooled)) {
            *acc += &part;
        }
    }
    Ok(r_pooled)
}

fn concat(parts: &[&ArrayD<f32>]) -> Result<ArrayD<f32>> {
    let views: Vec<_> = parts.iter().map(|a| a.view()).collect();
    ndarray::concatenate(Axis(1), &views)
        .map_err(|e| fanaroff_core::input("lrp_attention", e.to_string()))
}

/// Splits `r` along axis 1 into pieces as wide as `like`.
fn split(r: &ArrayD<f32>, like: &[&ArrayD<f32>]) -> Vec<ArrayD<f32>> {
    let mut start = 0;
    like.iter()
        .map(|p| {
            let w = p.shape()[1];
            let piece = r
                .slice_axis(Axis(1), Slice::from(start..start + w))
                .to_owned();
            start += w;
            piece
        })
        .collect()
}
