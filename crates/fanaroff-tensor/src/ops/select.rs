//! Indexing operations: gather by index and constant masks (dropout).

use crate::error::{Error, Result, invalid_arg, invalid_shape};
use crate::graph::Backward;
use crate::tensor::Tensor;
use ndarray::{ArrayD, Axis, IxDyn, Zip};
use rand::Rng;

struct GatherOp {
    axis: usize,
    index: ArrayD<usize>,
}

impl Backward for GatherOp {
    fn name(&self) -> &'static str {
        "gather"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let mut dx = ArrayD::<f32>::zeros(IxDyn(parents[0].shape()));
        let ax = Axis(self.axis);
        // Lane by lane along `axis`: output lane j scatters into input lane j.
        Zip::from(dx.lanes_mut(ax))
            .and(grad.lanes(ax))
            .and(self.index.lanes(ax))
            .for_each(|mut d, g, idx| {
                for (&gv, &i) in g.iter().zip(idx.iter()) {
                    d[i] += gv;
                }
            });
        vec![Some(dx)]
    }
}

struct MaskOp {
    mask: ArrayD<f32>,
}

impl Backward for MaskOp {
    fn name(&self) -> &'static str {
        "dropout"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        _: &[Tensor],
        _: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        vec![Some(grad * &self.mask)]
    }
}

impl Tensor {
    /// Picks elements along `axis` by index, like `torch.gather`:
    ///
    /// ```text
    /// out[i, j, k] = self[i, index[i, j, k], k]     (axis = 1)
    /// ```
    ///
    /// `index` has the same rank as `self` and the same size on every axis
    /// but `axis`. Used for the log-probability of the true class.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the shapes do not fit,
    /// [`Error::InvalidArgument`] for an index out of range.
    ///
    /// # Example
    /// ```
    /// use fanaroff_tensor::Tensor;
    /// use ndarray::{arr2, ArrayD};
    /// let x = Tensor::from_vec(vec![1., 2., 3., 4.], &[2, 2]).unwrap();
    /// let idx = arr2(&[[1usize], [0]]).into_dyn();
    /// assert_eq!(x.gather(1, &idx).unwrap().to_vec(), vec![2., 3.]);
    /// ```
    pub fn gather(&self, axis: usize, index: &ArrayD<usize>) -> Result<Tensor> {
        let (s, is) = (self.shape(), index.shape());
        if axis >= s.len() {
            return Err(invalid_shape(
                "gather",
                format!("axis {axis} out of range"),
                s,
            ));
        }
        if is.len() != s.len()
            || is
                .iter()
                .zip(s)
                .enumerate()
                .any(|(i, (a, b))| i != axis && a != b)
        {
            return Err(Error::ShapeMismatch {
                op: "gather",
                lhs: s.to_vec(),
                rhs: is.to_vec(),
            });
        }
        if let Some(&bad) = index.iter().find(|&&i| i >= s[axis]) {
            return Err(invalid_arg(
                "gather",
                format!(
                    "index {bad} out of range for axis {axis} of size {}",
                    s[axis]
                ),
            ));
        }
        let ax = Axis(axis);
        let mut y = ArrayD::<f32>::zeros(index.raw_dim());
        Zip::from(y.lanes_mut(ax))
            .and(self.data().lanes(ax))
            .and(index.lanes(ax))
            .for_each(|mut o, x, idx| {
                for (ov, &i) in o.iter_mut().zip(idx.iter()) {
                    *ov = x[i];
                }
            });
        Ok(Tensor::from_op(
            y,
            vec![self.clone()],
            GatherOp {
                axis,
                index: index.to_owned(),
            },
        ))
    }

    /// Inverted dropout: zeroes each element with probability `p` and scales
    /// the survivors by `1 / (1 - p)`, so the expectation is unchanged. The
    /// mask is drawn from `rng`; `p = 0` returns the input unchanged.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `0 <= p < 1`.
    pub fn dropout<R: Rng + ?Sized>(&self, p: f32, rng: &mut R) -> Result<Tensor> {
        if !(0.0..1.0).contains(&p) {
            return Err(invalid_arg("dropout", format!("p = {p} must be in [0, 1)")));
        }
        if p == 0.0 {
            return Ok(self.clone());
        }
        let keep = 1.0 / (1.0 - p);
        let mask = ArrayD::from_shape_fn(self.data().raw_dim(), |_| {
            if rng.random::<f32>() < p { 0.0 } else { keep }
        });
        self.mul_mask(mask)
    }

    /// Multiplies by a constant array of the same shape; gradients flow to
    /// `self` only. The building block of dropout and pruning masks.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the shapes differ.
    pub fn mul_mask(&self, mask: ArrayD<f32>) -> Result<Tensor> {
        if mask.shape() != self.shape() {
            return Err(Error::ShapeMismatch {
                op: "mul_mask",
                lhs: self.shape().to_vec(),
                rhs: mask.shape().to_vec(),
            });
        }
        let y = self.data() * &mask;
        Ok(Tensor::from_op(y, vec![self.clone()], MaskOp { mask }))
    }
}
