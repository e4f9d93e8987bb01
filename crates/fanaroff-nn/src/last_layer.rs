//! Models that end in one linear layer, seen as a feature map plus that
//! layer: what last-layer methods (Laplace, Mahalanobis scores, latent
//! distances) need.

use crate::error::Result;
use crate::layers::Sequential;
use crate::module::Module;
use crate::pass::Pass;
use fanaroff_tensor::Tensor;

/// The name under which models tap their penultimate features, flattened
/// to `[N, D]` ([`Pass::tapping`]): one pass gives the output and the
/// features.
pub const PENULTIMATE: &str = "penultimate";

/// A model split into penultimate features and a last layer, such that the
/// model's output is the last layer applied to the features.
///
/// The workspace implements it for [`Sequential`] (the layers before the
/// last one, then the last) and for the attention-gated network with the
/// `concat` aggregation; other models opt in by implementing it.
///
/// # Example
/// ```
/// use fanaroff_nn::{Activation, LastLayer, Linear, LinearConfig, Module, ModuleExt, PENULTIMATE, Pass, Sequential};
/// use fanaroff_tensor::Tensor;
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let mlp = Sequential::new()
///     .push("fc1", Linear::new(LinearConfig::new(4, 8), &mut rng)?)
///     .push("act", Activation::Relu)
///     .push("fc2", Linear::new(LinearConfig::new(8, 2), &mut rng)?);
/// let x = Tensor::ones(&[3, 4]);
/// let phi = mlp.penultimate(&x, &mut Pass::new(&mut rng))?;
/// assert_eq!(phi.shape(), &[3, 8]);
/// let head = mlp.last_layer()?;
/// assert_eq!(head.forward_rng(&phi, &mut rng)?.shape(), &[3, 2]);
/// // or both at once, from a tap
/// let mut pass = Pass::new(&mut rng).tapping(&[PENULTIMATE]);
/// let y = mlp.forward(&x, &mut pass)?;
/// assert_eq!(pass.tapped(PENULTIMATE).unwrap().data(), phi.data());
/// assert_eq!(y.shape(), &[3, 2]);
/// # Ok::<(), fanaroff_nn::Error>(())
/// ```
pub trait LastLayer: Module {
    /// The input of the last layer for a batch, flattened to `[N, D]`.
    ///
    /// # Errors
    /// As the model's forward pass.
    fn penultimate(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor>;

    /// The last layer.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) when the model
    /// has no single last layer (an empty chain, an aggregation of several
    /// heads).
    fn last_layer(&self) -> Result<&dyn Module>;
}

impl LastLayer for Sequential {
    fn penultimate(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        let end = self.len().saturating_sub(1);
        flat(self.forward_until(x, end, pass)?)
    }

    fn last_layer(&self) -> Result<&dyn Module> {
        self.last()
            .ok_or_else(|| fanaroff_core::config("Sequential", "no layers"))
    }
}

/// `[N, ...]` flattened to `[N, D]`.
pub(crate) fn flat(h: Tensor) -> Result<Tensor> {
    Ok(if h.ndim() > 2 { h.flatten(1)? } else { h })
}
