//! Batch normalisation over the channels of `[N, C, H, W]` maps.

use crate::error::{Result, config, input};
use crate::module::{Module, join};
use crate::pass::Pass;
use fanaroff_tensor::Tensor;
use std::sync::Mutex;

/// Batch normalisation (Ioffe & Szegedy), PyTorch semantics.
///
/// ```text
/// y = (x - mean) / sqrt(var + eps) * weight + bias
/// ```
///
/// In training mode `mean`/`var` are the batch statistics over `(N, H, W)`
/// (biased variance), and the running statistics move by
/// `running = (1 - momentum) running + momentum batch` (unbiased variance).
/// In evaluation mode the running statistics are used. Defaults:
/// `momentum = 0.1`, `eps = 1e-5`, weight 1, bias 0.
#[derive(Debug)]
pub struct BatchNorm2d {
    /// Scale `[C]`.
    pub weight: Tensor,
    /// Shift `[C]`.
    pub bias: Tensor,
    running: Mutex<(Tensor, Tensor)>,
    /// Weight of the newest batch in the running statistics.
    pub momentum: f32,
    /// Added to the variance for stability.
    pub eps: f32,
    training: bool,
}

impl BatchNorm2d {
    /// A layer for `channels` channels, in training mode.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for zero channels.
    pub fn new(channels: usize) -> Result<Self> {
        if channels == 0 {
            return Err(config("BatchNorm2d", "channels must be positive"));
        }
        Ok(BatchNorm2d {
            weight: Tensor::ones(&[channels]).requires_grad(true),
            bias: Tensor::zeros(&[channels]).requires_grad(true),
            running: Mutex::new((Tensor::zeros(&[channels]), Tensor::ones(&[channels]))),
            momentum: 0.1,
            eps: 1e-5,
            training: true,
        })
    }

    /// The running mean and variance.
    pub fn running_stats(&self) -> (Tensor, Tensor) {
        self.running
            .lock()
            .expect("running statistics lock")
            .clone()
    }
}

impl Module for BatchNorm2d {
    fn forward(&self, x: &Tensor, _pass: &mut Pass<'_>) -> Result<Tensor> {
        let s = x.shape();
        let c = self.weight.len();
        if s.len() != 4 || s[1] != c {
            return Err(input(
                "BatchNorm2d",
                format!("expected [N, {c}, H, W], got {s:?}"),
            ));
        }
        if !self.training {
            let run = self.running.lock().expect("running statistics lock");
            let (m, v) = (run.0.to_vec(), run.1.to_vec());
            return Ok(x
                .batch_norm(&self.weight, &self.bias, Some((&m, &v)), self.eps)?
                .0);
        }
        let count = s[0] * s[2] * s[3];
        if count < 2 {
            return Err(input(
                "BatchNorm2d",
                format!("training needs more than one value per channel, got {s:?}"),
            ));
        }
        let (y, mean, var) = x.batch_norm(&self.weight, &self.bias, None, self.eps)?;
        let mut run = self.running.lock().expect("running statistics lock");
        let (m, unbiased) = (self.momentum, count as f32 / (count - 1) as f32);
        let update = |r: &Tensor, batch: &[f32], k: f32| {
            let mut d = r.data().clone();
            d.iter_mut()
                .zip(batch)
                .for_each(|(r, &b)| *r = (1.0 - m) * *r + m * k * b);
            Tensor::new(d)
        };
        run.0 = update(&run.0, &mean, 1.0);
        run.1 = update(&run.1, &var, unbiased);
        Ok(y)
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        f(&join(prefix, "weight"), &self.weight);
        f(&join(prefix, "bias"), &self.bias);
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        f(&join(prefix, "weight"), &mut self.weight);
        f(&join(prefix, "bias"), &mut self.bias);
    }
    fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        let run = self.running.lock().expect("running statistics lock");
        f(&join(prefix, "running_mean"), &run.0);
        f(&join(prefix, "running_var"), &run.1);
    }
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        let run = self.running.get_mut().expect("running statistics lock");
        f(&join(prefix, "running_mean"), &mut run.0);
        f(&join(prefix, "running_var"), &mut run.1);
    }
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
    fn own_training_mode(&self) -> Option<bool> {
        Some(self.training)
    }
}
