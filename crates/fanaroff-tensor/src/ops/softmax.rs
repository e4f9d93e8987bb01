//! Softmax and log-softmax along one axis, computed stably (max subtracted).

use crate::error::{Result, invalid_shape};
use crate::graph::Backward;
use crate::tensor::Tensor;
use ndarray::{ArrayD, Axis, Zip};

struct SoftmaxOp {
    axis: usize,
    log: bool,
}

impl Backward for SoftmaxOp {
    fn name(&self) -> &'static str {
        if self.log { "log_softmax" } else { "softmax" }
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        _: &[Tensor],
        output: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let mut dx = crate::kernels::copy(grad);
        let ax = Axis(self.axis);
        Zip::from(dx.lanes_mut(ax))
            .and(output.lanes(ax))
            .for_each(|mut d, y| {
                if self.log {
                    // y = log softmax(x): dx = g - softmax(x) * sum(g)
                    let s: f32 = d.sum();
                    Zip::from(&mut d)
                        .and(&y)
                        .for_each(|d, &y| *d -= y.exp() * s);
                } else {
                    // y = softmax(x): dx = y * (g - sum(g * y))
                    let s: f32 = d.iter().zip(y.iter()).map(|(g, y)| g * y).sum();
                    Zip::from(&mut d)
                        .and(&y)
                        .for_each(|d, &y| *d = y * (*d - s));
                }
            });
        vec![Some(dx)]
    }
}

fn softmax_impl(x: &Tensor, axis: usize, log: bool) -> Result<Tensor> {
    let op = if log { "log_softmax" } else { "softmax" };
    if axis >= x.ndim() {
        return Err(invalid_shape(
            op,
            format!("axis {axis} out of range"),
            x.shape(),
        ));
    }
    let mut y = x.data().to_owned();
    for mut lane in y.lanes_mut(Axis(axis)) {
        let m = lane.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        // An all -inf lane would give NaN from (-inf) - (-inf); keep it at -inf/0.
        let m = if m.is_finite() { m } else { 0.0 };
        lane.mapv_inplace(|v| v - m);
        let lse = lane.iter().map(|&v| v.exp()).sum::<f32>().ln();
        if log {
            lane.mapv_inplace(|v| v - lse);
        } else {
            lane.mapv_inplace(|v| (v - lse).exp());
        }
    }
    Ok(Tensor::from_op(y, vec![x.clone()], SoftmaxOp { axis, log }))
}

impl Tensor {
    /// `exp(x_i) / sum_j exp(x_j)` along `axis`.
    ///
    /// # Errors
    /// [`Error::InvalidShape`](crate::Error::InvalidShape) for an axis out of range.
    ///
    /// # Example
    /// ```
    /// use fanaroff_tensor::Tensor;
    /// let p = Tensor::from_vec(vec![0.0, 0.0], &[1, 2]).unwrap().softmax(1).unwrap();
    /// assert_eq!(p.to_vec(), vec![0.5, 0.5]);
    /// ```
    pub fn softmax(&self, axis: usize) -> Result<Tensor> {
        softmax_impl(self, axis, false)
    }

    /// `x_i - ln sum_j exp(x_j)` along `axis`, without overflow.
    ///
    /// # Errors
    /// [`Error::InvalidShape`](crate::Error::InvalidShape) for an axis out of range.
    pub fn log_softmax(&self, axis: usize) -> Result<Tensor> {
        softmax_impl(self, axis, true)
    }
}
