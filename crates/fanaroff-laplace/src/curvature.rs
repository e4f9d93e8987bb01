//! The Hessian of the summed training loss with respect to the last
//! layer's parameters, approximated by the generalised Gauss-Newton matrix
//! or the empirical Fisher, in one of three structures.

use crate::head::Head;
use crate::layout::Layout;
use ndarray::{Array1, Array2, Array3, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// Which curvature stands in for the Hessian.
///
/// For a linear last layer under cross-entropy the GGN equals the exact
/// Hessian (the logits are linear in the parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HessianKind {
    /// Generalised Gauss-Newton: sum over examples of J^T Lambda J, with
    /// Lambda the loss's Hessian in the logits.
    #[default]
    Ggn,
    /// Empirical Fisher: sum over examples of g g^T, with g the
    /// per-example gradient of the loss.
    EmpiricalFisher,
}

/// Which entries of the curvature are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Structure {
    /// The diagonal only.
    Diag,
    /// Kronecker-factored (KFAC): the weight block as B (x) A with
    /// B = sum of the per-example output curvatures and A = the mean of
    /// phi phi^T; the bias block B; no weight-bias terms (laplace-torch's
    /// convention).
    Kron,
    /// Every entry.
    #[default]
    Full,
}

/// A curvature of the last layer in its structure.
#[derive(Debug, Clone, PartialEq)]
pub enum Curvature {
    /// The diagonal, one entry per parameter.
    Diag(Array1<f64>),
    /// Weight block `output (x) input`; bias block `output`.
    Kron {
        /// B, `[M, M]`.
        output: Array2<f64>,
        /// A, `[D, D]`.
        input: Array2<f64>,
    },
    /// The dense matrix.
    Full(Array2<f64>),
}

impl Curvature {
    /// The curvature as a dense `[P, P]` matrix in the parameter order of
    /// [`Layout`].
    pub fn to_dense(&self, layout: &Layout) -> Array2<f64> {
        match self {
            Curvature::Diag(d) => Array2::from_diag(d),
            Curvature::Full(h) => h.clone(),
            Curvature::Kron { output, input } => {
                let mut h = Array2::zeros((layout.n_params(), layout.n_params()));
                for ((k, l), &b) in output.indexed_iter() {
                    for ((d, e), &a) in input.indexed_iter() {
                        h[[layout.index(k, d), layout.index(l, e)]] = b * a;
                    }
                    if layout.bias {
                        let (i, j) = (
                            layout.index(k, layout.inputs),
                            layout.index(l, layout.inputs),
                        );
                        h[[i, j]] = b;
                    }
                }
                h
            }
        }
    }
}

/// Per-example curvature of the loss in the outputs, `[N, M, M]`, and the
/// summed loss: Lambda_n (GGN) or r_n r_n^T (empirical Fisher).
pub(crate) fn output_curvatures(
    logits: ArrayView2<'_, f64>,
    labels: &[usize],
    head: Head,
    kind: HessianKind,
) -> (Array3<f64>, f64) {
    let (n, m) = logits.dim();
    let mut g = Array3::zeros((n, m, m));
    let mut loss = 0.0;
    for (i, row) in logits.axis_iter(Axis(0)).enumerate() {
        let f = row.to_vec();
        loss += head.nll(&f, labels[i]);
        let gi = match kind {
            HessianKind::Ggn => head.output_hessian(&f),
            HessianKind::EmpiricalFisher => {
                let r = head.residual(&f, labels[i]);
                Array2::from_shape_fn((m, m), |(k, l)| r[k] * r[l])
            }
        };
        g.index_axis_mut(Axis(0), i).assign(&gi);
    }
    (g, loss)
}

/// The curvature of the summed loss over `features` `[N, D]` given the
/// per-example output curvatures `g` `[N, M, M]`.
pub(crate) fn curvature(
    features: ArrayView2<'_, f64>,
    g: &Array3<f64>,
    layout: &Layout,
    structure: Structure,
) -> Curvature {
    let n = features.nrows();
    match structure {
        Structure::Kron => Curvature::Kron {
            output: g.sum_axis(Axis(0)),
            input: features.t().dot(&features) / n.max(1) as f64,
        },
        Structure::Diag => {
            let phi = layout.augment_all(features);
            let sq = phi.mapv(|v| v * v);
            let mut d = Array1::zeros(layout.n_params());
            for k in 0..layout.outputs {
                let w = g.slice(ndarray::s![.., k, k]);
                for (j, v) in w.dot(&sq).iter().enumerate() {
                    d[layout.index(k, j)] = *v;
                }
            }
            Curvature::Diag(d)
        }
        Structure::Full => Curvature::Full(full(features, g, layout)),
    }
}

/// H[(k, d), (l, e)] = sum_n g_n[k, l] phi_nd phi_ne, block by block.
fn full(features: ArrayView2<'_, f64>, g: &Array3<f64>, layout: &Layout) -> Array2<f64> {
    let phi = layout.augment_all(features);
    let mut h = Array2::zeros((layout.n_params(), layout.n_params()));
    for k in 0..layout.outputs {
        for l in 0..layout.outputs {
            let w = g.slice(ndarray::s![.., k, l]);
            let weighted = &phi * &w.insert_axis(Axis(1));
            let block = phi.t().dot(&weighted);
            for ((d, e), &v) in block.indexed_iter() {
                h[[layout.index(k, d), layout.index(l, e)]] = v;
            }
        }
    }
    h
}
