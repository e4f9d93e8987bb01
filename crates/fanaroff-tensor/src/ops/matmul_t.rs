//! `a · bᵀ` without materialising the transpose: the product of a linear
//! layer, `x [N, in] · W [out, in]ᵀ`, whose weight is stored `[out, in]`.
//! Skipping the transpose saves two weight-sized copies per pass (one
//! forward, one backward).

use crate::error::{Error, Result};
use crate::gemm;
use crate::graph::Backward;
use crate::pool;
use crate::tensor::Tensor;
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayD, ArrayView2, Ix2};

/// A rank-2 view of an array whose rank was checked.
pub(crate) fn as2(a: &ArrayD<f32>) -> ArrayView2<'_, f32> {
    a.view()
        .into_dimensionality::<Ix2>()
        .expect("checked rank 2")
}

/// `a · b` (any strides) into a buffer from the pool.
pub(crate) fn pooled_mm(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Array2<f32> {
    let (m, n) = (a.nrows(), b.ncols());
    let mut c = Array2::from_shape_vec((m, n), pool::take_zeroed(m * n)).expect("m * n elements");
    general_mat_mul(1.0, &a, &b, 0.0, &mut c);
    c
}

/// Row-major contents of a matrix (borrowed when already row-major).
fn rows(a: &ArrayD<f32>) -> std::borrow::Cow<'_, [f32]> {
    match a.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(a.iter().copied().collect()),
    }
}

/// `C [m, n] = A B` with the crate's kernels into a pooled buffer: `A [m,
/// k]` read with strides `(rsa, csa)`, `B [k, n]` row-major. Unlike
/// `general_mat_mul` (whose packing buffer is a fresh allocation on every
/// call) this allocates nothing once the pool holds a buffer of the size.
fn mm_nn(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
) -> Array2<f32> {
    let mut c = pool::take_dirty(m * n);
    gemm::gemm_nn(
        m,
        n,
        k,
        a,
        rsa,
        csa,
        b,
        &gemm::row_offsets(k, n),
        &mut c,
        n,
        false,
    );
    Array2::from_shape_vec((m, n), c).expect("m * n elements")
}

/// `C [m, n] = A Bᵀ` for row-major `A [m, k]` and `B [n, k]`.
fn mm_nt(m: usize, n: usize, k: usize, a: &[f32], b: &[f32]) -> Array2<f32> {
    let mut c = pool::take_dirty(m * n);
    gemm::gemm_nt(m, n, k, a, k, b, &gemm::row_offsets(n, k), &mut c, n, false);
    Array2::from_shape_vec((m, n), c).expect("m * n elements")
}

struct MatmulTOp;

impl Backward for MatmulTOp {
    fn name(&self) -> &'static str {
        "matmul_t"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let (a, b) = (&parents[0], &parents[1]);
        let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[0]);
        let g = rows(grad);
        // C = A Bᵀ:  dA = dC B  ([m, n] x [n, k]),  dB = dCᵀ A  ([n, m] x [m, k])
        vec![
            a.is_requires_grad()
                .then(|| mm_nn(m, k, n, &g, n, 1, &rows(b.data())).into_dyn()),
            b.is_requires_grad()
                .then(|| mm_nn(n, k, m, &g, 1, n, &rows(a.data())).into_dyn()),
        ]
    }
}

impl Tensor {
    /// `self · otherᵀ` for matrices: `[m, k] x [n, k] -> [m, n]`, the same
    /// values as `self.matmul(&other.t()?)` without copying the transpose.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] naming both shapes unless both are matrices
    /// with the same number of columns.
    ///
    /// # Example
    /// ```
    /// use fanaroff_tensor::Tensor;
    /// let x = Tensor::from_vec(vec![1., 2., 3., 4.], &[2, 2]).unwrap();
    /// let w = Tensor::from_vec(vec![1., 0., 1., 1., 0., 2.], &[3, 2]).unwrap();
    /// assert_eq!(x.matmul_t(&w).unwrap().to_vec(), vec![1., 3., 4., 3., 7., 8.]);
    /// assert!(x.matmul_t(&Tensor::zeros(&[3, 3])).is_err());
    /// ```
    pub fn matmul_t(&self, other: &Tensor) -> Result<Tensor> {
        let (sa, sb) = (self.shape(), other.shape());
        if sa.len() != 2 || sb.len() != 2 || sa[1] != sb[1] {
            return Err(Error::ShapeMismatch {
                op: "matmul_t",
                lhs: sa.to_vec(),
                rhs: sb.to_vec(),
            });
        }
        let (m, k, n) = (sa[0], sa[1], sb[0]);
        let y = mm_nt(m, n, k, &rows(self.data()), &rows(other.data()));
        Ok(Tensor::from_op(
            y.into_dyn(),
            vec![self.clone(), other.clone()],
            MatmulTOp,
        ))
    }
}
