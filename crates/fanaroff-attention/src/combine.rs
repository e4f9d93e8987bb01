//! The starting point of the fine-tuned aggregation's combination layer.
//!
//! The fine-tuned network is trained in two stages: first the gates' own
//! classifiers with deep supervision, then the combination of their logits
//! alone. In the first stage the combination layer receives no gradient,
//! yet it is the network's output, so validation and model selection see
//! it. Started at random, it would make the first stage's validation
//! numbers (and the epoch kept) meaningless; started as the mean of the
//! heads, the first stage is scored exactly as deep supervision is, and the
//! second stage learns a weighting from there.

use fanaroff_nn::{Error, Module, Result};
use fanaroff_tensor::Tensor;
use ndarray::{ArrayD, IxDyn};

/// Sets a linear layer `[classes, gates * classes]` (or its posterior mean)
/// so that it returns the mean of `gates` stacked logit vectors, with a
/// zero bias.
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) if the layer shows no
/// fully connected weight of that shape or a weight cannot be written (part of
/// a graph).
pub(crate) fn start_as_mean(combine: &mut dyn Module, gates: usize, classes: usize) -> Result<()> {
    let mut weight = None;
    combine.visit_weights("", &mut |_, w| weight = Some(w.param.clone()));
    let weight = weight.ok_or_else(|| invalid("the combination layer shows no weight".into()))?;
    let bias = weight.replacen("weight", "bias", 1);
    let mean = ArrayD::from_shape_fn(IxDyn(&[classes, gates * classes]), |i| {
        if i[1] % classes == i[0] {
            1.0 / gates as f32
        } else {
            0.0
        }
    });
    let (mut found, mut err) = (false, None);
    combine.visit_params_mut("", &mut |name, t| {
        let value = if name == weight {
            found = true;
            mean.clone()
        } else if name == bias {
            ArrayD::zeros(IxDyn(&[classes]))
        } else {
            return;
        };
        if let Err(e) = overwrite(name, t, &value) {
            err.get_or_insert(e);
        }
    });
    match err {
        Some(e) => Err(e),
        None if !found => Err(invalid(format!("no parameter `{weight}`"))),
        None => Ok(()),
    }
}

fn overwrite(name: &str, t: &mut Tensor, value: &ArrayD<f32>) -> Result<()> {
    let d = t
        .data_mut()
        .map_err(|e| invalid(format!("`{name}`: {e}")))?;
    if d.shape() != value.shape() {
        return Err(invalid(format!(
            "`{name}` has shape {:?}, need {:?}",
            d.shape(),
            value.shape()
        )));
    }
    d.assign(value);
    Ok(())
}

fn invalid(msg: String) -> Error {
    fanaroff_core::config("fine-tuned combination", msg)
}
