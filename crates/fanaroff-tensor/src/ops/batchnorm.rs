//! Batch normalisation over `[N, C, H, W]` as one op: one pass for the
//! statistics, one for the output, and an analytic backward (instead of
//! eight broadcast element-wise ops and their reductions).

use crate::error::{Result, invalid_shape};
use crate::graph::Backward;
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;

/// What the backward pass needs: per-channel mean and `1 / sqrt(var + eps)`,
/// and whether they were the batch's own statistics.
struct BatchNormOp {
    mean: Vec<f32>,
    inv_std: Vec<f32>,
    batch_stats: bool,
}

/// `(n, c, hw)` of a `[N, C, H, W]` shape.
fn dims(s: &[usize]) -> (usize, usize, usize) {
    (s[0], s[1], s[2] * s[3])
}

/// Sum of `f(i)` over a plane, in sixteen f32 lanes (so it vectorises),
/// finished in f64.
fn lane_sum(len: usize, f: impl Fn(usize) -> f32) -> f64 {
    let mut lanes = [0.0f32; 16];
    let whole = len - len % 16;
    for base in (0..whole).step_by(16) {
        for (l, lane) in lanes.iter_mut().enumerate() {
            *lane += f(base + l);
        }
    }
    let tail: f64 = (whole..len).map(|i| f64::from(f(i))).sum();
    lanes.iter().map(|&l| f64::from(l)).sum::<f64>() + tail
}

/// Per-channel totals of per-plane sums `plane(values, channel)` over the
/// `N C` planes of `x`: each plane summed in parallel, the planes of a
/// channel added in image order (the same result for any thread count).
fn channel_sums(
    x: &[f32],
    c: usize,
    hw: usize,
    plane: impl Fn(usize, &[f32], usize) -> f64 + Sync,
) -> Vec<f64> {
    let per_plane: Vec<f64> = x
        .par_chunks(hw)
        .enumerate()
        .map(|(j, v)| plane(j, v, j % c))
        .collect();
    let mut out = vec![0.0f64; c];
    for (j, v) in per_plane.iter().enumerate() {
        out[j % c] += v;
    }
    out
}

impl Backward for BatchNormOp {
    fn name(&self) -> &'static str {
        "batch_norm"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _output: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let (x, w) = (&parents[0], &parents[1]);
        let (n, c, hw) = dims(x.shape());
        let xd = x.data().as_standard_layout();
        let xs = xd.as_slice().expect("standard layout");
        let gd = grad.as_standard_layout();
        let gs = gd.as_slice().expect("standard layout");
        let db = channel_sums(gs, c, hw, |_, g, _| lane_sum(g.len(), |k| g[k]));
        // sum g xhat = inv_std (sum g x - mean sum g)
        let gx = channel_sums(gs, c, hw, |j, g, _| {
            let xp = &xs[j * hw..(j + 1) * hw];
            lane_sum(g.len(), |k| g[k] * xp[k])
        });
        let dw: Vec<f64> = (0..c)
            .map(|ch| f64::from(self.inv_std[ch]) * (gx[ch] - f64::from(self.mean[ch]) * db[ch]))
            .collect();
        let gamma = w.data().iter().copied().collect::<Vec<f32>>();
        let m = (n * hw) as f64;
        let dx = parents[0].is_requires_grad().then(|| {
            let mut dx = crate::pool::take_dirty(xs.len());
            dx.par_chunks_mut(hw).enumerate().for_each(|(j, out)| {
                let ch = j % c;
                let (mean, inv) = (self.mean[ch], self.inv_std[ch]);
                let scale = gamma[ch] * inv;
                let (mb, mw) = if self.batch_stats {
                    ((db[ch] / m) as f32, (dw[ch] / m) as f32)
                } else {
                    (0.0, 0.0)
                };
                // scale (g - mb - (x - mean) inv mw) = scale g + a x + b
                let (a, b) = (-scale * inv * mw, scale * (mean * inv * mw - mb));
                let (gp, xp) = (&gs[j * hw..(j + 1) * hw], &xs[j * hw..(j + 1) * hw]);
                for ((o, &g), &v) in out.iter_mut().zip(gp).zip(xp) {
                    *o = scale * g + a * v + b;
                }
            });
            ArrayD::from_shape_vec(IxDyn(x.shape()), dx).expect("same size")
        });
        let per = |v: Vec<f64>| {
            ArrayD::from_shape_vec(IxDyn(&[c]), v.into_iter().map(|s| s as f32).collect())
                .expect("c values")
        };
        vec![
            dx,
            parents[1].is_requires_grad().then(|| per(dw)),
            parents[2].is_requires_grad().then(|| per(db)),
        ]
    }
}

impl Tensor {
    /// Batch normalisation of `[N, C, H, W]` with per-channel `weight` and
    /// `bias` (`[C]`):
    /// `y = weight (x - mean) / sqrt(var + eps) + bias`.
    /// With `stats = None` the batch's own mean and biased variance are used
    /// (training; gradients flow through them); with `Some((mean, var))`
    /// those are used as constants (evaluation). Returns `y` and the mean
    /// and biased variance that were used.
    ///
    /// # Errors
    /// [`Error::InvalidShape`](crate::Error::InvalidShape) unless `x` is
    /// `[N, C, H, W]` with `N H W >= 1` and the per-channel arrays have `C`
    /// entries.
    ///
    /// # Example
    /// ```
    /// use fanaroff_tensor::Tensor;
    /// let x = Tensor::from_vec(vec![1.0, 3.0], &[2, 1, 1, 1]).unwrap();
    /// let (y, mean, var) = x.batch_norm(&Tensor::ones(&[1]), &Tensor::zeros(&[1]), None, 0.0).unwrap();
    /// assert_eq!((mean, var), (vec![2.0], vec![1.0]));
    /// assert_eq!(y.to_vec(), vec![-1.0, 1.0]);
    /// ```
    pub fn batch_norm(
        &self,
        weight: &Tensor,
        bias: &Tensor,
        stats: Option<(&[f32], &[f32])>,
        eps: f32,
    ) -> Result<(Tensor, Vec<f32>, Vec<f32>)> {
        let s = self.shape().to_vec();
        if s.len() != 4 || s[0] * s[2] * s[3] == 0 {
            return Err(invalid_shape(
                "batch_norm",
                "input must be a non-empty [N, C, H, W]",
                &s,
            ));
        }
        let (n, c, hw) = dims(&s);
        let fits = |len: usize| len == c;
        if !fits(weight.len())
            || !fits(bias.len())
            || stats.is_some_and(|(m, v)| !fits(m.len()) || !fits(v.len()))
        {
            return Err(invalid_shape(
                "batch_norm",
                "weight, bias and statistics need one value per channel",
                &s,
            ));
        }
        let xd = self.data().as_standard_layout();
        let xs = xd.as_slice().expect("standard layout");
        let (mean, var) = match stats {
            Some((m, v)) => (m.to_vec(), v.to_vec()),
            None => {
                let cnt = (n * hw) as f64;
                let mean: Vec<f64> = channel_sums(xs, c, hw, |_, v, _| lane_sum(v.len(), |k| v[k]))
                    .into_iter()
                    .map(|v| v / cnt)
                    .collect();
                let var = channel_sums(xs, c, hw, |_, v, ch| {
                    let m = mean[ch] as f32;
                    lane_sum(v.len(), |k| (v[k] - m) * (v[k] - m))
                });
                (
                    mean.iter().map(|&v| v as f32).collect(),
                    var.into_iter().map(|v| (v / cnt) as f32).collect(),
                )
            }
        };
        let inv_std: Vec<f32> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
        let g: Vec<f32> = weight.data().iter().copied().collect();
        let b: Vec<f32> = bias.data().iter().copied().collect();
        let mut y = crate::pool::take_dirty(xs.len());
        y.par_chunks_mut(hw)
            .zip(xs.par_chunks(hw))
            .enumerate()
            .for_each(|(j, (out, inp))| {
                let ch = j % c;
                let (scale, shift) = (g[ch] * inv_std[ch], b[ch] - g[ch] * inv_std[ch] * mean[ch]);
                for (o, &v) in out.iter_mut().zip(inp) {
                    *o = v * scale + shift;
                }
            });
        let y = ArrayD::from_shape_vec(IxDyn(&s), y).expect("same size");
        let op = BatchNormOp {
            mean: mean.clone(),
            inv_std,
            batch_stats: stats.is_none(),
        };
        let out = Tensor::from_op(y, vec![self.clone(), weight.clone(), bias.clone()], op);
        Ok((out, mean, var))
    }
}
