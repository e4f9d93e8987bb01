//! The [`Module`] trait and the parameter registry built on it.

use crate::error::Result;
use crate::mask::Mask;
use crate::pass::Pass;
use crate::variational::Variational;
use crate::weights::WeightView;
use fanaroff_tensor::{Gradients, Tensor};
use rand::RngCore;
use std::any::Any;

/// How a stochastic layer (variational weights, MC dropout) behaves in a
/// forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum SampleMode {
    /// Draw noise from the caller's RNG (training and MC prediction).
    #[default]
    Sample,
    /// No noise: the posterior mean of variational weights, dropout off.
    /// Variational layers record no KL in this mode.
    Mean,
    /// Draw from an RNG seeded with this value on every call: the same
    /// weights each time (a frozen sample). [`ModuleExt::set_sample_mode`]
    /// gives the `i`-th stochastic layer of a model the seed `seed + i`.
    Fixed(u64),
}

/// A layer or a model: a forward function plus named parameters.
///
/// Parameters are leaf tensors that require gradients; their names are
/// dotted paths (`conv1.weight`) that map one-to-one onto PyTorch
/// `state_dict` keys and safetensors entries. Buffers are non-trained state
/// (batch-norm running statistics) saved in checkpoints alongside; masks are
/// optional 0/1 tensors over weights (pruning), saved as `<layer>.weight_mask`.
///
/// A **container** (a model built from layers) implements
/// [`forward`](Module::forward) and the two child visitors (the
/// [`children!`](crate::children) macro writes them from the field names);
/// every other
/// method then recurses into the children by default. A **leaf layer**
/// implements `forward` and the parameter visitors (and, where it has them,
/// buffers, masks and a sample mode).
///
/// `forward` takes `&self` so one model can serve several threads at once
/// (Monte Carlo prediction). Everything a pass carries besides its input
/// travels in the [`Pass`]: the RNG, the KL terms of variational layers,
/// the weight-draw plan of MC prediction and requested intermediate
/// outputs. A container hands its `pass` on to its children.
///
/// # Example: a custom model with a skip path
/// ```
/// use fanaroff_nn::{Linear, LinearConfig, Module, ModuleExt, Pass, Result};
/// use fanaroff_tensor::Tensor;
/// use rand::{SeedableRng, rngs::StdRng};
///
/// struct Residual { fc: Linear, out: Linear }
///
/// impl Module for Residual {
///     fn forward(&self, x: &Tensor, pass: &mut Pass) -> Result<Tensor> {
///         let h = self.fc.forward(x, pass)?.relu().add(x)?; // skip path
///         self.out.forward(&h, pass)
///     }
///     fanaroff_nn::children!(fc, out); // the two child visitors
/// }
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let m = Residual {
///     fc: Linear::new(LinearConfig::new(4, 4), &mut rng)?,
///     out: Linear::new(LinearConfig::new(4, 2), &mut rng)?,
/// };
/// assert_eq!(m.named_parameters()[2].0, "out.weight");
/// assert_eq!(m.forward_rng(&Tensor::ones(&[3, 4]), &mut rng)?.shape(), &[3, 2]);
/// # Ok::<(), fanaroff_nn::Error>(())
/// ```
pub trait Module: Send + Sync {
    /// Computes the output for a batch.
    ///
    /// # Errors
    /// Shape mismatches and invalid inputs, as [`Error`](crate::Error).
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor>;

    /// Calls `f` with the dotted name and a handle of every direct
    /// sub-module (containers only).
    fn visit_children(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &dyn Module)) {}

    /// Calls `f` with the dotted name and a mutable handle of every direct
    /// sub-module (containers only).
    fn visit_children_mut(&mut self, _prefix: &str, _f: &mut dyn FnMut(&str, &mut dyn Module)) {}

    /// Calls `f` with the name and tensor of every parameter, in a fixed
    /// order. Default: the children's parameters.
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        self.visit_children(prefix, &mut |p, m| m.visit_params(p, f));
    }

    /// Calls `f` with the name and a mutable handle of every parameter.
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        self.visit_children_mut(prefix, &mut |p, m| m.visit_params_mut(p, f));
    }

    /// Calls `f` with every buffer (state that is saved but not trained).
    fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        self.visit_children(prefix, &mut |p, m| m.visit_buffers(p, f));
    }

    /// Calls `f` with a mutable handle of every buffer.
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        self.visit_children_mut(prefix, &mut |p, m| m.visit_buffers_mut(p, f));
    }

    /// Calls `f` with the name (`<layer>.weight_mask`) and mask slot of
    /// every maskable weight tensor.
    fn visit_masks(&self, prefix: &str, f: &mut dyn FnMut(&str, &Mask)) {
        self.visit_children(prefix, &mut |p, m| m.visit_masks(p, f));
    }

    /// Calls `f` with a mutable handle of every mask slot.
    fn visit_masks_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Mask)) {
        self.visit_children_mut(prefix, &mut |p, m| m.visit_masks_mut(p, f));
    }

    /// Calls `f` with the layer name (`fc1`) and a [`WeightView`] of every
    /// maskable weight tensor: what pruning criteria score. Leaf layers with
    /// a mask implement it; default: the children.
    fn visit_weights(&self, prefix: &str, f: &mut dyn FnMut(&str, &WeightView<'_>)) {
        self.visit_children(prefix, &mut |p, m| m.visit_weights(p, f));
    }

    /// Sets the stored values of masked weights to exactly zero (the loop
    /// calls this after every optimiser step). Default: the children.
    fn enforce_masks(&mut self) {
        self.visit_children_mut("", &mut |_, m| m.enforce_masks());
    }

    /// Switches training behaviour (dropout, batch-norm statistics) on or off.
    fn set_training(&mut self, training: bool) {
        self.visit_children_mut("", &mut |_, m| m.set_training(training));
    }

    /// Whether this layer behaves differently in training mode and is in
    /// it now (`Some(true)`): dropout, batch norm. `None` for layers whose
    /// behaviour does not depend on the mode, and for containers; see
    /// [`in_training_mode`].
    fn own_training_mode(&self) -> Option<bool> {
        None
    }

    /// This layer's own sampling mode, `None` for layers without noise.
    /// Containers keep the default; see [`ModuleExt::is_stochastic`].
    fn sample_mode(&self) -> Option<SampleMode> {
        None
    }

    /// Sets this layer's own sampling mode (no-op for layers without noise);
    /// use [`ModuleExt::set_sample_mode`] for a whole model.
    fn set_own_sample_mode(&mut self, _mode: SampleMode) {}

    /// For a layer whose forward pass is one `x.conv2d(w, b, stride,
    /// padding)` for the whole batch: that call's weights for one pass,
    /// drawn exactly as [`forward`](Module::forward) would draw them, with
    /// the same side effects (a variational layer records its KL), and its
    /// geometry. [`Sequential`](crate::Sequential) calls this instead of
    /// `forward` when the layer is followed by a [`ReluMaxPool2d`](crate::ReluMaxPool2d),
    /// to run both as one op ([`Tensor::conv2d_relu_max_pool2d`]). `None`,
    /// the default, when the layer has no such weights for this pass; the
    /// caller then calls `forward`.
    fn conv_weights(&self, _pass: &mut Pass<'_>) -> Option<Result<ConvWeights>> {
        None
    }

    /// This module as [`Any`], so that code holding a `dyn Module` can reach
    /// a concrete model mutably.
    fn as_any_mut(&mut self) -> Option<&mut dyn Any> {
        None
    }

    /// This layer as a [`Variational`] one, if its weights are a
    /// distribution: how model-wide walks ([`set_estimator`](crate::set_estimator),
    /// [`variational_layers`](crate::variational_layers)) find it.
    fn as_variational(&self) -> Option<&dyn Variational> {
        None
    }

    /// Mutable form of [`as_variational`](Module::as_variational).
    fn as_variational_mut(&mut self) -> Option<&mut dyn Variational> {
        None
    }

    /// For a layer whose forward pass is `x.conv2d(w, b)` with one 1x1
    /// kernel (stride 1, no padding) for the whole batch: that `w` and `b`
    /// for one pass, drawn exactly as [`forward`](Module::forward) would
    /// draw them, with the same side effects (a variational layer records
    /// its KL). Kernels that fuse such a layer into a larger op (the
    /// attention gate's score, `fanaroff-attention`) call this instead of
    /// `forward`. `None`, the default, when the layer has no such weights
    /// for this pass (another kind, per-example noise, draw groups): the
    /// caller then calls `forward`. Layers defined in other crates opt in
    /// by implementing it.
    fn pointwise_weights(&self, _pass: &mut Pass<'_>) -> Option<Result<(Tensor, Option<Tensor>)>> {
        None
    }

    /// This module as [`Any`], so that code holding a `dyn Module` can reach
    /// a concrete model (a training step that needs the attention net's
    /// per-gate outputs, say).
    fn as_any(&self) -> Option<&dyn Any> {
        None
    }
}

/// One pass's weights of a convolution layer and its geometry
/// ([`Module::conv_weights`]): the layer computes
/// `x.conv2d(&weight, bias.as_ref(), (stride, stride), (padding, padding))`.
#[derive(Debug, Clone)]
pub struct ConvWeights {
    /// `[O, C, kh, kw]`, masks applied.
    pub weight: Tensor,
    /// `[O]`.
    pub bias: Option<Tensor>,
    /// Step in both directions.
    pub stride: usize,
    /// Zero padding on each side, in both directions.
    pub padding: usize,
}

/// Joins a prefix and a name with a dot (no dot for an empty prefix).
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Calls `f` on `m` and every module below it (pre-order), with dotted names.
pub fn walk(m: &dyn Module, prefix: &str, f: &mut dyn FnMut(&str, &dyn Module)) {
    f(prefix, m);
    m.visit_children(prefix, &mut |p, c| walk(c, p, f));
}

/// Calls `f` on `m` and every module below it (pre-order), mutably.
pub fn walk_mut(m: &mut dyn Module, prefix: &str, f: &mut dyn FnMut(&str, &mut dyn Module)) {
    f(prefix, m);
    m.visit_children_mut(prefix, &mut |p, c| walk_mut(c, p, f));
}

/// Sets the sampling mode of every stochastic layer of a model (the `i`-th
/// one in walk order gets `Fixed(seed + i)` for `Fixed(seed)`).
pub fn set_sample_mode(model: &mut dyn Module, mode: SampleMode) {
    let mut i = 0u64;
    walk_mut(model, "", &mut |_, m| {
        if m.sample_mode().is_some() {
            m.set_own_sample_mode(match mode {
                SampleMode::Fixed(s) => SampleMode::Fixed(s.wrapping_add(i)),
                other => other,
            });
            i += 1;
        }
    });
}

/// Whether some layer of `model` whose behaviour depends on the mode
/// (dropout, batch norm) is in training mode: explanations and
/// predictions want [`ModuleExt::eval`] first.
///
/// ```
/// use fanaroff_nn::{Dropout, ModuleExt, Sequential, in_training_mode};
/// let mut m = Sequential::new().push("drop", Dropout::new(0.5).unwrap());
/// assert!(in_training_mode(&m));
/// m.eval();
/// assert!(!in_training_mode(&m));
/// ```
pub fn in_training_mode(model: &dyn Module) -> bool {
    let mut any = false;
    walk(model, "", &mut |_, m| {
        any |= m.own_training_mode() == Some(true);
    });
    any
}

/// Whether two forward passes of `model` on the same input can differ in
/// evaluation mode (some layer samples from the caller's RNG): decides
/// whether prediction needs more than one draw.
pub fn is_stochastic(model: &dyn Module) -> bool {
    let mut any = false;
    walk(model, "", &mut |_, m| {
        any |= matches!(m.sample_mode(), Some(SampleMode::Sample));
    });
    any
}

/// Conveniences every [`Module`] gets for free.
pub trait ModuleExt: Module {
    /// One plain forward pass ([`Pass::new`]): noise from `rng`, no KL
    /// terms, no draw plan.
    ///
    /// # Errors
    /// The model's errors.
    fn forward_rng(&self, x: &Tensor, rng: &mut dyn RngCore) -> Result<Tensor> {
        self.forward(x, &mut Pass::new(rng))
    }

    /// All parameters with their names, in registry order.
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = Vec::new();
        self.visit_params("", &mut |n, t| v.push((n.to_string(), t.clone())));
        v
    }

    /// All buffers with their names.
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        let mut v = Vec::new();
        self.visit_buffers("", &mut |n, t| v.push((n.to_string(), t.clone())));
        v
    }

    /// Every set mask with its name (`<layer>.weight_mask`).
    fn named_masks(&self) -> Vec<(String, ndarray::ArrayD<f32>)> {
        let mut v = Vec::new();
        self.visit_masks("", &mut |n, m| {
            if let Some(a) = m.get() {
                v.push((n.to_string(), a.clone()));
            }
        });
        v
    }

    /// Total number of scalar parameters.
    fn num_parameters(&self) -> usize {
        let mut n = 0;
        self.visit_params("", &mut |_, t| n += t.len());
        n
    }

    /// Switches to training mode.
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Switches to evaluation mode.
    fn eval(&mut self) {
        self.set_training(false);
    }

    /// Sets the sampling mode of every stochastic layer; see [`set_sample_mode`].
    fn set_sample_mode(&mut self, mode: SampleMode)
    where
        Self: Sized,
    {
        set_sample_mode(self, mode)
    }

    /// Whether the model has a stochastic layer; see [`is_stochastic`].
    fn is_stochastic(&self) -> bool
    where
        Self: Sized,
    {
        is_stochastic(self)
    }

    /// Freezes or unfreezes every parameter (whether gradients reach it).
    fn set_requires_grad(&mut self, on: bool) {
        self.visit_params_mut("", &mut |_, t| {
            let taken = std::mem::replace(t, Tensor::scalar(0.0));
            *t = taken.requires_grad(on);
        });
    }

    /// Gradients of every parameter by name, zeros where the pass did not
    /// reach a parameter.
    fn named_gradients(&self, grads: &Gradients) -> Vec<(String, ndarray::ArrayD<f32>)> {
        let mut v = Vec::new();
        self.visit_params("", &mut |n, t| {
            let g = grads
                .get(t)
                .cloned()
                .unwrap_or_else(|| ndarray::ArrayD::zeros(t.data().raw_dim()));
            v.push((n.to_string(), g));
        });
        v
    }
}

impl<M: Module + ?Sized> ModuleExt for M {}

/// A boxed module is the module: every method, including those with a
/// default body, forwards to the box's content.
impl<M: Module + ?Sized> Module for Box<M> {
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        (**self).forward(x, pass)
    }
    fn visit_children(&self, prefix: &str, f: &mut dyn FnMut(&str, &dyn Module)) {
        (**self).visit_children(prefix, f)
    }
    fn visit_children_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut dyn Module)) {
        (**self).visit_children_mut(prefix, f)
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        (**self).visit_params(prefix, f)
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        (**self).visit_params_mut(prefix, f)
    }
    fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        (**self).visit_buffers(prefix, f)
    }
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        (**self).visit_buffers_mut(prefix, f)
    }
    fn visit_masks(&self, prefix: &str, f: &mut dyn FnMut(&str, &Mask)) {
        (**self).visit_masks(prefix, f)
    }
    fn visit_masks_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Mask)) {
        (**self).visit_masks_mut(prefix, f)
    }
    fn visit_weights(&self, prefix: &str, f: &mut dyn FnMut(&str, &WeightView<'_>)) {
        (**self).visit_weights(prefix, f)
    }
    fn enforce_masks(&mut self) {
        (**self).enforce_masks()
    }
    fn set_training(&mut self, training: bool) {
        (**self).set_training(training)
    }
    fn own_training_mode(&self) -> Option<bool> {
        (**self).own_training_mode()
    }
    fn sample_mode(&self) -> Option<SampleMode> {
        (**self).sample_mode()
    }
    fn set_own_sample_mode(&mut self, mode: SampleMode) {
        (**self).set_own_sample_mode(mode)
    }
    fn as_any_mut(&mut self) -> Option<&mut dyn Any> {
        (**self).as_any_mut()
    }
    fn as_any(&self) -> Option<&dyn Any> {
        (**self).as_any()
    }
    fn pointwise_weights(&self, pass: &mut Pass<'_>) -> Option<Result<(Tensor, Option<Tensor>)>> {
        (**self).pointwise_weights(pass)
    }
    fn conv_weights(&self, pass: &mut Pass<'_>) -> Option<Result<ConvWeights>> {
        (**self).conv_weights(pass)
    }
    fn as_variational(&self) -> Option<&dyn Variational> {
        (**self).as_variational()
    }
    fn as_variational_mut(&mut self) -> Option<&mut dyn Variational> {
        (**self).as_variational_mut()
    }
}
