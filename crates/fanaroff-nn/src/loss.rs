//! Loss functions. Each checks its inputs and returns a scalar tensor.

use crate::error::{Result, input};
use fanaroff_tensor::Tensor;
use ndarray::{ArrayD, IxDyn};

/// How per-example losses are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduction {
    /// Sum over the batch (the ELBO's likelihood term uses this).
    Sum,
    /// Mean over the batch.
    Mean,
}

fn reduce(per: Tensor, r: Reduction) -> Tensor {
    match r {
        Reduction::Sum => per.sum(),
        Reduction::Mean => per.mean(),
    }
}

fn check_finite(what: &'static str, t: &Tensor) -> Result<()> {
    if t.data().iter().any(|v| !v.is_finite()) {
        return Err(input(what, "input contains NaN or infinite values"));
    }
    Ok(())
}

/// Negative log-likelihood from log-probabilities `[N, K]` and class indices.
///
/// ```text
/// loss_n = -log_probs[n, targets[n]]
/// ```
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for an empty batch, a
/// label count different from `N`, a label `>= K`, or non-finite inputs.
pub fn nll_loss(log_probs: &Tensor, targets: &[usize], reduction: Reduction) -> Result<Tensor> {
    let s = log_probs.shape();
    if s.len() != 2 {
        return Err(input(
            "nll_loss",
            format!("expected [N, K] log-probabilities, got {s:?}"),
        ));
    }
    if s[0] == 0 {
        return Err(input("nll_loss", "empty batch"));
    }
    if targets.len() != s[0] {
        return Err(input(
            "nll_loss",
            format!("{} labels for a batch of {}", targets.len(), s[0]),
        ));
    }
    if let Some(&bad) = targets.iter().find(|&&t| t >= s[1]) {
        return Err(input(
            "nll_loss",
            format!("label {bad} out of range for {} classes", s[1]),
        ));
    }
    check_finite("nll_loss", log_probs)?;
    let idx = ArrayD::from_shape_vec(IxDyn(&[s[0], 1]), targets.to_vec()).expect("N x 1");
    Ok(reduce(log_probs.gather(1, &idx)?.neg(), reduction))
}

/// Cross-entropy from unnormalised logits `[N, K]`: `nll_loss(log_softmax(logits))`.
///
/// # Errors
/// As [`nll_loss`].
///
/// # Example
/// ```
/// use fanaroff_nn::{cross_entropy, Reduction};
/// use fanaroff_tensor::Tensor;
/// use approx::assert_abs_diff_eq;
/// let logits = Tensor::from_vec(vec![0.0, 0.0, 2.0, 0.0], &[2, 2]).unwrap();
/// let l = cross_entropy(&logits, &[0, 0], Reduction::Mean).unwrap();
/// // (ln 2 + ln(1 + e^-2)) / 2
/// assert_abs_diff_eq!(l.item().unwrap(), (2f32.ln() + (1.0 + (-2f32).exp()).ln()) / 2.0, epsilon = 1e-6);
/// ```
pub fn cross_entropy(logits: &Tensor, targets: &[usize], reduction: Reduction) -> Result<Tensor> {
    if logits.ndim() != 2 {
        return Err(input(
            "cross_entropy",
            format!("expected [N, K] logits, got {:?}", logits.shape()),
        ));
    }
    check_finite("cross_entropy", logits)?;
    nll_loss(&logits.log_softmax(1)?, targets, reduction)
}

/// Mean (or summed) squared error, `(pred - target)^2`.
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for different shapes
/// or an empty input.
pub fn mse_loss(pred: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    if pred.shape() != target.shape() {
        return Err(input(
            "mse_loss",
            format!("shapes {:?} and {:?} differ", pred.shape(), target.shape()),
        ));
    }
    if pred.is_empty() {
        return Err(input("mse_loss", "empty input"));
    }
    Ok(reduce(pred.sub(target)?.square(), reduction))
}

/// Gaussian negative log-likelihood with predicted variance (PyTorch's
/// `GaussianNLLLoss` convention):
///
/// ```text
/// loss = 0.5 (ln max(var, eps) + (target - mean)^2 / max(var, eps))  [+ 0.5 ln 2 pi if full]
/// ```
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for different shapes,
/// an empty input or a negative variance.
pub fn gaussian_nll_loss(
    mean: &Tensor,
    var: &Tensor,
    target: &Tensor,
    eps: f32,
    full: bool,
    reduction: Reduction,
) -> Result<Tensor> {
    if mean.shape() != target.shape() || var.shape() != mean.shape() {
        return Err(input(
            "gaussian_nll_loss",
            format!(
                "mean {:?}, var {:?}, target {:?} must have one shape",
                mean.shape(),
                var.shape(),
                target.shape()
            ),
        ));
    }
    if mean.is_empty() {
        return Err(input("gaussian_nll_loss", "empty input"));
    }
    if var.data().iter().any(|&v| v < 0.0 || v.is_nan()) {
        return Err(input("gaussian_nll_loss", "variance must be non-negative"));
    }
    let v = var.maximum(&Tensor::scalar(eps))?;
    let mut per = v
        .log()
        .add(&target.sub(mean)?.square().div(&v)?)?
        .mul_scalar(0.5);
    if full {
        per = per.add_scalar(0.5 * (2.0 * std::f32::consts::PI).ln());
    }
    Ok(reduce(per, reduction))
}
