//! Reverse-mode differentiation: the recorded graph, the gradient store and
//! the switch that turns recording off.

use crate::error::{Error, Result};
use crate::tensor::{Tensor, TensorId};
use ndarray::ArrayD;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};

/// The reverse-mode rule of one operation.
///
/// Given the gradient of the loss with respect to the operation's output,
/// return one entry per parent: the gradient with respect to that parent (same
/// shape as the parent), or `None` when the parent does not require gradients.
/// Implementations must not assume they are called once: the engine sums the
/// returned gradients into whatever has already accumulated.
pub trait Backward: Send + Sync {
    /// Short name of the operation, for debugging output.
    fn name(&self) -> &'static str;

    /// Computes the parents' gradients from the output gradient `grad`.
    /// `output` holds the forward result, for rules like `d exp(x) = exp(x)`.
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        output: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>>;

    /// Whether [`backward`](Backward::backward) reads the values of
    /// `parents` (their shapes aside). Ops that keep what they need (max
    /// pooling keeps its argmax) say `false`, which lets
    /// [`Tensor::release_unread_inputs`] free those values early.
    fn reads_inputs(&self) -> bool {
        true
    }

    /// Whether [`backward`](Backward::backward) reads `output`.
    fn reads_output(&self) -> bool {
        true
    }
}

pub(crate) struct GradFn {
    pub(crate) parents: Vec<Tensor>,
    pub(crate) op: Box<dyn Backward>,
}

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether operations on this thread currently record a graph.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Guard that disables graph recording on this thread until dropped.
///
/// Inference code wraps its forward pass in this: no graph nodes are kept and
/// intermediate values are freed as soon as they are used. The flag is per
/// thread, so work handed to other threads (rayon) must take its own guard.
#[must_use = "recording resumes as soon as the guard is dropped"]
pub struct NoGradGuard {
    previous: bool,
}

impl NoGradGuard {
    /// Disables recording; the previous state returns when the guard drops.
    pub fn new() -> Self {
        let previous = GRAD_ENABLED.with(|g| g.replace(false));
        NoGradGuard { previous }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.previous));
    }
}

/// Runs `f` with graph recording disabled on this thread.
///
/// # Example
/// ```
/// use fanaroff_tensor::{Tensor, no_grad};
/// let w = Tensor::ones(&[2]).requires_grad(true);
/// let y = no_grad(|| w.exp());
/// assert!(y.is_leaf() && !y.is_requires_grad());
/// ```
pub fn no_grad<T>(f: impl FnOnce() -> T) -> T {
    let _guard = NoGradGuard::new();
    f()
}

/// Gradients produced by [`Tensor::backward`], keyed by tensor.
///
/// Only leaves that require gradients are kept; intermediate gradients are
/// freed during the backward pass.
#[derive(Default, Debug, Clone)]
pub struct Gradients {
    map: HashMap<TensorId, ArrayD<f32>>,
}

impl Gradients {
    /// The gradient with respect to `t`, if `t` was a leaf reached by the pass.
    pub fn get(&self, t: &Tensor) -> Option<&ArrayD<f32>> {
        self.map.get(&t.id())
    }

    /// The gradient stored under an id.
    pub fn get_id(&self, id: TensorId) -> Option<&ArrayD<f32>> {
        self.map.get(&id)
    }

    /// Removes and returns the gradient with respect to `t`.
    pub fn remove(&mut self, t: &Tensor) -> Option<ArrayD<f32>> {
        self.map.remove(&t.id())
    }

    /// Number of stored gradients.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no gradient is stored.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Adds another store into this one (for gradient accumulation over
    /// micro-batches).
    pub fn accumulate(&mut self, mut other: Gradients) {
        for (id, g) in std::mem::take(&mut other.map) {
            accumulate(&mut self.map, id, g);
        }
    }
}

impl Drop for Gradients {
    /// Large gradients go back to the buffer pool for the next pass.
    fn drop(&mut self) {
        for (_, g) in self.map.drain() {
            crate::pool::recycle_array(g);
        }
    }
}

fn accumulate(map: &mut HashMap<TensorId, ArrayD<f32>>, id: TensorId, g: ArrayD<f32>) {
    match map.get_mut(&id) {
        Some(acc) => {
            *acc += &g;
            crate::pool::recycle_array(g);
        }
        None => {
            map.insert(id, g);
        }
    }
}

/// Nodes reachable from `root` through recorded operations, parents before
/// children.
fn topological_order(root: &Tensor) -> Vec<Tensor> {
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    // Iterative DFS with an explicit "children done" marker to avoid recursion
    // depth limits on long graphs.
    let mut stack: Vec<(Tensor, bool)> = vec![(root.clone(), false)];
    while let Some((t, expanded)) = stack.pop() {
        if expanded {
            order.push(t);
            continue;
        }
        if !seen.insert(t.id()) {
            continue;
        }
        let parents: Vec<Tensor> = match &t.node.grad_fn {
            Some(gf) => gf
                .parents
                .iter()
                .filter(|p| p.node.requires_grad && !seen.contains(&p.id()))
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        stack.push((t, true));
        for p in parents {
            stack.push((p, false));
        }
    }
    order
}

impl Tensor {
    /// Reverse-mode differentiation of a one-element tensor.
    ///
    /// Returns the gradient of `self` with respect to every leaf that requires
    /// gradients and was used to compute it. A value used several times
    /// receives the sum of its contributions.
    ///
    /// # Errors
    /// [`Error::NotScalar`] when `self` has more than one element.
    pub fn backward(&self) -> Result<Gradients> {
        if self.len() != 1 {
            return Err(Error::NotScalar {
                op: "backward",
                shape: self.shape().to_vec(),
            });
        }
        let seed = ArrayD::from_elem(self.data().raw_dim(), 1.0f32);
        Ok(self.backward_with(seed))
    }

    /// Reverse-mode differentiation with an explicit output gradient
    /// (a vector-Jacobian product).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `grad` does not have `self`'s shape.
    pub fn backward_from(&self, grad: ArrayD<f32>) -> Result<Gradients> {
        if grad.shape() != self.shape() {
            return Err(Error::ShapeMismatch {
                op: "backward_from",
                lhs: self.shape().to_vec(),
                rhs: grad.shape().to_vec(),
            });
        }
        Ok(self.backward_with(grad))
    }

    /// Frees the values of this tensor's inputs that no backward pass will
    /// read: those whose only owner is this tensor's graph node, whose
    /// consumer (this op) keeps what its gradient needs (max pooling), and
    /// whose own op does not read its output (convolution). The values go
    /// back to the buffer pool; gradients are unchanged. A chain of layers
    /// calls it on each output after dropping the previous one (as
    /// `Sequential` does), so a convolution's full-size output does not
    /// stay alive until the backward pass. Returns the bytes freed.
    ///
    /// Does nothing when `self` is shared, when the op reads its inputs,
    /// or when an input is held anywhere else (a caller that keeps an
    /// activation keeps its value).
    pub fn release_unread_inputs(&mut self) -> usize {
        let Some(node) = std::sync::Arc::get_mut(&mut self.node) else {
            return 0;
        };
        let Some(gf) = node.grad_fn.as_mut() else {
            return 0;
        };
        if gf.op.reads_inputs() {
            return 0;
        }
        let mut freed = 0;
        for p in &mut gf.parents {
            let Some(pn) = std::sync::Arc::get_mut(&mut p.node) else {
                continue;
            };
            let unread = pn.grad_fn.as_ref().is_some_and(|g| !g.op.reads_output());
            if unread && !pn.released {
                let data = std::mem::replace(&mut pn.data, ArrayD::zeros(ndarray::IxDyn(&[0])));
                freed += data.len() * std::mem::size_of::<f32>();
                pn.released = true;
                crate::pool::recycle_array(data);
            }
        }
        freed
    }

    fn backward_with(&self, seed: ArrayD<f32>) -> Gradients {
        let mut grads: HashMap<TensorId, ArrayD<f32>> = HashMap::new();
        if !self.node.requires_grad {
            return Gradients { map: grads };
        }
        grads.insert(self.id(), seed);
        let order = topological_order(self);
        for t in order.iter().rev() {
            let Some(gf) = &t.node.grad_fn else {
                continue; // leaf: its gradient stays in the store
            };
            let Some(g) = grads.remove(&t.id()) else {
                continue;
            };
            let parent_grads = gf.op.backward(&g, &gf.parents, &t.node.data);
            crate::pool::recycle_array(g);
            debug_assert_eq!(parent_grads.len(), gf.parents.len(), "{}", gf.op.name());
            for (p, pg) in gf.parents.iter().zip(parent_grads) {
                if let Some(pg) = pg
                    && p.node.requires_grad
                {
                    debug_assert!(
                        p.node.released || pg.shape() == p.shape(),
                        "gradient shape of {}",
                        gf.op.name()
                    );
                    accumulate(&mut grads, p.id(), pg);
                }
            }
        }
        Gradients { map: grads }
    }
}
