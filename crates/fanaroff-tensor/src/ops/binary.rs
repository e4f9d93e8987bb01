//! Elementwise arithmetic of two tensors with NumPy broadcasting.

use crate::error::{Error, Result};
use crate::graph::Backward;
use crate::kernels;
use crate::tensor::Tensor;
use ndarray::{ArrayD, Axis, IxDyn, Zip};

/// The broadcast shape of two shapes (NumPy rules: align trailing axes; a
/// size-1 axis stretches).
pub fn broadcast_shape(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(Error::ShapeMismatch {
                    op,
                    lhs: a.to_vec(),
                    rhs: b.to_vec(),
                });
            }
        };
    }
    Ok(out)
}

/// Sums `g` down to `shape`, undoing a broadcast (the adjoint of broadcasting).
pub(crate) fn sum_to_shape(g: &ArrayD<f32>, shape: &[usize]) -> ArrayD<f32> {
    if g.shape() == shape {
        return kernels::copy(g);
    }
    reduce_to_shape(g.view(), shape)
}

/// [`sum_to_shape`] that takes the gradient by value: no copy when the
/// shapes already agree.
pub(crate) fn sum_to_shape_owned(g: ArrayD<f32>, shape: &[usize]) -> ArrayD<f32> {
    if g.shape() == shape {
        return g;
    }
    reduce_to_shape(g.view(), shape)
}

fn reduce_to_shape(g: ndarray::ArrayViewD<'_, f32>, shape: &[usize]) -> ArrayD<f32> {
    let extra = g.ndim() - shape.len();
    let mut r = g.to_owned();
    for _ in 0..extra {
        r = r.sum_axis(Axis(0));
    }
    for (i, &s) in shape.iter().enumerate() {
        if s == 1 && r.shape()[i] != 1 {
            r = r.sum_axis(Axis(i)).insert_axis(Axis(i));
        }
    }
    r.into_shape_with_order(IxDyn(shape))
        .expect("sum_to_shape keeps the element count")
}

#[derive(Clone, Copy)]
enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Maximum,
    Minimum,
}

impl Binary {
    fn name(self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Sub => "sub",
            Binary::Mul => "mul",
            Binary::Div => "div",
            Binary::Maximum => "maximum",
            Binary::Minimum => "minimum",
        }
    }

    fn forward(self, a: f32, b: f32) -> f32 {
        match self {
            Binary::Add => a + b,
            Binary::Sub => a - b,
            Binary::Mul => a * b,
            Binary::Div => a / b,
            Binary::Maximum => a.max(b),
            Binary::Minimum => a.min(b),
        }
    }
}

struct BinaryOp(Binary);

impl Backward for BinaryOp {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _output: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let (a, b) = (&parents[0], &parents[1]);
        let shape = grad.raw_dim();
        let av = a
            .data()
            .broadcast(shape.clone())
            .expect("forward broadcast");
        let bv = b.data().broadcast(shape).expect("forward broadcast");
        let (ga, gb): (Option<ArrayD<f32>>, Option<ArrayD<f32>>) = match self.0 {
            Binary::Add => (
                a.is_requires_grad().then(|| kernels::copy(grad)),
                b.is_requires_grad().then(|| kernels::copy(grad)),
            ),
            Binary::Sub => (
                a.is_requires_grad().then(|| kernels::copy(grad)),
                b.is_requires_grad().then(|| kernels::map(grad, |g| -g)),
            ),
            Binary::Mul => (
                a.is_requires_grad()
                    .then(|| kernels::zip_map(grad.view(), bv.view(), |g, y| g * y)),
                b.is_requires_grad()
                    .then(|| kernels::zip_map(grad.view(), av.view(), |g, x| g * x)),
            ),
            // d(x/y)/dx = 1/y, d(x/y)/dy = -x/y^2
            Binary::Div => (
                a.is_requires_grad()
                    .then(|| Zip::from(grad).and(&bv).map_collect(|&g, &y| g / y)),
                b.is_requires_grad().then(|| {
                    Zip::from(grad)
                        .and(&av)
                        .and(&bv)
                        .map_collect(|&g, &x, &y| -g * x / (y * y))
                }),
            ),
            // The gradient goes to the larger (smaller) operand; ties go to the first.
            Binary::Maximum | Binary::Minimum => {
                let first = |x: f32, y: f32| match self.0 {
                    Binary::Maximum => x >= y,
                    _ => x <= y,
                };
                (
                    Some(
                        Zip::from(grad)
                            .and(&av)
                            .and(&bv)
                            .map_collect(|&g, &x, &y| if first(x, y) { g } else { 0.0 }),
                    ),
                    Some(
                        Zip::from(grad)
                            .and(&av)
                            .and(&bv)
                            .map_collect(|&g, &x, &y| if first(x, y) { 0.0 } else { g }),
                    ),
                )
            }
        };
        vec![
            ga.filter(|_| a.is_requires_grad())
                .map(|g| sum_to_shape_owned(g, a.shape())),
            gb.filter(|_| b.is_requires_grad())
                .map(|g| sum_to_shape_owned(g, b.shape())),
        ]
    }
}

fn apply(a: &Tensor, b: &Tensor, f: Binary) -> Result<Tensor> {
    let shape = broadcast_shape(f.name(), a.shape(), b.shape())?;
    let dim = IxDyn(&shape);
    let av = a.data().broadcast(dim.clone()).expect("checked broadcast");
    let bv = b.data().broadcast(dim).expect("checked broadcast");
    let y = if a.shape() == b.shape() {
        // Same shape: a flat, parallel, vectorisable loop per operation.
        let (x, y) = (a.data().view(), b.data().view());
        match f {
            Binary::Add => kernels::zip_map(x, y, |x, y| x + y),
            Binary::Sub => kernels::zip_map(x, y, |x, y| x - y),
            Binary::Mul => kernels::zip_map(x, y, |x, y| x * y),
            Binary::Div => kernels::zip_map(x, y, |x, y| x / y),
            _ => kernels::zip_map(x, y, move |x, y| f.forward(x, y)),
        }
    } else {
        Zip::from(&av)
            .and(&bv)
            .map_collect(|&x, &y| f.forward(x, y))
    };
    Ok(Tensor::from_op(y, vec![a.clone(), b.clone()], BinaryOp(f)))
}

/// Elementwise arithmetic with broadcasting.
///
/// # Errors
/// Each returns [`Error::ShapeMismatch`] naming both shapes when they do not
/// broadcast together.
impl Tensor {
    /// `self + other`.
    pub fn add(&self, other: &Tensor) -> Result<Tensor> {
        apply(self, other, Binary::Add)
    }
    /// `self - other`.
    pub fn sub(&self, other: &Tensor) -> Result<Tensor> {
        apply(self, other, Binary::Sub)
    }
    /// `self * other`.
    pub fn mul(&self, other: &Tensor) -> Result<Tensor> {
        apply(self, other, Binary::Mul)
    }
    /// `self / other`.
    pub fn div(&self, other: &Tensor) -> Result<Tensor> {
        apply(self, other, Binary::Div)
    }
    /// Elementwise maximum; at ties the gradient goes to `self`.
    pub fn maximum(&self, other: &Tensor) -> Result<Tensor> {
        apply(self, other, Binary::Maximum)
    }
    /// Elementwise minimum; at ties the gradient goes to `self`.
    pub fn minimum(&self, other: &Tensor) -> Result<Tensor> {
        apply(self, other, Binary::Minimum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_rules() {
        assert_eq!(
            broadcast_shape("t", &[2, 1, 3], &[4, 1]).unwrap(),
            vec![2, 4, 3]
        );
        assert_eq!(broadcast_shape("t", &[], &[5]).unwrap(), vec![5]);
        let e = broadcast_shape("add", &[2, 3], &[4]).unwrap_err();
        assert!(e.to_string().contains("[2, 3]") && e.to_string().contains("[4]"));
    }

    #[test]
    fn sum_to_shape_undoes_broadcast() {
        let g = ArrayD::from_elem(IxDyn(&[2, 4, 3]), 1.0f32);
        let r = sum_to_shape(&g, &[4, 1]);
        assert_eq!(r.shape(), &[4, 1]);
        assert!(r.iter().all(|&v| v == 6.0));
    }
}
