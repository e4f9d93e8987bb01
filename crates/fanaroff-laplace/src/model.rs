//! From a trained model of the workspace to the inputs of a last-layer
//! Laplace fit: its penultimate features and its last linear layer.

use crate::error::{Result, config, input};
use crate::layout::LinearHead;
use crate::posterior::{LaplaceConfig, LastLayerLaplace};
use fanaroff_nn::{LastLayer, Module, ModuleExt, Pass, in_training_mode, is_stochastic};
use fanaroff_tensor::{Tensor, no_grad};
use ndarray::{Array1, Array2, ArrayViewD, Axis, Ix2, Slice};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The trained parameters of a linear layer: exactly a `weight` `[M, D]`
/// and optionally a `bias` `[M]`, without noise (a variational layer has
/// other parameters and is refused).
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for any other layer.
pub fn linear_head(layer: &dyn Module) -> Result<LinearHead> {
    let not_linear = |why: String| {
        input(
            "last layer",
            format!("not a deterministic linear layer: {why}"),
        )
    };
    if layer.sample_mode().is_some() {
        return Err(not_linear("it samples its weights".into()));
    }
    let (mut weight, mut bias, mut other) = (None, None, Vec::new());
    layer.visit_params("", &mut |name, t| match name {
        "weight" => weight = Some(t.data().mapv(f64::from)),
        "bias" => bias = Some(t.data().mapv(f64::from)),
        _ => other.push(name.to_string()),
    });
    if !other.is_empty() {
        return Err(not_linear(format!("parameters {other:?}")));
    }
    let weight = weight
        .ok_or_else(|| not_linear("no `weight`".into()))?
        .into_dimensionality::<Ix2>()
        .map_err(|_| not_linear("`weight` is not a matrix".into()))?;
    let bias = match bias {
        Some(b) if b.ndim() == 1 && b.len() == weight.nrows() => {
            Some(Array1::from(b.iter().copied().collect::<Vec<_>>()))
        }
        Some(b) => return Err(not_linear(format!("`bias` has shape {:?}", b.shape()))),
        None => None,
    };
    Ok(LinearHead { weight, bias })
}

/// Penultimate features `[N, D]` of `images` (`[N, ...]`, as the model
/// takes them), computed in batches without gradients. The model must be
/// in evaluation mode and deterministic.
///
/// # Errors
/// A model in training mode or with sampling layers, no images, a zero
/// batch size, forward failures.
pub fn penultimate_features(
    model: &dyn LastLayer,
    images: ArrayViewD<'_, f32>,
    batch_size: usize,
) -> Result<Array2<f64>> {
    check_model(model)?;
    if images.ndim() < 2 || images.shape()[0] == 0 {
        return Err(input(
            "images",
            format!("shape {:?}; need [N > 0, ...]", images.shape()),
        ));
    }
    if batch_size == 0 {
        return Err(config("batch_size", "0; must be >= 1"));
    }
    let mut rows = Vec::new();
    let n = images.shape()[0];
    for start in (0..n).step_by(batch_size) {
        let x = images.slice_axis(Axis(0), Slice::from(start..(start + batch_size).min(n)));
        let phi = no_grad(|| {
            model.penultimate(
                &Tensor::from_array(x.to_owned()),
                &mut Pass::new(&mut StdRng::seed_from_u64(0)),
            )
        })?;
        rows.push(
            phi.data()
                .mapv(f64::from)
                .into_dimensionality::<Ix2>()
                .map_err(|_| {
                    input::<crate::Error>(
                        "penultimate features",
                        format!("shape {:?}; need [N, D]", phi.shape()),
                    )
                })?,
        );
    }
    let views: Vec<_> = rows.iter().map(|r| r.view()).collect();
    ndarray::concatenate(Axis(0), &views).map_err(|e| input("penultimate features", e.to_string()))
}

fn check_model(model: &dyn LastLayer) -> Result<()> {
    let m: &dyn Module = model;
    if in_training_mode(m) {
        return Err(config(
            "model",
            "in training mode; call `eval()` first (batch norm, dropout)",
        ));
    }
    if is_stochastic(m) {
        return Err(config(
            "model",
            "has sampling layers; a Laplace fit needs a deterministic network (set_sample_mode(SampleMode::Mean) for MC dropout)",
        ));
    }
    Ok(())
}

/// Fits a last-layer Laplace posterior to a trained model on training
/// `images` and `labels`. Checks on the first batch that the last layer
/// applied to the penultimate features gives the model's own outputs.
///
/// # Errors
/// As [`penultimate_features`] and [`linear_head`]; a last layer whose
/// outputs differ from the model's; as [`LastLayerLaplace::fit`].
pub fn fit_model(
    model: &dyn LastLayer,
    images: ArrayViewD<'_, f32>,
    labels: &[usize],
    cfg: LaplaceConfig,
    batch_size: usize,
) -> Result<LastLayerLaplace> {
    let head = linear_head(model.last_layer()?)?;
    let features = penultimate_features(model, images.view(), batch_size)?;
    check_outputs(model, images, &features, &head)?;
    LastLayerLaplace::fit(features.view(), labels, head, cfg)
}

fn check_outputs(
    model: &dyn LastLayer,
    images: ArrayViewD<'_, f32>,
    features: &Array2<f64>,
    head: &LinearHead,
) -> Result<()> {
    let k = images.shape()[0].min(8);
    let x = Tensor::from_array(images.slice_axis(Axis(0), Slice::from(0..k)).to_owned());
    let out = no_grad(|| model.forward_rng(&x, &mut StdRng::seed_from_u64(0)))?;
    let ours = head.logits(features.slice(ndarray::s![0..k, ..]));
    let theirs = out.data().mapv(f64::from);
    let close = theirs.shape() == ours.shape()
        && theirs
            .iter()
            .zip(ours.iter())
            .all(|(a, b)| (a - b).abs() <= 1e-3 * (1.0 + a.abs()));
    if !close {
        return Err(input(
            "last layer",
            "the model's outputs are not its last layer applied to its penultimate features (a nonlinearity after the last linear layer?)",
        ));
    }
    Ok(())
}
