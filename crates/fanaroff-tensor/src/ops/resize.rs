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

/// Second pass of the separable resize: output row `oy` blends the two
/// horizontally resized input rows its tap names.
fn blend_rows(ty: &[Tap], rows: &[f32], wo: usize, out: &mut [f32]) {
    for (o, t) in out.chunks_exact_mut(wo).zip(ty) {
        let top = &rows[t.i0 * wo..(t.i0 + 1) * wo];
        let bot = &rows[t.i1 * wo..(t.i1 + 1) * wo];
        for ((o, &a), &b) in o.iter_mut().zip(top).zip(bot) {
            *o = a * (1.0 - t.frac) + b * t.frac;
        }
    }
}

/// Adjoint of [`blend_rows`]: adds each output row's gradient into the two
/// input rows it was blended from, both in one sweep over the gradient
/// row (the first row's update comes first where the two are one row, at
/// a clamped edge).
fn spread_rows(ty: &[Tap], g: &[f32], wo: usize, rows: &mut [f32]) {
    for (gr, t) in g.chunks_exact(wo).zip(ty) {
        let (w0, w1) = (1.0 - t.frac, t.frac);
        if t.i0 == t.i1 {
            for (r, &v) in rows[t.i0 * wo..(t.i0 + 1) * wo].iter_mut().zip(gr) {
                *r += v * w0;
                *r += v * w1;
            }
            continue;
        }
        let (lo, hi) = (t.i0.min(t.i1), t.i0.max(t.i1));
        let (head, tail) = rows.split_at_mut(hi * wo);
        let (r_lo, r_hi) = (&mut head[lo * wo..(lo + 1) * wo], &mut tail[..wo]);
        let (r0, r1) = if t.i0 < t.i1 {
            (r_lo, r_hi)
        } else {
            (r_hi, r_lo)
        };
        for ((a, b), &v) in r0.iter_mut().zip(r1.iter_mut()).zip(gr) {
            *a += v * w0;
            *b += v * w1;
        }
    }
}

/// The bilinear resize of one `[h, w]` plane to `[ho, wo]` and its
/// adjoint, for ops that resize inside their own loops (the fused
/// attention gate).
pub(crate) struct Resizer {
    ty: Vec<Tap>,
    tx: Vec<Tap>,
    h: usize,
    w: usize,
}

impl Resizer {
    pub(crate) fn new(h: usize, w: usize, ho: usize, wo: usize, align_corners: bool) -> Self {
        Resizer {
            ty: taps(h, ho, align_corners),
            tx: taps(w, wo, align_corners),
            h,
            w,
        }
    }

    /// Scratch length the two passes need (`h wo`).
    pub(crate) fn scratch_len(&self) -> usize {
        self.h * self.tx.len()
    }

    /// The first (horizontal) pass: each input row resized to `wo` columns.
    fn widen_rows(&self, x: &[f32], rows: &mut [f32]) {
        let wo = self.tx.len();
        for (r, x) in rows.chunks_exact_mut(wo).zip(x.chunks_exact(self.w)) {
            for (r, u) in r.iter_mut().zip(&self.tx) {
                *r = x[u.i0] * (1.0 - u.frac) + x[u.i1] * u.frac;
            }
        }
    }

    /// `out [ho wo] = resize(x [h w])`; `rows` is scratch of
    /// [`scratch_len`](Self::scratch_len).
    pub(crate) fn plane(&self, x: &[f32], rows: &mut [f32], out: &mut [f32]) {
        self.widen_rows(x, rows);
        blend_rows(&self.ty, rows, self.tx.len(), out);
    }

    /// `out [ho wo] += resize(x [h w]) + bias`, with the same bits as
    /// adding `bias` to [`plane`](Self::plane)'s value and that to `out`,
    /// but without writing the resized plane out.
    pub(crate) fn add_plane(&self, x: &[f32], rows: &mut [f32], bias: f32, out: &mut [f32]) {
        self.widen_rows(x, rows);
        let wo = self.tx.len();
        for (o, t) in out.chunks_exact_mut(wo).zip(&self.ty) {
            let top = &rows[t.i0 * wo..(t.i0 + 1) * wo];
            let bot = &rows[t.i1 * wo..(t.i1 + 1) * wo];
            for ((o, &a), &b) in o.iter_mut().zip(top).zip(bot) {
                *o += (a * (1.0 - t.frac) + b * t.frac) + bias;
            }
        }
    }

    /// `d [h w] = resize^T(g [ho wo])` (overwrites `d`); `rows` as for
    /// [`plane`](Self::plane).
    pub(crate) fn adjoint(&self, g: &[f32], rows: &mut [f32], d: &mut [f32]) {
        let wo = self.tx.len();
        rows.fill(0.0);
        spread_rows(&self.ty, g, wo, rows);
        d.fill(0.0);
        for (d, r) in d.chunks_exact_mut(self.w).zip(rows.chunks_exact(wo)) {
            for (u, &v) in self.tx.iter().zip(r) {
                d[u.i0] += v * (1.0 - u.frac);
                d[u.i1] += v * u.frac;
            }
        }
    }
}

struct ResizeOp(Resizer);

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
        let r = &self.0;
        let gs = grad.as_standard_layout();
        let gs = gs.as_slice().expect("standard layout");
        let mut dx = crate::pool::take_dirty(parents[0].len());
        dx.par_chunks_mut(r.h * r.w)
            .zip(gs.par_chunks(r.ty.len() * r.tx.len()))
            .for_each_init(
                || vec![0.0f32; r.scratch_len()],
                |rows, (d, g)| r.adjoint(g, rows, d),
            );
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
        let r = Resizer::new(s[2], s[3], out_h, out_w, align_corners);
        let xs = self.data().as_standard_layout();
        let xs = xs.as_slice().expect("standard layout");
        let mut y = crate::pool::take_dirty(s[0] * s[1] * out_h * out_w);
        y.par_chunks_mut(out_h * out_w)
            .zip(xs.par_chunks(r.h * r.w))
            .for_each_init(
                || vec![0.0f32; r.scratch_len()],
                |rows, (yp, xp)| r.plane(xp, rows, yp),
            );
        let y =
            ArrayD::from_shape_vec(IxDyn(&[s[0], s[1], out_h, out_w]), y).expect("output shape");
        Ok(Tensor::from_op(y, vec![self.clone()], ResizeOp(r)))
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

    /// The separable two-pass resize gives exactly the four-tap formula.
    #[test]
    fn separable_passes_match_the_four_tap_formula() {
        let (h, w, oh, ow) = (5, 7, 11, 4);
        let x: Vec<f32> = (0..2 * h * w)
            .map(|i| ((i * 37) % 23) as f32 - 9.5)
            .collect();
        let t = Tensor::from_vec(x.clone(), &[1, 2, h, w]).unwrap();
        for ac in [false, true] {
            let y = t.resize_bilinear(oh, ow, ac).unwrap().to_vec();
            let (ty, tx) = (taps(h, oh, ac), taps(w, ow, ac));
            for p in 0..2 {
                let xp = &x[p * h * w..];
                for (oy, a) in ty.iter().enumerate() {
                    for (ox, b) in tx.iter().enumerate() {
                        let row = |i: usize| {
                            xp[i * w + b.i0] * (1.0 - b.frac) + xp[i * w + b.i1] * b.frac
                        };
                        let want = row(a.i0) * (1.0 - a.frac) + row(a.i1) * a.frac;
                        assert_eq!(
                            y[p * oh * ow + oy * ow + ox],
                            want,
                            "align {ac} at {oy},{ox}"
                        );
                    }
                }
            }
        }
    }

    fn wavy(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (((i + seed) * 37) % 23) as f32 * 0.37 - 4.1)
            .collect()
    }

    /// `add_plane` writes the same bits as `plane` followed by `z += u + b`,
    /// upsampling and downsampling, with clamped edges.
    #[test]
    fn add_plane_matches_plane_then_add() {
        for (h, w, ho, wo) in [(3, 4, 8, 9), (9, 9, 150, 150), (7, 5, 3, 2)] {
            let r = Resizer::new(h, w, ho, wo, false);
            let x = wavy(h * w, 1);
            let z0 = wavy(ho * wo, 5);
            let mut rows = vec![0.0; r.scratch_len()];
            let mut up = vec![0.0; ho * wo];
            r.plane(&x, &mut rows, &mut up);
            let want: Vec<f32> = z0.iter().zip(&up).map(|(&z, &u)| z + (u + 0.3)).collect();
            let mut got = z0.clone();
            r.add_plane(&x, &mut rows, 0.3, &mut got);
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "{h}x{w} -> {ho}x{wo}");
        }
    }

    /// The one-sweep adjoint of the row blend gives the bits of adding
    /// each row's two contributions in turn, and the adjoint passes the
    /// dot-product test `<resize x, g> = <x, resize^T g>`.
    #[test]
    fn adjoint_matches_two_sweeps_and_the_dot_product_test() {
        for (h, w, ho, wo) in [(3, 4, 8, 9), (9, 9, 37, 37), (7, 5, 3, 2)] {
            let r = Resizer::new(h, w, ho, wo, false);
            let g = wavy(ho * wo, 2);
            let mut got = vec![0.0; h * wo];
            spread_rows(&r.ty, &g, wo, &mut got);
            let mut want = vec![0.0f32; h * wo];
            for (gr, t) in g.chunks_exact(wo).zip(&r.ty) {
                for (i, weight) in [(t.i0, 1.0 - t.frac), (t.i1, t.frac)] {
                    for (x, &v) in want[i * wo..(i + 1) * wo].iter_mut().zip(gr) {
                        *x += v * weight;
                    }
                }
            }
            assert_eq!(got, want, "{h}x{w} -> {ho}x{wo}");
            let x = wavy(h * w, 3);
            let (mut rows, mut y, mut d) = (
                vec![0.0; r.scratch_len()],
                vec![0.0; ho * wo],
                vec![0.0; h * w],
            );
            r.plane(&x, &mut rows, &mut y);
            r.adjoint(&g, &mut rows, &mut d);
            let dot = |a: &[f32], b: &[f32]| {
                a.iter()
                    .zip(b)
                    .map(|(&p, &q)| p as f64 * q as f64)
                    .sum::<f64>()
            };
            let (lhs, rhs) = (dot(&y, &g), dot(&x, &d));
            assert!(
                (lhs - rhs).abs() <= 1e-4 * lhs.abs().max(1.0),
                "{lhs} vs {rhs}"
            );
        }
    }
}
