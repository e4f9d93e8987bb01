//! A chain of named layers.

use crate::error::Result;
use crate::module::{Module, join};
use crate::pass::Pass;
use fanaroff_tensor::Tensor;

/// Layers applied in order. Each has a name that prefixes its parameters
/// (`conv1.weight`), so names line up with a PyTorch model whose attributes
/// carry the same names.
///
/// # Example
/// ```
/// use fanaroff_nn::{Activation, Linear, LinearConfig, Module, ModuleExt, Sequential};
/// use fanaroff_tensor::Tensor;
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let mlp = Sequential::new()
///     .push("fc1", Linear::new(LinearConfig::new(4, 8), &mut rng).unwrap())
///     .push("act", Activation::Relu)
///     .push("fc2", Linear::new(LinearConfig::new(8, 2), &mut rng).unwrap());
/// assert_eq!(mlp.num_parameters(), 4 * 8 + 8 + 8 * 2 + 2);
/// assert_eq!(mlp.named_parameters()[2].0, "fc2.weight");
/// let y = mlp.forward_rng(&Tensor::ones(&[5, 4]), &mut rng).unwrap();
/// assert_eq!(y.shape(), &[5, 2]);
/// ```
#[derive(Default)]
pub struct Sequential {
    layers: Vec<(String, Box<dyn Module>)>,
}

impl std::fmt::Debug for Sequential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequential")
            .field("layers", &self.names())
            .finish()
    }
}

impl Sequential {
    /// An empty chain.
    pub fn new() -> Self {
        Sequential { layers: Vec::new() }
    }

    /// Appends a layer under `name`.
    pub fn push(mut self, name: &str, layer: impl Module + 'static) -> Self {
        self.layers.push((name.to_string(), Box::new(layer)));
        self
    }

    /// Appends an already boxed layer under `name` (layers from a
    /// [`LayerFactory`](crate::models::LayerFactory)).
    pub fn push_boxed(mut self, name: &str, layer: Box<dyn Module>) -> Self {
        self.layers.push((name.to_string(), layer));
        self
    }

    /// The layer called `name`, if any.
    pub fn get(&self, name: &str) -> Option<&dyn Module> {
        self.layers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, l)| l.as_ref())
    }

    /// The last layer, if any.
    pub fn last(&self) -> Option<&dyn Module> {
        self.layers.last().map(|(_, l)| l.as_ref())
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// True when there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// Runs the layers up to (not including) index `end`: features from an
    /// intermediate layer, e.g. the penultimate one. A convolution followed
    /// by a [`ReluMaxPool2d`](crate::ReluMaxPool2d), both before `end`,
    /// runs as one op (the same values and gradients; see
    /// [`Module::conv_weights`]).
    ///
    /// # Errors
    /// As the layers' forward passes.
    pub fn forward_until(&self, x: &Tensor, end: usize, pass: &mut Pass<'_>) -> Result<Tensor> {
        let layers = &self.layers[..end.min(self.layers.len())];
        let mut h = x.clone();
        let mut i = 0;
        while i < layers.len() {
            let l = layers[i].1.as_ref();
            let fused = match layers.get(i + 1) {
                Some((_, next)) => super::fuse::conv_relu_pool(l, next.as_ref(), &h, pass),
                None => None,
            };
            h = match fused {
                Some(y) => {
                    i += 2;
                    y?
                }
                None => {
                    i += 1;
                    l.forward(&h, pass)?
                }
            };
            // the previous activation is dropped: free what no backward reads
            h.release_unread_inputs();
        }
        Ok(h)
    }

    /// The names of the layers, in order.
    pub fn names(&self) -> Vec<&str> {
        self.layers.iter().map(|(n, _)| n.as_str()).collect()
    }
}

impl Module for Sequential {
    /// Taps [`PENULTIMATE`](crate::PENULTIMATE), the last layer's input
    /// flattened, when the pass asks for it.
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        let n = self.layers.len();
        match self.layers.last() {
            Some((_, last)) if pass.wants(crate::PENULTIMATE) => {
                let h = self.forward_until(x, n - 1, pass)?;
                pass.tap(crate::PENULTIMATE, &crate::last_layer::flat(h.clone())?);
                last.forward(&h, pass)
            }
            _ => self.forward_until(x, n, pass),
        }
    }
    fn visit_children(&self, prefix: &str, f: &mut dyn FnMut(&str, &dyn Module)) {
        for (n, l) in &self.layers {
            f(&join(prefix, n), l.as_ref());
        }
    }
    fn visit_children_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut dyn Module)) {
        for (n, l) in &mut self.layers {
            f(&join(prefix, n), l.as_mut());
        }
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
