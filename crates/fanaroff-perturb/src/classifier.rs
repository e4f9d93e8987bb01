//! What attacks and measures need from a model: probabilities out (the
//! workspace's [`Classifier`] of `fanaroff-train`), and for gradient
//! attacks the gradient of a loss with respect to the input
//! ([`GradientClassifier`]).

use crate::error::{Error, Result, check_images, input};
use fanaroff_nn::{Module, ModuleExt, Reduction, cross_entropy};
use fanaroff_tensor::Tensor;
use ndarray::{Array2, Array4, ArrayView4, Ix4};
use rand::SeedableRng;
use rand::rngs::StdRng;

pub use fanaroff_train::{Classifier, ModuleClassifier};

/// What a gradient attack needs beyond [`Classifier`]: the gradient of
/// a loss with respect to the input, for one draw.
pub trait GradientClassifier: Classifier {
    /// The mean cross-entropy of `labels` and its gradient with respect to
    /// the input `[N, C, H, W]`, for the draw `seed`.
    ///
    /// # Errors
    /// Model failures; labels that do not match the batch.
    fn loss_gradient(
        &self,
        x: ArrayView4<'_, f32>,
        labels: &[usize],
        seed: u64,
    ) -> Result<(f64, Array4<f32>)>;
}

impl<M: Module + Sync + ?Sized> GradientClassifier for ModuleClassifier<'_, M> {
    fn loss_gradient(
        &self,
        x: ArrayView4<'_, f32>,
        labels: &[usize],
        seed: u64,
    ) -> Result<(f64, Array4<f32>)> {
        check_images("loss_gradient", &x)?;
        if labels.len() != x.shape()[0] {
            return Err(input(
                "loss_gradient",
                format!("{} labels for {} images", labels.len(), x.shape()[0]),
            ));
        }
        let leaf = Tensor::new(x.to_owned().into_dyn()).requires_grad(true);
        let logits = self
            .model()
            .forward_rng(&leaf, &mut StdRng::seed_from_u64(seed))?;
        let loss = cross_entropy(&logits, labels, Reduction::Mean)?;
        let value = f64::from(loss.item()?);
        let grads = loss.backward()?;
        let g = grads
            .get(&leaf)
            .cloned()
            .unwrap_or_else(|| ndarray::ArrayD::zeros(leaf.data().raw_dim()));
        Ok((
            value,
            g.into_dimensionality::<Ix4>()
                .map_err(|e| input::<Error>("loss_gradient", e.to_string()))?,
        ))
    }
}

/// The gradient averaged over `draws` weight draws (expectation over
/// transformation, EOT): what a gradient attack should follow on a
/// stochastic model. One draw for a deterministic model.
///
/// # Errors
/// `draws == 0`; as [`GradientClassifier::loss_gradient`].
pub fn expected_gradient<C: GradientClassifier + ?Sized>(
    model: &C,
    x: ArrayView4<'_, f32>,
    labels: &[usize],
    draws: usize,
    seed: u64,
) -> Result<(f64, Array4<f32>)> {
    if draws == 0 {
        return Err(crate::error::config(
            "expected_gradient",
            "draws must be >= 1",
        ));
    }
    let n = if model.stochastic() { draws } else { 1 };
    let mut total = Array4::<f32>::zeros(x.raw_dim());
    let mut loss = 0.0;
    for d in 0..n {
        let (l, g) = model.loss_gradient(x, labels, seed.wrapping_add(d as u64))?;
        total += &g;
        loss += l;
    }
    Ok((loss / n as f64, total / n as f32))
}

/// Probabilities averaged over `draws` draws (one for a deterministic model).
///
/// # Errors
/// As [`Classifier::probabilities`].
pub fn mean_probabilities<C: Classifier + ?Sized>(
    model: &C,
    x: ArrayView4<'_, f32>,
    draws: usize,
    seed: u64,
) -> Result<Array2<f32>> {
    let n = if model.stochastic() { draws.max(1) } else { 1 };
    let mut total = model.probabilities(x.into_dyn(), seed)?;
    for d in 1..n {
        total += &model.probabilities(x.into_dyn(), seed.wrapping_add(d as u64))?;
    }
    Ok(total / n as f32)
}
