//! Finite-difference verification of reverse-mode gradients.
//!
//! The checker turns any tensor function into a scalar by a fixed random
//! projection, `L(x) = sum_j r_j f(x)_j`, computes `dL/dx` by
//! [`Tensor::backward_from`], and compares each checked element with the
//! central difference
//!
//! ```text
//! (L(x + h e_i) - L(x - h e_i)) / 2h,   h = eps * max(1, |x_i|)
//! ```
//!
//! evaluated in f64 from the f32 forward values. An element passes when
//! `|analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)`.
//! With the defaults this catches a wrong sign, a missing factor or a
//! misplaced index, while tolerating f32 rounding.

use crate::error::Result;
use crate::tensor::Tensor;
use ndarray::ArrayD;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Settings of [`check_gradients`].
///
/// | field | default | meaning |
/// |---|---|---|
/// | `eps` | 1e-2 | relative finite-difference step |
/// | `rtol` | 1e-2 | relative tolerance |
/// | `atol` | 1e-3 | absolute tolerance |
/// | `max_checks_per_input` | 200 | elements checked per input (random subset beyond that) |
/// | `seed` | 0 | seeds the projection and the subset |
#[derive(Debug, Clone, Copy)]
pub struct GradCheck {
    /// Relative finite-difference step.
    pub eps: f32,
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Elements checked per input; larger inputs are sampled.
    pub max_checks_per_input: usize,
    /// Seed of the random projection and of the sampled elements.
    pub seed: u64,
}

impl Default for GradCheck {
    fn default() -> Self {
        GradCheck {
            eps: 1e-2,
            rtol: 1e-2,
            atol: 1e-3,
            max_checks_per_input: 200,
            seed: 0,
        }
    }
}

/// One element whose analytic and numeric derivatives disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// Which input.
    pub input: usize,
    /// Flat (row-major) index inside that input.
    pub index: usize,
    /// Derivative from the backward pass.
    pub analytic: f64,
    /// Central-difference estimate.
    pub numeric: f64,
}

/// Outcome of [`check_gradients`].
#[derive(Debug, Clone, Default)]
pub struct GradCheckReport {
    /// Elements compared.
    pub checked: usize,
    /// Largest `|analytic - numeric|`.
    pub max_abs_err: f64,
    /// Every element outside the tolerance.
    pub mismatches: Vec<Mismatch>,
}

impl GradCheckReport {
    /// True when every checked element agreed.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty() && self.checked > 0
    }
}

/// Compares the gradients of `f` at `inputs` with central differences.
///
/// `f` receives the inputs as tensors that require gradients and may return a
/// tensor of any shape.
///
/// # Errors
/// Whatever `f` returns as an error.
///
/// # Example
/// ```
/// use fanaroff_tensor::{Tensor, gradcheck::{check_gradients, GradCheck}};
/// use ndarray::{ArrayD, IxDyn};
/// let x = ArrayD::from_shape_vec(IxDyn(&[3]), vec![0.3, -1.2, 2.0]).unwrap();
/// let report = check_gradients(|t| Ok(t[0].tanh()), &[x], &GradCheck::default()).unwrap();
/// assert!(report.passed(), "{report:?}");
/// ```
pub fn check_gradients<F>(f: F, inputs: &[ArrayD<f32>], cfg: &GradCheck) -> Result<GradCheckReport>
where
    F: Fn(&[Tensor]) -> Result<Tensor>,
{
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let leaves: Vec<Tensor> = inputs
        .iter()
        .map(|a| Tensor::new(a.clone()).requires_grad(true))
        .collect();
    let out = f(&leaves)?;
    let proj: ArrayD<f32> =
        ArrayD::from_shape_fn(out.data().raw_dim(), |_| rng.random_range(-1.0f32..1.0));
    let grads = out.backward_from(proj.clone())?;

    let loss = |xs: &[ArrayD<f32>]| -> Result<f64> {
        let ts: Vec<Tensor> = xs.iter().map(|a| Tensor::new(a.clone())).collect();
        let y = f(&ts)?;
        Ok(y.data()
            .iter()
            .zip(proj.iter())
            .map(|(&y, &r)| y as f64 * r as f64)
            .sum())
    };

    let mut report = GradCheckReport::default();
    let mut xs: Vec<ArrayD<f32>> = inputs.to_vec();
    for (k, leaf) in leaves.iter().enumerate() {
        let n = inputs[k].len();
        let zeros = ArrayD::zeros(inputs[k].raw_dim());
        let analytic = grads
            .get(leaf)
            .unwrap_or(&zeros)
            .as_standard_layout()
            .into_owned();
        let analytic = analytic.as_slice().expect("standard layout");
        let idx: Vec<usize> = if n <= cfg.max_checks_per_input {
            (0..n).collect()
        } else {
            (0..cfg.max_checks_per_input)
                .map(|_| rng.random_range(0..n))
                .collect()
        };
        xs[k] = inputs[k].as_standard_layout().into_owned();
        for &i in &idx {
            let orig = xs[k].as_slice().expect("standard layout")[i];
            let h = cfg.eps * orig.abs().max(1.0);
            xs[k].as_slice_mut().expect("standard layout")[i] = orig + h;
            let up = loss(&xs)?;
            xs[k].as_slice_mut().expect("standard layout")[i] = orig - h;
            let down = loss(&xs)?;
            xs[k].as_slice_mut().expect("standard layout")[i] = orig;
            // the step actually taken in f32
            let span = ((orig + h) as f64) - ((orig - h) as f64);
            let numeric = (up - down) / span;
            let a = analytic[i] as f64;
            let err = (a - numeric).abs();
            report.checked += 1;
            report.max_abs_err = report.max_abs_err.max(err);
            if err > cfg.atol + cfg.rtol * a.abs().max(numeric.abs()) {
                report.mismatches.push(Mismatch {
                    input: k,
                    index: i,
                    analytic: a,
                    numeric,
                });
            }
        }
    }
    Ok(report)
}
