//! Bilinear resizing of `[N, C, H, W]` tensors, with PyTorch's two
//! conventions for where the sample points sit.

use crate::error::{Result, invalid_arg, invalid_shape};
use crate::graph::Backward;
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;

/// For one output coordinate: the two source indices and the weight of the
/// second.
#[derive(Clone, Copy, Debug)]
struct Tap {
    i0: usize,
    i1: usize,
    frac: f32,
}

/// Source sample positions along one axis.
///
/// ```text
/// align_corners = true:  src = dst * (in - 1) / (out - 1)      (0 when out = 1)
/// align_corners = false: src = max(0, (dst + 0.5) * in / out - 0.5)
/// ```
fn taps(n_in: usize, n_out: usize, align_corners: bool) -> Vec<Tap> {
    (0..n_out)
        .map(|d| {
            let src = if align_corners {
                if n_out > 1 {
                    d as f32 * (n_in - 1) as f32 / (n_out - 1) as f32
                } else {
                    0.0
                }
            } else {
                ((d as f32 + 0.5) * n_in as f32 / n_out as f32 - 0.5).max(0.0)
            };
            let i0 = (src.floor() as usize).min(n_in - 1);
            let i1 = (i0 + 1).min(n_in - 1);
            Tap {
                i0,
                i1,
                frac: src - i0 as f32,
            }
        })
        .collect()
}

struct ResizeOp {
    ty: Vec<Tap>,
    tx: Vec<Tap>,
    h: usize,
    w: usize,
}

impl Backward for ResizeOp {
    fn name(&self) -> &'static str {
        "resize_bilinear"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let (ho, wo) = (self.ty.len(), self.tx.len());
        let gs = grad.as_standard_layout();
        let gs = gs.as_slice().expect("standard layout");
        let mut dx = crate::pool::take_dirty(parents[0].len());
        dx.par_chunks_mut(self.h * self.w)
            .zip(gs.par_chunks(ho * wo))
            .for_each(|(d, g)| {
                d.fill(0.0);
                for (oy, ty) in self.ty.iter().enumerate() {
                    for (ox, tx) in self.tx.iter().enumerate() {
                        let v = g[oy * wo + ox];
                        let (a, b) = (v * (1.0 - ty.frac), v * ty.frac);
                        d[ty.i0 * self.w + tx.i0] += a * (1.0 - tx.frac);
                        d[ty.i0 * self.w + tx.i1] += a * tx.frac;
                        d[ty.i1 * self.w + tx.i0] += b * (1.0 - tx.frac);
                        d[ty.i1 * self.w + tx.i1] += b * tx.frac;
                    }
                }
            });
        vec![Some(
            ArrayD::from_shape_vec(IxDyn(parents[0].shape()), dx).expect("input shape"),
        )]
    }
}

impl Tensor {
    /// Bilinear resize of `[N, C, H, W]` to `[N, C, out_h, out_w]`, matching
    /// PyTorch's `interpolate(mode="bilinear", align_corners=...)`.
    ///
    /// With `align_corners = true` the corner pixels of input and output are
    /// aligned; with `false` (PyTorch's default) pixel centres are, and
    /// samples beyond the edge are clamped.
    ///
    /// # Errors
    /// [`Error::InvalidShape`](crate::Error::InvalidShape) unless the input is
    /// a non-empty `[N, C, H, W]`; [`Error::InvalidArgument`](crate::Error::InvalidArgument)
    /// for a zero output size.
    pub fn resize_bilinear(
        &self,
        out_h: usize,
        out_w: usize,
        align_corners: bool,
    ) -> Result<Tensor> {
        let s = self.shape();
        if s.len() != 4 || s[2] == 0 || s[3] == 0 {
            return Err(invalid_shape(
                "resize_bilinear",
                "input must be a non-empty [N, C, H, W]",
                s,
            ));
        }
        if out_h == 0 || out_w == 0 {
            return Err(invalid_arg(
                "resize_bilinear",
                "output size must be positive",
            ));
        }
        let (h, w) = (s[2], s[3]);
        let ty = taps(h, out_h, align_corners);
        let tx = taps(w, out_w, align_corners);
        let xs = self.data().as_standard_layout();
        let xs = xs.as_slice().expect("standard layout");
        let mut y = crate::pool::take_dirty(s[0] * s[1] * out_h * out_w);
        y.par_chunks_mut(out_h * out_w)
            .zip(xs.par_chunks(h * w))
            .for_each(|(yp, xp)| {
                for (oy, t) in ty.iter().enumerate() {
                    for (ox, u) in tx.iter().enumerate() {
                        let top =
                            xp[t.i0 * w + u.i0] * (1.0 - u.frac) + xp[t.i0 * w + u.i1] * u.frac;
                        let bot =
                            xp[t.i1 * w + u.i0] * (1.0 - u.frac) + xp[t.i1 * w + u.i1] * u.frac;
                        yp[oy * out_w + ox] = top * (1.0 - t.frac) + bot * t.frac;
                    }
                }
            });
        let y =
            ArrayD::from_shape_vec(IxDyn(&[s[0], s[1], out_h, out_w]), y).expect("output shape");
        Ok(Tensor::from_op(
            y,
            vec![self.clone()],
            ResizeOp { ty, tx, h, w },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_follow_pytorch_conventions() {
        // 2 -> 4 with align_corners=false: src = (d+0.5)/2 - 0.5 = -0.25(clamped 0), 0.25, 0.75, 1.25
        let t = taps(2, 4, false);
        let src: Vec<f32> = t.iter().map(|t| t.i0 as f32 + t.frac).collect();
        assert_eq!(src, vec![0.0, 0.25, 0.75, 1.25]);
        assert_eq!((t[3].i0, t[3].i1), (1, 1));
        // 3 -> 5 with align_corners=true: src = d * 2/4
        let t = taps(3, 5, true);
        let src: Vec<f32> = t.iter().map(|t| t.i0 as f32 + t.frac).collect();
        assert_eq!(src, vec![0.0, 0.5, 1.0, 1.5, 2.0]);
    }
}
