//! The Laplace posterior of a linear last layer: a Gaussian at the trained
//! weights whose precision is the loss's curvature plus the prior's.

use crate::curvature::{Curvature, HessianKind, Structure, curvature, output_curvatures};
use crate::error::{Result, config, input};
use crate::head::Head;
use crate::layout::{Layout, LinearHead};
use crate::linalg::{cholesky, inverse, log_det};
use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

/// Settings of [`LastLayerLaplace::fit`].
///
/// | field | default | meaning |
/// |---|---|---|
/// | `hessian` | `ggn` | [`HessianKind`]: `ggn` or `empirical_fisher` |
/// | `structure` | `full` | [`Structure`]: `diag`, `kron` or `full` |
/// | `head` | `softmax` | [`Head`]: `softmax` (K >= 2 logits) or `sigmoid` (one logit) |
/// | `prior_precision` | 1 | delta of the isotropic Gaussian prior N(0, 1/delta) (> 0) |
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LaplaceConfig {
    /// The curvature.
    pub hessian: HessianKind,
    /// Its structure.
    pub structure: Structure,
    /// The likelihood.
    pub head: Head,
    /// The prior precision to start with.
    pub prior_precision: f64,
}

impl Default for LaplaceConfig {
    fn default() -> Self {
        LaplaceConfig {
            hessian: HessianKind::Ggn,
            structure: Structure::Full,
            head: Head::Softmax,
            prior_precision: 1.0,
        }
    }
}

/// A last-layer Laplace approximation: N(theta_MAP, (H + delta I)^-1) over
/// the last layer's parameters, with H the curvature of the summed
/// training loss at the trained weights.
///
/// # Example
/// ```
/// use fanaroff_laplace::{LaplaceConfig, LastLayerLaplace, LinearHead};
/// use ndarray::array;
/// let features = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.5]];
/// let head = LinearHead { weight: array![[0.5, -0.2], [-0.5, 0.2]], bias: Some(array![0.0, 0.0]) };
/// let la = LastLayerLaplace::fit(features.view(), &[0, 1, 0, 1], head, LaplaceConfig::default())?;
/// assert_eq!(la.n_params(), 6);
/// let p = la.predict_probit(features.view())?;
/// assert!((p.row(0).sum() - 1.0).abs() < 1e-12);
/// assert!(la.log_marginal_likelihood(1.0)?.is_finite());
/// # Ok::<(), fanaroff_laplace::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LastLayerLaplace {
    pub(crate) cfg: LaplaceConfig,
    pub(crate) head: LinearHead,
    pub(crate) layout: Layout,
    curvature: Curvature,
    hessian: Array2<f64>,
    loss: f64,
    n_data: usize,
    prior_precision: f64,
    pub(crate) covariance: Array2<f64>,
}

impl LastLayerLaplace {
    /// Fits the posterior from the training set's penultimate `features`
    /// `[N, D]` and `labels`, at the trained last layer `head`.
    ///
    /// # Errors
    /// Empty or non-finite features or weights, labels that do not match
    /// the features or exceed the classes, a head that does not suit the
    /// number of outputs, a prior precision that is not positive.
    pub fn fit(
        features: ArrayView2<'_, f64>,
        labels: &[usize],
        head: LinearHead,
        cfg: LaplaceConfig,
    ) -> Result<Self> {
        let layout = head.layout();
        check_head(&head, cfg.head)?;
        check_features(features, &layout)?;
        check_labels(labels, features.nrows(), cfg.head.classes(layout.outputs))?;
        let logits = head.logits(features);
        let (g, loss) = output_curvatures(logits.view(), labels, cfg.head, cfg.hessian);
        let curvature = curvature(features, &g, &layout, cfg.structure);
        let hessian = curvature.to_dense(&layout);
        let mut la = LastLayerLaplace {
            cfg,
            head,
            layout,
            curvature,
            hessian,
            loss,
            n_data: labels.len(),
            prior_precision: cfg.prior_precision,
            covariance: Array2::zeros((0, 0)),
        };
        la.set_prior_precision(cfg.prior_precision)?;
        Ok(la)
    }

    /// Changes the prior precision and recomputes the posterior covariance.
    ///
    /// # Errors
    /// A precision that is not finite and positive.
    pub fn set_prior_precision(&mut self, delta: f64) -> Result<()> {
        check_delta(delta)?;
        let l = cholesky(&self.precision_at(delta), "the posterior precision")?;
        self.covariance = inverse(&l);
        self.prior_precision = delta;
        Ok(())
    }

    /// The Laplace approximation of the log evidence at prior precision
    /// `delta` (the posterior is not changed):
    /// -loss - (ln det P - P ln delta + delta |theta|^2) / 2,
    /// with P = H + delta I over the P parameters.
    ///
    /// # Errors
    /// A precision that is not finite and positive.
    pub fn log_marginal_likelihood(&self, delta: f64) -> Result<f64> {
        check_delta(delta)?;
        let l = cholesky(&self.precision_at(delta), "the posterior precision")?;
        let theta = self.mean();
        let p = self.n_params() as f64;
        let log_det_ratio = log_det(&l) - p * delta.ln();
        Ok(-self.loss - 0.5 * (log_det_ratio + delta * theta.dot(&theta)))
    }

    fn precision_at(&self, delta: f64) -> Array2<f64> {
        let mut p = self.hessian.clone();
        p.diag_mut().mapv_inplace(|v| v + delta);
        p
    }

    /// The posterior precision H + delta I, dense.
    pub fn posterior_precision(&self) -> Array2<f64> {
        self.precision_at(self.prior_precision)
    }

    /// The posterior covariance (H + delta I)^-1.
    pub fn posterior_covariance(&self) -> &Array2<f64> {
        &self.covariance
    }

    /// The curvature in its structure.
    pub fn curvature(&self) -> &Curvature {
        &self.curvature
    }

    /// The curvature as a dense matrix.
    pub fn hessian(&self) -> &Array2<f64> {
        &self.hessian
    }

    /// The posterior mean: the trained parameters (weight row by row, then bias).
    pub fn mean(&self) -> Array1<f64> {
        self.head.to_vector()
    }

    /// The summed training loss at the trained parameters.
    pub fn loss(&self) -> f64 {
        self.loss
    }

    /// Number of training examples.
    pub fn n_data(&self) -> usize {
        self.n_data
    }

    /// Number of last-layer parameters.
    pub fn n_params(&self) -> usize {
        self.layout.n_params()
    }

    /// The current prior precision.
    pub fn prior_precision(&self) -> f64 {
        self.prior_precision
    }

    /// The settings it was fitted with.
    pub fn config(&self) -> &LaplaceConfig {
        &self.cfg
    }

    /// The last layer's sizes.
    pub fn layout(&self) -> Layout {
        self.layout
    }
}

fn check_delta(delta: f64) -> Result<()> {
    if !(delta.is_finite() && delta > 0.0) {
        return Err(config(
            "prior_precision",
            format!("{delta}; must be finite and > 0"),
        ));
    }
    Ok(())
}

fn check_head(head: &LinearHead, kind: Head) -> Result<()> {
    let l = head.layout();
    if l.outputs == 0 || l.inputs == 0 {
        return Err(input(
            "last layer",
            format!("weight {:?} is empty", head.weight.dim()),
        ));
    }
    if let Some(b) = &head.bias
        && b.len() != l.outputs
    {
        return Err(input(
            "last layer",
            format!("bias of {} for {} outputs", b.len(), l.outputs),
        ));
    }
    if !kind.accepts(l.outputs) {
        return Err(config(
            "head",
            format!(
                "{kind:?} does not suit a last layer with {} outputs (softmax: >= 2, sigmoid: 1)",
                l.outputs
            ),
        ));
    }
    if !head.to_vector().iter().all(|v| v.is_finite()) {
        return Err(input("last layer", "non-finite weights"));
    }
    Ok(())
}

pub(crate) fn check_features(features: ArrayView2<'_, f64>, layout: &Layout) -> Result<()> {
    let (n, d) = features.dim();
    if n == 0 {
        return Err(input("features", "no examples"));
    }
    if d != layout.inputs {
        return Err(input(
            "features",
            format!("{d} columns; the last layer takes {}", layout.inputs),
        ));
    }
    if let Some(((i, j), v)) = features.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(input("features", format!("{v} at row {i}, column {j}")));
    }
    Ok(())
}

pub(crate) fn check_labels(labels: &[usize], n: usize, classes: usize) -> Result<()> {
    if labels.len() != n {
        return Err(input(
            "labels",
            format!("{} labels for {n} examples", labels.len()),
        ));
    }
    if let Some(&y) = labels.iter().find(|&&y| y >= classes) {
        return Err(input(
            "labels",
            format!("label {y}; there are {classes} classes"),
        ));
    }
    Ok(())
}
