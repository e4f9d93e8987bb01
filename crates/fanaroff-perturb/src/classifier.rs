//! The small trait attacks and measures need from a model: probabilities
//! out, and the gradient of a loss with respect to the input.

use crate::error::{Error, Result, check_images, input};
use fanaroff_nn::{Module, Reduction, cross_entropy};
use fanaroff_tensor::Tensor;
use ndarray::{Array2, Array4, ArrayView4, Ix2, Ix4};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// What a perturbation study needs from a model. `seed` picks the weight
/// draw (or dropout mask) of a stochastic model; a deterministic model
/// ignores it.
pub trait Classifier: Sync {
    /// Class probabilities `[N, K]` of inputs `[N, C, H, W]` for one draw.
    ///
    /// # Errors
    /// Model failures; invalid input.
    fn probabilities(&self, x: ArrayView4<'_, f32>, seed: u64) -> Result<Array2<f32>>;

    /// The mean cross-entropy of `labels` and its gradient with respect to
    /// the input, for one draw.
    ///
    /// # Errors
    /// Model failures; labels that do not match the batch.
    fn loss_gradient(
        &self,
        x: ArrayView4<'_, f32>,
        labels: &[usize],
        seed: u64,
    ) -> Result<(f64, Array4<f32>)>;

    /// Whether outputs differ between draws (Bayesian, MC dropout).
    fn stochastic(&self) -> bool {
        false
    }
}

/// Any model of the workspace as a [`Classifier`].
pub struct ModuleClassifier<'a, M: ?Sized> {
    model: &'a M,
    stochastic: bool,
}

impl<'a, M: Module + ?Sized> ModuleClassifier<'a, M> {
    /// Wraps `model`; `stochastic` says whether its outputs vary by draw.
    pub fn new(model: &'a M, stochastic: bool) -> Self {
        ModuleClassifier { model, stochastic }
    }
}

impl<M: Module + Sync + ?Sized> Classifier for ModuleClassifier<'_, M> {
    fn probabilities(&self, x: ArrayView4<'_, f32>, seed: u64) -> Result<Array2<f32>> {
        check_images("probabilities", &x)?;
        let t = Tensor::new(x.to_owned().into_dyn());
        let logits =
            fanaroff_tensor::no_grad(|| self.model.forward(&t, &mut StdRng::seed_from_u64(seed)))?;
        let p = logits.softmax(1)?;
        p.data()
            .clone()
            .into_dimensionality::<Ix2>()
            .map_err(|e| input("probabilities", e.to_string()))
    }

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
            .model
            .forward(&leaf, &mut StdRng::seed_from_u64(seed))?;
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

    fn stochastic(&self) -> bool {
        self.stochastic
    }
}

/// The gradient averaged over `draws` weight draws (expectation over
/// transformation, EOT): what a gradient attack should follow on a
/// stochastic model. One draw for a deterministic model.
///
/// # Errors
/// `draws == 0`; as [`Classifier::loss_gradient`].
pub fn expected_gradient<C: Classifier + ?Sized>(
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
    let mut total = model.probabilities(x, seed)?;
    for d in 1..n {
        total += &model.probabilities(x, seed.wrapping_add(d as u64))?;
    }
    Ok(total / n as f32)
}
