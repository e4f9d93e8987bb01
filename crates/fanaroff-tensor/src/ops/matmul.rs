//! Matrix products, plain and batched.

use super::matmul_t::{as2, pooled_mm as mm};
use crate::error::{Error, Result};
use crate::graph::Backward;
use crate::tensor::Tensor;
use ndarray::linalg::general_mat_mul;
use ndarray::{Array3, ArrayD, Axis, Ix2, Ix3};

struct MatmulOp;

impl Backward for MatmulOp {
    fn name(&self) -> &'static str {
        "matmul"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let (a, b) = (&parents[0], &parents[1]);
        match (a.ndim(), b.ndim()) {
            (2, 2) => {
                let g = as2(grad);
                // dA = dC B^T, dB = A^T dC
                vec![
                    a.is_requires_grad()
                        .then(|| mm(g, as2(b.data()).t()).into_dyn()),
                    b.is_requires_grad()
                        .then(|| mm(as2(a.data()).t(), g).into_dyn()),
                ]
            }
            (3, nb) => {
                let g = grad.view().into_dimensionality::<Ix3>().expect("rank 3");
                let av = a
                    .data()
                    .view()
                    .into_dimensionality::<Ix3>()
                    .expect("rank 3");
                let batch = av.shape()[0];
                let ga = a.is_requires_grad().then(|| {
                    let mut ga = Array3::<f32>::zeros(av.raw_dim());
                    for i in 0..batch {
                        let bi = if nb == 3 {
                            b.data()
                                .index_axis(Axis(0), i)
                                .into_dimensionality::<Ix2>()
                                .expect("rank 2")
                        } else {
                            as2(b.data())
                        };
                        general_mat_mul(
                            1.0,
                            &g.index_axis(Axis(0), i),
                            &bi.t(),
                            0.0,
                            &mut ga.index_axis_mut(Axis(0), i),
                        );
                    }
                    ga.into_dyn()
                });
                let gb = b.is_requires_grad().then(|| {
                    let mut gb = ArrayD::<f32>::zeros(b.data().raw_dim());
                    for i in 0..batch {
                        let ai = av.index_axis(Axis(0), i);
                        let gi = g.index_axis(Axis(0), i);
                        if nb == 3 {
                            let mut t = gb
                                .index_axis_mut(Axis(0), i)
                                .into_dimensionality::<Ix2>()
                                .expect("rank 2");
                            general_mat_mul(1.0, &ai.t(), &gi, 0.0, &mut t);
                        } else {
                            // The matrix is shared by every batch entry: sum.
                            let mut t = gb.view_mut().into_dimensionality::<Ix2>().expect("rank 2");
                            general_mat_mul(1.0, &ai.t(), &gi, 1.0, &mut t);
                        }
                    }
                    gb
                });
                vec![ga, gb]
            }
            _ => unreachable!("matmul forward checks ranks"),
        }
    }
}

impl Tensor {
    /// Matrix product.
    ///
    /// Shapes: `[m, k] x [k, n] -> [m, n]`; batched `[b, m, k] x [b, k, n] ->
    /// [b, m, n]`; and `[b, m, k] x [k, n] -> [b, m, n]` with one matrix shared
    /// by the batch.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] naming both shapes when the inner sizes, batch
    /// sizes or ranks do not fit.
    ///
    /// # Example
    /// ```
    /// use fanaroff_tensor::Tensor;
    /// let a = Tensor::from_vec(vec![1., 2., 3., 4.], &[2, 2]).unwrap();
    /// let b = Tensor::from_vec(vec![1., 0., 0., 1.], &[2, 2]).unwrap();
    /// assert_eq!(a.matmul(&b).unwrap().to_vec(), vec![1., 2., 3., 4.]);
    /// assert!(a.matmul(&Tensor::zeros(&[3, 1])).is_err());
    /// ```
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        let (sa, sb) = (self.shape(), other.shape());
        let err = || Error::ShapeMismatch {
            op: "matmul",
            lhs: sa.to_vec(),
            rhs: sb.to_vec(),
        };
        let y = match (sa.len(), sb.len()) {
            (2, 2) => {
                if sa[1] != sb[0] {
                    return Err(err());
                }
                mm(as2(self.data()), as2(other.data())).into_dyn()
            }
            (3, 2) | (3, 3) => {
                let (kb, nb) = if sb.len() == 3 {
                    (sb[1], sb[2])
                } else {
                    (sb[0], sb[1])
                };
                if sa[2] != kb || (sb.len() == 3 && sb[0] != sa[0]) {
                    return Err(err());
                }
                let mut y = Array3::<f32>::zeros((sa[0], sa[1], nb));
                for i in 0..sa[0] {
                    let ai = self
                        .data()
                        .index_axis(Axis(0), i)
                        .into_dimensionality::<Ix2>()
                        .expect("rank 2");
                    let bi = if sb.len() == 3 {
                        other
                            .data()
                            .index_axis(Axis(0), i)
                            .into_dimensionality::<Ix2>()
                            .expect("rank 2")
                    } else {
                        as2(other.data())
                    };
                    general_mat_mul(1.0, &ai, &bi, 0.0, &mut y.index_axis_mut(Axis(0), i));
                }
                y.into_dyn()
            }
            _ => return Err(err()),
        };
        Ok(Tensor::from_op(
            y,
            vec![self.clone(), other.clone()],
            MatmulOp,
        ))
    }
}
