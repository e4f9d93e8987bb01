//! The likelihood of the last layer's outputs: how logits become class
//! probabilities, and the loss's derivatives with respect to the logits.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// How the outputs of the last layer become class probabilities.
///
/// | head | outputs | probabilities | loss |
/// |---|---|---|---|
/// | `softmax` | K >= 2 logits | softmax | categorical cross-entropy |
/// | `sigmoid` | one logit f for two classes | p(class 1) = sigmoid(f) | binary cross-entropy |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Head {
    /// K >= 2 logits and a softmax.
    #[default]
    Softmax,
    /// One logit and a sigmoid (two classes).
    Sigmoid,
}

impl Head {
    /// Number of classes for a last layer with `outputs` outputs.
    pub fn classes(self, outputs: usize) -> usize {
        match self {
            Head::Softmax => outputs,
            Head::Sigmoid => 2,
        }
    }

    /// Whether a last layer with `outputs` outputs suits this head.
    pub(crate) fn accepts(self, outputs: usize) -> bool {
        match self {
            Head::Softmax => outputs >= 2,
            Head::Sigmoid => outputs == 1,
        }
    }

    /// Class probabilities of one output vector.
    ///
    /// ```
    /// use fanaroff_laplace::Head;
    /// assert_eq!(Head::Sigmoid.probabilities(&[0.0]), vec![0.5, 0.5]);
    /// let p = Head::Softmax.probabilities(&[0.0, 2.0f64.ln()]);
    /// assert!((p[1] - 2.0 / 3.0).abs() < 1e-15);
    /// ```
    pub fn probabilities(self, f: &[f64]) -> Vec<f64> {
        match self {
            Head::Softmax => softmax(f),
            Head::Sigmoid => {
                let p = sigmoid(f[0]);
                vec![1.0 - p, p]
            }
        }
    }

    /// Negative log-likelihood of class `y` (natural log).
    pub fn nll(self, f: &[f64], y: usize) -> f64 {
        match self {
            Head::Softmax => {
                let m = f.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = m + f.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                lse - f[y]
            }
            Head::Sigmoid if y == 1 => softplus(-f[0]),
            Head::Sigmoid => softplus(f[0]),
        }
    }

    /// The loss's gradient with respect to the outputs: p - onehot(y)
    /// (for the sigmoid head, sigmoid(f) - y).
    pub(crate) fn residual(self, f: &[f64], y: usize) -> Vec<f64> {
        match self {
            Head::Softmax => {
                let mut r = softmax(f);
                r[y] -= 1.0;
                r
            }
            Head::Sigmoid => vec![sigmoid(f[0]) - y as f64],
        }
    }

    /// The loss's Hessian with respect to the outputs: diag(p) - p p^T
    /// (for the sigmoid head, p (1 - p)).
    pub(crate) fn output_hessian(self, f: &[f64]) -> Array2<f64> {
        match self {
            Head::Softmax => {
                let p = softmax(f);
                Array2::from_shape_fn((p.len(), p.len()), |(k, l)| {
                    if k == l {
                        p[k] * (1.0 - p[k])
                    } else {
                        -p[k] * p[l]
                    }
                })
            }
            Head::Sigmoid => {
                let p = sigmoid(f[0]);
                Array2::from_elem((1, 1), p * (1.0 - p))
            }
        }
    }

    /// The probit approximation of the predictive: each output's mean is
    /// scaled by 1 / sqrt(1 + pi/8 var) before the link (MacKay 1992).
    ///
    /// ```
    /// use fanaroff_laplace::Head;
    /// // var = 8 / pi halves the logit
    /// let p = Head::Sigmoid.probit(&[2.0], &[8.0 / std::f64::consts::PI]);
    /// assert!((p[1] - Head::Sigmoid.probabilities(&[2.0 / 2f64.sqrt()])[1]).abs() < 1e-15);
    /// ```
    pub fn probit(self, mean: &[f64], var: &[f64]) -> Vec<f64> {
        let scaled: Vec<f64> = mean
            .iter()
            .zip(var)
            .map(|(m, v)| m / (1.0 + std::f64::consts::PI / 8.0 * v).sqrt())
            .collect();
        self.probabilities(&scaled)
    }
}

fn softmax(f: &[f64]) -> Vec<f64> {
    let m = f.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = f.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}
