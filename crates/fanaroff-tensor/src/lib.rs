//! # fanaroff-tensor
//!
//! N-dimensional `f32` tensors on [`ndarray`] with reverse-mode automatic
//! differentiation, written for CNNs on radio-galaxy images: convolutions by
//! GEMM parallel over the batch (1x1 kernels as plain matrix products),
//! batch norm, pooling, bilinear resizing, softmax, the fused score of an
//! additive attention gate ([`Tensor::attention_gate_score`]), and the
//! elementwise functions Bayesian layers need.
//!
//! Every operation records how to differentiate itself when one of its inputs
//! requires gradients; [`Tensor::backward`] returns a [`Gradients`] store.
//! Inside [`no_grad`] nothing is recorded. Shape errors come back as
//! [`Error`] values naming both shapes.
//!
//! ```
//! use fanaroff_tensor::{Tensor, no_grad};
//! use approx::assert_abs_diff_eq;
//!
//! # fn main() -> fanaroff_tensor::Result<()> {
//! // A tiny logistic regression: loss = softplus(-y * (w . x + b))
//! let x = Tensor::from_vec(vec![1.0, -2.0, 0.5], &[1, 3])?;
//! let w = Tensor::from_vec(vec![0.1, 0.2, -0.3], &[3, 1])?.requires_grad(true);
//! let b = Tensor::scalar(0.05).requires_grad(true);
//! let z = x.matmul(&w)?.add(&b)?;            // [1, 1]
//! let loss = z.neg().softplus().sum();       // label y = +1
//! let grads = loss.backward()?;
//! // dloss/db = -sigmoid(-z)
//! let zv = z.item()?;
//! assert_abs_diff_eq!(grads.get(&b).unwrap()[[]], -1.0 / (1.0 + zv.exp()), epsilon = 1e-6);
//! // inference records no graph
//! let y = no_grad(|| x.matmul(&w))?;
//! assert!(y.is_leaf());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod error;
mod gemm;
pub mod gradcheck;
mod graph;
mod kernels;
mod ops;
mod parallel;
pub mod pool;
mod tensor;

pub use error::{Error, Result};
pub use gemm::{Kernel, forced_pool, with_kernel};
pub use graph::{Backward, Gradients, NoGradGuard, is_grad_enabled, no_grad};
pub use ndarray;
pub use ops::broadcast_shape;
pub use parallel::{num_threads, set_num_threads};
pub use tensor::{Tensor, TensorId};

// The README's examples, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
