//! Last-layer Laplace approximations for trained networks of the fanaroff
//! workspace (Daxberger et al. 2021, "Laplace Redux").
//!
//! A network trained to a point estimate becomes Bayesian in its last
//! linear layer: the posterior over that layer's weights is approximated
//! by a Gaussian at the trained weights, with precision the curvature of
//! the summed training loss plus the prior precision delta.
//!
//! - [`HessianKind`]: generalised Gauss-Newton (equal to the Hessian for a
//!   linear last layer under cross-entropy) or empirical Fisher;
//!   [`Structure`]: diagonal, Kronecker-factored or full.
//! - [`Head`]: softmax over K >= 2 logits, or one logit with a sigmoid.
//! - [`select_prior_precision`]: delta by the marginal likelihood or by the
//!   validation NLL.
//! - [`LastLayerLaplace::predict_probit`] and
//!   [`LastLayerLaplace::sample_probabilities`]: probit and Monte Carlo
//!   predictives.
//! - [`fit_model`]: from any model that implements
//!   [`LastLayer`](fanaroff_nn::LastLayer) (a `Sequential` such as the
//!   LeNet, the attention net with batch norm), in evaluation mode.
//!
//! Conventions follow laplace-torch, and `tests/laplace_torch.rs` checks
//! the Hessians, posterior precisions, evidences and predictives against it
//! (`fixtures/laplace/`): parameters ordered weight row by row, then bias;
//! the Kronecker factors B (x) A with A the mean of phi phi^T and the bias
//! block B; the loss summed over the training set.
//!
//! # Example
//! ```
//! use fanaroff_laplace::{LaplaceConfig, PriorSelection, Structure, fit_model, select_prior_precision};
//! use fanaroff_nn::{Activation, Linear, LinearConfig, ModuleExt, Sequential};
//! use rand::{SeedableRng, rngs::StdRng};
//! let mut rng = StdRng::seed_from_u64(0);
//! let mut mlp = Sequential::new()
//!     .push("fc1", Linear::new(LinearConfig::new(3, 6), &mut rng)?)
//!     .push("act", Activation::Relu)
//!     .push("fc2", Linear::new(LinearConfig::new(6, 2), &mut rng)?);
//! mlp.eval();
//! let x = ndarray::Array2::from_shape_fn((20, 3), |(i, j)| ((i * 3 + j) as f32 * 0.37).sin()).into_dyn();
//! let y: Vec<usize> = (0..20).map(|i| i % 2).collect();
//! let cfg = LaplaceConfig { structure: Structure::Kron, ..LaplaceConfig::default() };
//! let mut la = fit_model(&mlp, x.view(), &y, cfg, 8)?;
//! let delta = select_prior_precision(&mut la, PriorSelection::MarginalLikelihood, None)?;
//! assert!(delta > 0.0);
//! let features = fanaroff_laplace::penultimate_features(&mlp, x.view(), 8)?;
//! let p = la.predict_probit(features.view())?;
//! assert_eq!(p.dim(), (20, 2));
//! # Ok::<(), fanaroff_laplace::Error>(())
//! ```

mod curvature;
mod error;
mod head;
mod layout;
mod linalg;
mod model;
mod posterior;
mod predictive;
mod prior;

pub use curvature::{Curvature, HessianKind, Structure};
pub use error::{Error, Result};
pub use head::Head;
pub use layout::{Layout, LinearHead};
pub use model::{fit_model, linear_head, penultimate_features};
pub use posterior::{LaplaceConfig, LastLayerLaplace};
pub use prior::{
    PriorSelection, grid_search_nll, log_grid, maximise_marginal_likelihood, select_prior_precision,
};
