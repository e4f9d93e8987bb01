//! Operations that move values without arithmetic: reshape, permute, slice,
//! concatenate, broadcast.

use crate::error::{Error, Result, invalid_arg, invalid_shape};
use crate::graph::Backward;
use crate::ops::binary::{broadcast_shape, sum_to_shape};
use crate::tensor::Tensor;
use ndarray::{ArrayD, Axis, IxDyn, Slice};

/// The values of `a` in row-major order, in a buffer from the pool.
fn pooled_standard(a: ndarray::ArrayViewD<'_, f32>, shape: &[usize]) -> ArrayD<f32> {
    let mut v = crate::pool::take_dirty(a.len());
    match a.as_slice() {
        Some(s) => v.copy_from_slice(s),
        None => v.iter_mut().zip(a.iter()).for_each(|(o, &x)| *o = x),
    }
    ArrayD::from_shape_vec(IxDyn(shape), v).expect("same element count")
}

struct ReshapeOp;

impl Backward for ReshapeOp {
    fn name(&self) -> &'static str {
        "reshape"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        vec![Some(pooled_standard(grad.view(), parents[0].shape()))]
    }
}

struct PermuteOp {
    inverse: Vec<usize>,
}

impl Backward for PermuteOp {
    fn name(&self) -> &'static str {
        "permute"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        _: &[Tensor],
        _: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let g = grad.view().permuted_axes(IxDyn(&self.inverse));
        let shape = g.shape().to_vec();
        vec![Some(pooled_standard(g, &shape))]
    }
}

struct SliceOp {
    axis: usize,
    start: usize,
}

impl Backward for SliceOp {
    fn name(&self) -> &'static str {
        "slice"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let mut g = ArrayD::zeros(IxDyn(parents[0].shape()));
        let end = self.start + grad.shape()[self.axis];
        g.slice_axis_mut(Axis(self.axis), Slice::from(self.start..end))
            .assign(grad);
        vec![Some(g)]
    }
}

struct ConcatOp {
    axis: usize,
}

impl Backward for ConcatOp {
    fn name(&self) -> &'static str {
        "concat"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let mut start = 0;
        parents
            .iter()
            .map(|p| {
                let len = p.shape()[self.axis];
                let g = grad
                    .slice_axis(Axis(self.axis), Slice::from(start..start + len))
                    .to_owned();
                start += len;
                p.is_requires_grad().then_some(g)
            })
            .collect()
    }
}

struct BroadcastOp;

impl Backward for BroadcastOp {
    fn name(&self) -> &'static str {
        "broadcast_to"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        vec![Some(sum_to_shape(grad, parents[0].shape()))]
    }
}

/// Shape manipulation. All results are stored contiguously in row-major order.
impl Tensor {
    /// The same values in a new shape (row-major order).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the element counts differ.
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor> {
        if shape.iter().product::<usize>() != self.len() {
            return Err(Error::ShapeMismatch {
                op: "reshape",
                lhs: self.shape().to_vec(),
                rhs: shape.to_vec(),
            });
        }
        let y = pooled_standard(self.data().view(), shape);
        Ok(Tensor::from_op(y, vec![self.clone()], ReshapeOp))
    }

    /// Merges all axes from `start_dim` on into one: `[N, C, H, W]` with
    /// `start_dim = 1` becomes `[N, C*H*W]`.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] when `start_dim` is out of range.
    pub fn flatten(&self, start_dim: usize) -> Result<Tensor> {
        if start_dim >= self.ndim().max(1) {
            return Err(invalid_shape(
                "flatten",
                format!("start_dim {start_dim} out of range"),
                self.shape(),
            ));
        }
        let mut shape: Vec<usize> = self.shape()[..start_dim].to_vec();
        shape.push(self.shape()[start_dim..].iter().product());
        self.reshape(&shape)
    }

    /// Inserts a size-1 axis at `axis`.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] when `axis > ndim`.
    pub fn unsqueeze(&self, axis: usize) -> Result<Tensor> {
        if axis > self.ndim() {
            return Err(invalid_shape(
                "unsqueeze",
                format!("axis {axis} out of range"),
                self.shape(),
            ));
        }
        let mut shape = self.shape().to_vec();
        shape.insert(axis, 1);
        self.reshape(&shape)
    }

    /// Removes the size-1 axis `axis`.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] when the axis is out of range or not of size 1.
    pub fn squeeze(&self, axis: usize) -> Result<Tensor> {
        if axis >= self.ndim() || self.shape()[axis] != 1 {
            return Err(invalid_shape(
                "squeeze",
                format!("axis {axis} is not of size 1"),
                self.shape(),
            ));
        }
        let mut shape = self.shape().to_vec();
        shape.remove(axis);
        self.reshape(&shape)
    }

    /// Reorders the axes: output axis `i` is input axis `axes[i]`.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] unless `axes` is a permutation of `0..ndim`.
    pub fn permute(&self, axes: &[usize]) -> Result<Tensor> {
        let n = self.ndim();
        let mut seen = vec![false; n];
        if axes.len() != n
            || axes
                .iter()
                .any(|&a| a >= n || std::mem::replace(&mut seen[a], true))
        {
            return Err(invalid_shape(
                "permute",
                format!("{axes:?} is not a permutation of the axes"),
                self.shape(),
            ));
        }
        let mut inverse = vec![0; n];
        for (i, &a) in axes.iter().enumerate() {
            inverse[a] = i;
        }
        let view = self.data().view().permuted_axes(IxDyn(axes));
        let shape = view.shape().to_vec();
        let y = pooled_standard(view, &shape);
        Ok(Tensor::from_op(
            y,
            vec![self.clone()],
            PermuteOp { inverse },
        ))
    }

    /// Swaps two axes.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] for an axis out of range.
    pub fn transpose(&self, a: usize, b: usize) -> Result<Tensor> {
        let n = self.ndim();
        if a >= n || b >= n {
            return Err(invalid_shape(
                "transpose",
                format!("axes ({a}, {b}) out of range"),
                self.shape(),
            ));
        }
        let mut axes: Vec<usize> = (0..n).collect();
        axes.swap(a, b);
        self.permute(&axes)
    }

    /// Transpose of a matrix.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] unless the tensor is 2-dimensional.
    pub fn t(&self) -> Result<Tensor> {
        if self.ndim() != 2 {
            return Err(invalid_shape("t", "expected a matrix", self.shape()));
        }
        self.transpose(0, 1)
    }

    /// The elements `start..end` along `axis`.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] for an axis out of range, or
    /// [`Error::InvalidArgument`] for an empty or out-of-range interval.
    pub fn slice(&self, axis: usize, start: usize, end: usize) -> Result<Tensor> {
        if axis >= self.ndim() {
            return Err(invalid_shape(
                "slice",
                format!("axis {axis} out of range"),
                self.shape(),
            ));
        }
        if start >= end || end > self.shape()[axis] {
            return Err(invalid_arg(
                "slice",
                format!(
                    "range {start}..{end} invalid for axis {axis} of size {}",
                    self.shape()[axis]
                ),
            ));
        }
        let y = self
            .data()
            .slice_axis(Axis(axis), Slice::from(start..end))
            .to_owned();
        Ok(Tensor::from_op(
            y,
            vec![self.clone()],
            SliceOp { axis, start },
        ))
    }

    /// Joins tensors along an existing axis.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty list, [`Error::ShapeMismatch`]
    /// when the other axes differ.
    pub fn concat(tensors: &[Tensor], axis: usize) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| invalid_arg("concat", "no tensors given"))?;
        if axis >= first.ndim() {
            return Err(invalid_shape(
                "concat",
                format!("axis {axis} out of range"),
                first.shape(),
            ));
        }
        for t in &tensors[1..] {
            let same = t.ndim() == first.ndim()
                && t.shape()
                    .iter()
                    .zip(first.shape())
                    .enumerate()
                    .all(|(i, (a, b))| i == axis || a == b);
            if !same {
                return Err(Error::ShapeMismatch {
                    op: "concat",
                    lhs: first.shape().to_vec(),
                    rhs: t.shape().to_vec(),
                });
            }
        }
        let views: Vec<_> = tensors.iter().map(|t| t.data().view()).collect();
        let y = ndarray::concatenate(Axis(axis), &views).expect("checked shapes");
        Ok(Tensor::from_op(y, tensors.to_vec(), ConcatOp { axis }))
    }

    /// Repeats the tensor to `shape` by NumPy broadcasting.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the tensor does not broadcast to `shape`.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Tensor> {
        let b = broadcast_shape("broadcast_to", self.shape(), shape)?;
        if b != shape {
            return Err(Error::ShapeMismatch {
                op: "broadcast_to",
                lhs: self.shape().to_vec(),
                rhs: shape.to_vec(),
            });
        }
        let y = self
            .data()
            .broadcast(IxDyn(shape))
            .expect("checked")
            .to_owned();
        Ok(Tensor::from_op(y, vec![self.clone()], BroadcastOp))
    }
}
