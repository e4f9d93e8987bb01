//! The [`Tensor`] type: an immutable n-dimensional f32 array plus the record of
//! how it was computed.

use crate::error::{Error, Result, invalid_arg};
use crate::graph::{self, Backward, GradFn};
use ndarray::{ArrayD, IxDyn};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Identity of a tensor node; gradients are stored under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(u64);

impl TensorId {
    fn fresh() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        TensorId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

pub(crate) struct Node {
    pub(crate) id: TensorId,
    pub(crate) data: ArrayD<f32>,
    pub(crate) requires_grad: bool,
    pub(crate) grad_fn: Option<GradFn>,
    /// `data` was freed by [`Tensor::release_unread_inputs`]: only the
    /// graph still refers to this node, and nothing reads its value.
    pub(crate) released: bool,
}

impl Drop for Node {
    fn drop(&mut self) {
        // Large storage goes back to the buffer pool instead of the allocator.
        let data = std::mem::replace(&mut self.data, ArrayD::zeros(IxDyn(&[0])));
        crate::pool::recycle_array(data);
    }
}

/// An n-dimensional `f32` array that remembers how it was computed.
///
/// Cloning is cheap (a reference count). The values never change once made,
/// except through [`Tensor::data_mut`] on a leaf, which optimisers use to update
/// parameters in place. Operations on tensors that require gradients record a
/// graph; [`Tensor::backward`] walks it in reverse and returns a
/// [`Gradients`](crate::Gradients) store keyed by tensor.
///
/// # Example
/// ```
/// use fanaroff_tensor::Tensor;
/// use approx::assert_abs_diff_eq;
///
/// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]).unwrap().requires_grad(true);
/// let y = x.square().sum();            // y = sum x^2
/// let grads = y.backward().unwrap();
/// let dx = grads.get(&x).unwrap();      // dy/dx = 2x
/// assert_abs_diff_eq!(dx[[2]], 6.0);
/// ```
#[derive(Clone)]
pub struct Tensor {
    pub(crate) node: Arc<Node>,
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tensor")
            .field("id", &self.node.id)
            .field("shape", &self.shape())
            .field("requires_grad", &self.node.requires_grad)
            .field(
                "op",
                &self
                    .node
                    .grad_fn
                    .as_ref()
                    .map(|g| g.op.name())
                    .unwrap_or("leaf"),
            )
            .finish()
    }
}

impl Tensor {
    /// Wraps an array as a leaf tensor that does not require gradients.
    pub fn new(data: ArrayD<f32>) -> Self {
        Tensor {
            node: Arc::new(Node {
                id: TensorId::fresh(),
                data,
                requires_grad: false,
                grad_fn: None,
                released: false,
            }),
        }
    }

    /// Builds a tensor from a flat vector in row-major order.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `shape` does not hold `data.len()` elements.
    pub fn from_vec(data: Vec<f32>, shape: &[usize]) -> Result<Self> {
        let n = data.len();
        ArrayD::from_shape_vec(IxDyn(shape), data)
            .map(Tensor::new)
            .map_err(|_| Error::ShapeMismatch {
                op: "from_vec",
                lhs: vec![n],
                rhs: shape.to_vec(),
            })
    }

    /// Converts any ndarray array (of any dimension) into a tensor.
    pub fn from_array<D: ndarray::Dimension>(a: ndarray::Array<f32, D>) -> Self {
        Tensor::new(a.into_dyn())
    }

    /// A zero-dimensional tensor holding `v`.
    pub fn scalar(v: f32) -> Self {
        Tensor::new(ArrayD::from_elem(IxDyn(&[]), v))
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Self {
        Tensor::new(ArrayD::zeros(IxDyn(shape)))
    }

    /// A tensor of ones.
    pub fn ones(shape: &[usize]) -> Self {
        Tensor::full(shape, 1.0)
    }

    /// A tensor filled with `v`.
    pub fn full(shape: &[usize], v: f32) -> Self {
        Tensor::new(ArrayD::from_elem(IxDyn(shape), v))
    }

    /// Standard normal draws from `rng`.
    pub fn randn<R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> Self {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| StandardNormal.sample(rng)).collect();
        Tensor::new(ArrayD::from_shape_vec(IxDyn(shape), v).expect("length matches shape"))
    }

    /// Uniform draws from `[low, high)`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `low < high` and both are finite.
    pub fn rand_uniform<R: Rng + ?Sized>(
        shape: &[usize],
        low: f32,
        high: f32,
        rng: &mut R,
    ) -> Result<Self> {
        let dist = Uniform::new(low, high)
            .map_err(|e| invalid_arg("rand_uniform", format!("[{low}, {high}): {e}")))?;
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| dist.sample(rng)).collect();
        Ok(Tensor::new(
            ArrayD::from_shape_vec(IxDyn(shape), v).expect("length matches shape"),
        ))
    }

    /// Marks a leaf as a variable whose gradient [`backward`](Tensor::backward)
    /// should return. Calling it on a computed tensor makes a fresh leaf with
    /// the same values (like [`detach`](Tensor::detach) followed by marking).
    pub fn requires_grad(self, on: bool) -> Self {
        if self.node.grad_fn.is_none() {
            let mut node = self.node;
            match Arc::get_mut(&mut node) {
                Some(n) => {
                    n.requires_grad = on;
                    Tensor { node }
                }
                None => Tensor {
                    node: Arc::new(Node {
                        id: node.id,
                        data: node.data.clone(),
                        requires_grad: on,
                        grad_fn: None,
                        released: false,
                    }),
                },
            }
        } else {
            let mut t = Tensor::new(self.node.data.clone());
            Arc::get_mut(&mut t.node).expect("fresh").requires_grad = on;
            t
        }
    }

    /// Whether gradients flow to (or through) this tensor.
    pub fn is_requires_grad(&self) -> bool {
        self.node.requires_grad
    }

    /// Whether this tensor is a leaf (made directly, not by an operation).
    pub fn is_leaf(&self) -> bool {
        self.node.grad_fn.is_none()
    }

    /// The identity under which [`Gradients`](crate::Gradients) stores this tensor's gradient.
    pub fn id(&self) -> TensorId {
        self.node.id
    }

    /// The values.
    pub fn data(&self) -> &ArrayD<f32> {
        &self.node.data
    }

    /// Mutable access to the values of a leaf, for in-place parameter updates.
    ///
    /// The tensor keeps its [`TensorId`]. If other handles (for example a
    /// graph that is still alive) share the node, the values are copied first
    /// so those handles keep seeing the old values.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when called on a computed (non-leaf) tensor.
    pub fn data_mut(&mut self) -> Result<&mut ArrayD<f32>> {
        if self.node.grad_fn.is_some() {
            return Err(invalid_arg(
                "data_mut",
                "only leaf tensors can be modified in place",
            ));
        }
        if Arc::get_mut(&mut self.node).is_none() {
            self.node = Arc::new(Node {
                id: self.node.id,
                data: self.node.data.clone(),
                requires_grad: self.node.requires_grad,
                grad_fn: None,
                released: false,
            });
        }
        Ok(&mut Arc::get_mut(&mut self.node).expect("unique").data)
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        self.node.data.shape()
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.node.data.ndim()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.node.data.len()
    }

    /// True when the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.node.data.is_empty()
    }

    /// The single value of a one-element tensor.
    ///
    /// # Errors
    /// [`Error::NotScalar`] when the tensor holds more or fewer than one element.
    pub fn item(&self) -> Result<f32> {
        if self.len() != 1 {
            return Err(Error::NotScalar {
                op: "item",
                shape: self.shape().to_vec(),
            });
        }
        Ok(*self.node.data.iter().next().expect("one element"))
    }

    /// The values in row-major order.
    pub fn to_vec(&self) -> Vec<f32> {
        self.node.data.iter().copied().collect()
    }

    /// A new leaf with the same values that gradients do not flow through.
    pub fn detach(&self) -> Tensor {
        Tensor::new(self.node.data.clone())
    }

    /// Records the result of an operation. When gradients are disabled or no
    /// parent requires them, no graph is kept (the parents are dropped).
    pub(crate) fn from_op(
        data: ArrayD<f32>,
        parents: Vec<Tensor>,
        op: impl Backward + 'static,
    ) -> Tensor {
        Tensor::from_op_boxed(data, parents, Box::new(op))
    }

    pub(crate) fn from_op_boxed(
        data: ArrayD<f32>,
        parents: Vec<Tensor>,
        op: Box<dyn Backward>,
    ) -> Tensor {
        let needs = graph::is_grad_enabled() && parents.iter().any(|p| p.node.requires_grad);
        if !needs {
            return Tensor::new(data);
        }
        Tensor {
            node: Arc::new(Node {
                id: TensorId::fresh(),
                data,
                requires_grad: true,
                grad_fn: Some(GradFn { parents, op }),
                released: false,
            }),
        }
    }

    /// Builds the output of a user-defined differentiable operation.
    ///
    /// `data` is the forward result, computed by the caller from `parents`;
    /// `op` computes the parents' gradients in reverse mode. This is how crates
    /// downstream add fused kernels without touching this crate; the
    /// [`gradcheck`](crate::gradcheck) module verifies such an op.
    pub fn custom_op(data: ArrayD<f32>, parents: &[Tensor], op: Box<dyn Backward>) -> Tensor {
        Tensor::from_op_boxed(data, parents.to_vec(), op)
    }
}
