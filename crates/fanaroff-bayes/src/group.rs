//! Several posterior draws in one forward pass (Monte Carlo prediction with
//! `PredictConfig::draws_per_pass`, see [`fanaroff_nn::Pass::with_group`]).
//!
//! The pass starts with the `N` input examples that all draws share. The
//! first variational layer stacks the `G` draws' weights as extra output
//! channels, so it reads (and, for a convolution, unfolds) its input once
//! and multiplies by a `G`-times taller weight matrix; its output is
//! regrouped into `G` blocks of `N` rows, block `g` holding draw `g`.
//! Later variational layers apply draw `g`'s weights to block `g`. Layers
//! between them (ReLU, pooling, batch norm in evaluation mode, flatten)
//! treat the blocks as one larger batch.

use crate::core::{Core, randn_array};
use crate::error::{Result, input};
use crate::params::WeightNoise;
use crate::posterior::sample_weight;
use fanaroff_nn::{DrawGroup, Pass};
use fanaroff_tensor::{Tensor, is_grad_enabled, pool};
use ndarray::{ArrayD, IxDyn};

impl Core {
    /// The layer under a group of draws: `x` holds either the group's
    /// shared `batch` examples or `draws` blocks of them.
    pub(crate) fn forward_group(
        &self,
        x: &Tensor,
        group: DrawGroup,
        pass: &mut Pass<'_>,
    ) -> Result<Tensor> {
        if is_grad_enabled() {
            return Err(input(
                self.name(),
                "a group of draws is for prediction: record no graph (NoGradGuard)",
            ));
        }
        let p = &self.params;
        let noises = pass.weight_noises(|r| WeightNoise {
            weight_eps: randn_array(p.weight_mu.shape(), r),
            bias_eps: randn_array(p.bias_mu.shape(), r),
        });
        let mut weights = Vec::with_capacity(noises.len());
        let mut biases = Vec::with_capacity(noises.len());
        for n in &noises {
            let w = sample_weight(&p.weight_mu, &p.weight_rho, &n.weight_eps, self.cfg.sigma)?;
            weights.push(self.mask.apply(&w)?);
            biases.push(sample_weight(
                &p.bias_mu,
                &p.bias_rho,
                &n.bias_eps,
                self.cfg.sigma,
            )?);
        }
        let rows = x.shape()[0];
        let y = if rows == group.batch {
            let w = Tensor::concat(&weights, 0)?;
            let b = Tensor::concat(&biases, 0)?;
            let stacked = self.apply_masked(x, &w, Some(&b))?;
            Tensor::new(regroup(stacked.data(), group.draws))
        } else if rows == group.batch * group.draws {
            let blocks = (0..group.draws)
                .map(|g| {
                    let xg = x.slice(0, g * group.batch, (g + 1) * group.batch)?;
                    self.apply_masked(&xg, &weights[g], Some(&biases[g]))
                })
                .collect::<Result<Vec<_>>>()?;
            Tensor::concat(&blocks, 0)?
        } else {
            return Err(input(
                self.name(),
                format!(
                    "input of {rows} rows in a group of {} draws over {} examples \
                     (expected {} or {})",
                    group.draws,
                    group.batch,
                    group.batch,
                    group.batch * group.draws
                ),
            ));
        };
        self.record(noises.first(), pass)?;
        Ok(y)
    }
}

/// `[N, G * C, ...]` (draw `g` in channels `g C .. (g + 1) C`) to
/// `[G * N, C, ...]` (draw `g` in rows `g N .. (g + 1) N`).
fn regroup(y: &ArrayD<f32>, draws: usize) -> ArrayD<f32> {
    let shape = y.shape();
    let n = shape[0];
    let chunk = y.len() / (n * draws).max(1);
    let src = y.as_standard_layout();
    let src = src.as_slice().expect("standard layout");
    let mut out = pool::take_dirty(y.len());
    for (i, piece) in src.chunks_exact(chunk.max(1)).enumerate() {
        let (row, g) = (i / draws, i % draws);
        let at = (g * n + row) * chunk;
        out[at..at + chunk].copy_from_slice(piece);
    }
    let mut to = shape.to_vec();
    to[0] = n * draws;
    to[1] = shape[1] / draws;
    ArrayD::from_shape_vec(IxDyn(&to), out).expect("same number of elements")
}

#[cfg(test)]
mod tests {
    use super::regroup;
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn regroup_moves_each_draws_channels_to_its_block() {
        // N = 2 rows, G = 3 draws of C = 2 channels, 1 value each
        let y = ArrayD::from_shape_fn(IxDyn(&[2, 6, 1]), |i| (10 * i[0] + i[1]) as f32);
        let r = regroup(&y, 3);
        assert_eq!(r.shape(), &[6, 2, 1]);
        // block g, row n = input row n, channels 2g, 2g + 1
        for g in 0..3 {
            for n in 0..2 {
                for c in 0..2 {
                    assert_eq!(r[[g * 2 + n, c, 0]], (10 * n + 2 * g + c) as f32);
                }
            }
        }
    }
}
