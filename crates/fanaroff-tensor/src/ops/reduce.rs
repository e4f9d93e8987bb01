//! Sums, means and maxima over axes or over everything.

use crate::error::{Result, invalid_shape};
use crate::graph::Backward;
use crate::tensor::Tensor;
use ndarray::{ArrayD, Axis, IxDyn};

/// Checks `axes` against `ndim` and returns them sorted and deduplicated.
pub(crate) fn normalise_axes(
    op: &'static str,
    axes: &[usize],
    shape: &[usize],
) -> Result<Vec<usize>> {
    let mut v = axes.to_vec();
    v.sort_unstable();
    v.dedup();
    if let Some(&bad) = v.iter().find(|&&a| a >= shape.len()) {
        return Err(invalid_shape(op, format!("axis {bad} out of range"), shape));
    }
    Ok(v)
}

/// The shape after reducing `axes` with `keepdim`.
fn reduced_shape(shape: &[usize], axes: &[usize], keepdim: bool) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .filter_map(|(i, &s)| {
            if axes.contains(&i) {
                keepdim.then_some(1)
            } else {
                Some(s)
            }
        })
        .collect()
}

/// Shape of the reduced result with the reduced axes kept as size 1, so it
/// broadcasts against the input.
fn kept_shape(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    reduced_shape(shape, axes, true)
}

struct SumOp {
    axes: Vec<usize>,
    scale: f32,
}

impl Backward for SumOp {
    fn name(&self) -> &'static str {
        "sum"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let shape = parents[0].shape();
        let g = grad
            .clone()
            .into_shape_with_order(IxDyn(&kept_shape(shape, &self.axes)))
            .expect("same element count");
        let full = g
            .broadcast(IxDyn(shape))
            .expect("kept shape broadcasts")
            .mapv(|v| v * self.scale);
        vec![Some(full)]
    }
}

struct MaxOp {
    axis: Option<usize>,
    keepdim: bool,
}

impl Backward for MaxOp {
    fn name(&self) -> &'static str {
        "max"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        output: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let x = parents[0].data();
        let mut gx = ArrayD::<f32>::zeros(x.raw_dim());
        match self.axis {
            None => {
                // The whole gradient goes to the first maximal element.
                let m = output.iter().next().copied().unwrap_or(f32::NAN);
                if let Some(pos) = x.iter().position(|&v| v == m) {
                    let g = grad.iter().next().copied().unwrap_or(0.0);
                    gx.as_slice_mut().expect("fresh array is contiguous")[pos] = g;
                }
            }
            Some(axis) => {
                let g = if self.keepdim {
                    grad.clone()
                } else {
                    grad.clone().insert_axis(Axis(axis))
                };
                let m = if self.keepdim {
                    output.clone()
                } else {
                    output.clone().insert_axis(Axis(axis))
                };
                for ((mut gl, xl), (ml, gsrc)) in gx
                    .lanes_mut(Axis(axis))
                    .into_iter()
                    .zip(x.lanes(Axis(axis)))
                    .zip(m.iter().zip(g.iter()))
                {
                    if let Some(pos) = xl.iter().position(|v| v == ml) {
                        gl[pos] = *gsrc;
                    }
                }
            }
        }
        vec![Some(gx)]
    }
}

/// Reductions.
impl Tensor {
    /// Sum of all elements, as a 0-dimensional tensor.
    pub fn sum(&self) -> Tensor {
        let s: f32 = sum_f32(self.data());
        let axes: Vec<usize> = (0..self.ndim()).collect();
        Tensor::from_op(
            ArrayD::from_elem(IxDyn(&[]), s),
            vec![self.clone()],
            SumOp { axes, scale: 1.0 },
        )
    }

    /// Mean of all elements (NaN for an empty tensor).
    pub fn mean(&self) -> Tensor {
        let n = self.len() as f32;
        let s: f32 = sum_f32(self.data()) / n;
        let axes: Vec<usize> = (0..self.ndim()).collect();
        Tensor::from_op(
            ArrayD::from_elem(IxDyn(&[]), s),
            vec![self.clone()],
            SumOp {
                axes,
                scale: 1.0 / n,
            },
        )
    }

    /// Sum over `axes`; `keepdim` keeps them as size-1 axes.
    ///
    /// # Errors
    /// [`Error::InvalidShape`](crate::Error::InvalidShape) for an axis out of range.
    pub fn sum_axes(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        self.reduce_sum("sum_axes", axes, keepdim, false)
    }

    /// Mean over `axes`; `keepdim` keeps them as size-1 axes.
    ///
    /// # Errors
    /// [`Error::InvalidShape`](crate::Error::InvalidShape) for an axis out of range.
    pub fn mean_axes(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        self.reduce_sum("mean_axes", axes, keepdim, true)
    }

    fn reduce_sum(
        &self,
        op: &'static str,
        axes: &[usize],
        keepdim: bool,
        mean: bool,
    ) -> Result<Tensor> {
        let axes = normalise_axes(op, axes, self.shape())?;
        let mut r = self.data().clone();
        for &a in axes.iter().rev() {
            r = r.sum_axis(Axis(a));
        }
        let count: usize = axes.iter().map(|&a| self.shape()[a]).product();
        let scale = if mean { 1.0 / count as f32 } else { 1.0 };
        if mean {
            r.mapv_inplace(|v| v * scale);
        }
        let out_shape = reduced_shape(self.shape(), &axes, keepdim);
        let r = r
            .into_shape_with_order(IxDyn(&out_shape))
            .expect("same element count");
        Ok(Tensor::from_op(
            r,
            vec![self.clone()],
            SumOp { axes, scale },
        ))
    }

    /// Largest element, as a 0-dimensional tensor. Its gradient goes to the
    /// first maximal element.
    ///
    /// # Errors
    /// [`Error::InvalidShape`](crate::Error::InvalidShape) for an empty tensor.
    pub fn max(&self) -> Result<Tensor> {
        if self.is_empty() {
            return Err(invalid_shape("max", "empty tensor", self.shape()));
        }
        let m = self
            .data()
            .iter()
            .copied()
            .fold(f32::NEG_INFINITY, f32::max);
        Ok(Tensor::from_op(
            ArrayD::from_elem(IxDyn(&[]), m),
            vec![self.clone()],
            MaxOp {
                axis: None,
                keepdim: false,
            },
        ))
    }

    /// Maximum along `axis`. The gradient goes to the first maximal element of
    /// each lane.
    ///
    /// # Errors
    /// [`Error::InvalidShape`](crate::Error::InvalidShape) for an axis out of
    /// range or an empty axis.
    pub fn max_axis(&self, axis: usize, keepdim: bool) -> Result<Tensor> {
        normalise_axes("max_axis", &[axis], self.shape())?;
        if self.shape()[axis] == 0 {
            return Err(invalid_shape(
                "max_axis",
                format!("axis {axis} is empty"),
                self.shape(),
            ));
        }
        let mut m = max_along(self.data(), axis);
        if keepdim {
            m = m.insert_axis(Axis(axis));
        }
        Ok(Tensor::from_op(
            m,
            vec![self.clone()],
            MaxOp {
                axis: Some(axis),
                keepdim,
            },
        ))
    }
}

/// `a.fold_axis(Axis(axis), -inf, |&m, &x| m.max(x))` with the same
/// operations in the same order (so the same bits, signed zeros and NaN
/// included), as plain loops over a row-major copy: `fold_axis` on a
/// dynamic-rank array pays a shape check per step along the axis, which
/// made the range normalisation over 22,500 positions a tenth of an
/// attention epoch.
fn max_along(a: &ArrayD<f32>, axis: usize) -> ArrayD<f32> {
    let shape = a.shape();
    let (len, inner) = (shape[axis], shape[axis + 1..].iter().product::<usize>());
    let mut out_shape = shape.to_vec();
    out_shape.remove(axis);
    let mut out = vec![f32::NEG_INFINITY; out_shape.iter().product()];
    let a = a.as_standard_layout();
    let v = a.as_slice().expect("standard layout");
    if inner > 0 && len > 0 {
        for (dst, block) in out.chunks_mut(inner).zip(v.chunks(len * inner)) {
            for src in block.chunks(inner) {
                for (m, &x) in dst.iter_mut().zip(src) {
                    *m = m.max(x);
                }
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(&out_shape), out).expect("output shape")
}

/// Sum in f64 so that large tensors do not lose precision.
fn sum_f32(a: &ArrayD<f32>) -> f32 {
    a.iter().map(|&v| v as f64).sum::<f64>() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loops give `fold_axis`'s bits on every axis of row-major and
    /// transposed arrays, with ties, signed zeros, NaN and infinities.
    #[test]
    fn max_along_equals_fold_axis_bit_for_bit() {
        let pool = [-0.0f32, 0.0, 1.5, -2.0, f32::NAN, f32::INFINITY, -1.0, 0.25];
        let v: Vec<f32> = (0..2 * 3 * 5 * 4)
            .map(|i| pool[(i * 7 + i / 3) % pool.len()])
            .collect();
        let a = ArrayD::from_shape_vec(IxDyn(&[2, 3, 5, 4]), v).unwrap();
        let transposed = a.clone().permuted_axes(IxDyn(&[3, 1, 0, 2]));
        for arr in [&a, &transposed] {
            for axis in 0..4 {
                let want = arr.fold_axis(Axis(axis), f32::NEG_INFINITY, |&m, &x| m.max(x));
                let got = max_along(arr, axis);
                assert_eq!(got.shape(), want.shape(), "axis {axis}");
                let bits = |a: &ArrayD<f32>| a.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "axis {axis}");
            }
        }
        let empty = ArrayD::<f32>::zeros(IxDyn(&[0, 3]));
        assert_eq!(max_along(&empty, 1).shape(), &[0]);
    }
}
