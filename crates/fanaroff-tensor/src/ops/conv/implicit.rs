//! Stride-1 convolution without an unfolded matrix.
//!
//! Each image is copied once into a zero-padded buffer `[C, Hp, Wp]`. In a
//! "wide" output layout with rows of `Wp` (not `Wo`) values, output position
//! `n = oy Wp + ox` reads input `c Hp Wp + (oy + ki) Wp + ox + kj`, so row
//! `(c, ki, kj)` of the would-be im2col matrix is the padded buffer shifted
//! by `c Hp Wp + ki Wp + kj`. The GEMM reads those shifted rows directly; the
//! `Wp - Wo` extra columns of each wide row are discarded (forward) or held
//! at zero (gradients). The buffer carries `kw - 1` spare zeros so the last
//! shifted row stays in bounds.

use super::{Geometry, backward_chunks, chunk_len};
use crate::gemm::{gemm_nn, gemm_nt};
use rayon::prelude::*;

/// Columns of a wide GEMM rounded up to whole 16-float vectors, so the
/// kernels never fall back to scalar loops; the extra columns are discarded
/// (forward) or multiply zeros (gradients).
fn round_cols(n: usize) -> usize {
    n.div_ceil(16) * 16
}

/// A zero-padded image with the shifted-row offsets of one kernel. The
/// buffer comes from the buffer pool and goes back to it when dropped.
struct Padded {
    hp: usize,
    wp: usize,
    ph: usize,
    pw: usize,
    /// Wide GEMM columns: `(hp - kh + 1) wp` rounded up by [`round_cols`].
    cols: usize,
    buf: Vec<f32>,
    /// `offsets[(c kh + ki) kw + kj] = c hp wp + ki wp + kj`.
    offsets: Vec<usize>,
}

impl Padded {
    fn new(c: usize, h: usize, w: usize, ph: usize, pw: usize, kh: usize, kw: usize) -> Self {
        let (hp, wp) = (h + 2 * ph, w + 2 * pw);
        let mut offsets = Vec::with_capacity(c * kh * kw);
        for ci in 0..c {
            for ki in 0..kh {
                for kj in 0..kw {
                    offsets.push(ci * hp * wp + ki * wp + kj);
                }
            }
        }
        let n_wide = (hp - kh + 1) * wp;
        let cols = round_cols(n_wide);
        // The last shifted row starts at c hp wp - n_wide + kw - 1 and reads
        // `cols` values.
        let len = c * hp * wp + kw - 1 + (cols - n_wide);
        Padded {
            hp,
            wp,
            ph,
            pw,
            cols,
            buf: crate::pool::take_zeroed(len),
            offsets,
        }
    }

    /// Copies one `[C, H, W]` image into the interior; the border stays zero.
    fn fill(&mut self, img: &[f32], h: usize, w: usize) {
        for (ci, plane) in img.chunks(h * w).enumerate() {
            for (y, row) in plane.chunks(w).enumerate() {
                let at = ci * self.hp * self.wp + (y + self.ph) * self.wp + self.pw;
                self.buf[at..at + w].copy_from_slice(row);
            }
        }
    }
}

impl Drop for Padded {
    fn drop(&mut self) {
        crate::pool::recycle(std::mem::take(&mut self.buf));
    }
}

/// Shape of a wide `[planes, rows, wp]` buffer whose planes are `ld` apart.
#[derive(Clone, Copy)]
struct Wide {
    ld: usize,
    wp: usize,
    rows: usize,
    cols: usize,
}

/// `out[o][y][x] = wide[o ld + y wp + x] (+ bias[o])` for `x < cols`.
fn compact(wide: &[f32], s: Wide, bias: Option<&[f32]>, out: &mut [f32]) {
    let plane = s.rows * s.cols;
    for (o, (dst, src)) in out.chunks_mut(plane).zip(wide.chunks(s.ld)).enumerate() {
        let rows = dst.chunks_exact_mut(s.cols).zip(src.chunks(s.wp));
        match bias {
            Some(b) => {
                let b = b[o];
                for (d, src) in rows {
                    for (d, &v) in d.iter_mut().zip(&src[..s.cols]) {
                        *d = v + b;
                    }
                }
            }
            None => {
                for (d, src) in rows {
                    d.copy_from_slice(&src[..s.cols]);
                }
            }
        }
    }
}

/// Copies `[O, rows, cols]` into a wide buffer (extra columns untouched, zero).
fn widen(src: &[f32], s: Wide, wide: &mut [f32]) {
    let plane = s.rows * s.cols;
    for (src, dst) in src.chunks(plane).zip(wide.chunks_mut(s.ld)) {
        for (s_row, d_row) in src.chunks(s.cols).zip(dst.chunks_mut(s.wp)) {
            d_row[..s.cols].copy_from_slice(s_row);
        }
    }
}

/// A scratch buffer from the pool, handed back when dropped.
struct Scratch(Vec<f32>);

impl Scratch {
    fn dirty(len: usize) -> Self {
        Scratch(crate::pool::take_dirty(len))
    }
    fn zeroed(len: usize) -> Self {
        Scratch(crate::pool::take_zeroed(len))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        crate::pool::recycle(std::mem::take(&mut self.0));
    }
}

/// The padded-input buffer of one chunk and the shape of the wide output
/// rows it produces (`[O, Ho, Wp]`, planes `cols` apart).
fn padded_input(g: &Geometry) -> (Padded, Wide) {
    let pad = Padded::new(g.c, g.h, g.w, g.ph, g.pw, g.kh, g.kw);
    let shape = Wide {
        ld: pad.cols,
        wp: pad.wp,
        rows: g.ho,
        cols: g.wo,
    };
    (pad, shape)
}

pub(super) fn forward(g: &Geometry, x: &[f32], w: &[f32], bias: Option<&[f32]>, out: &mut [f32]) {
    let (chw, ohw, ckk) = (g.chw(), g.ohw(), g.ckk());
    let cl = chunk_len(g.n);
    out.par_chunks_mut(cl * ohw)
        .zip(x.par_chunks(cl * chw))
        .for_each(|(yc, xc)| {
            let (mut pad, shape) = padded_input(g);
            let n = pad.cols;
            let mut wide = Scratch::dirty(g.o * n);
            for (yi, xi) in yc.chunks_mut(ohw).zip(xc.chunks(chw)) {
                pad.fill(xi, g.h, g.w);
                let b = &pad.buf;
                gemm_nn(
                    g.o,
                    n,
                    ckk,
                    w,
                    ckk,
                    1,
                    b,
                    &pad.offsets,
                    &mut wide.0,
                    n,
                    false,
                );
                compact(&wide.0, shape, bias, yi);
            }
        });
}

/// The kernel flipped in both axes with input and output channels swapped:
/// `[C, O, kh, kw]`, the weight of the input gradient's convolution.
fn flip_kernel(g: &Geometry, w: &[f32]) -> Vec<f32> {
    let mut wflip = vec![0.0f32; g.c * g.o * g.kh * g.kw];
    for o in 0..g.o {
        for c in 0..g.c {
            for ki in 0..g.kh {
                for kj in 0..g.kw {
                    wflip[((c * g.o + o) * g.kh + (g.kh - 1 - ki)) * g.kw + (g.kw - 1 - kj)] =
                        w[((o * g.c + c) * g.kh + ki) * g.kw + kj];
                }
            }
        }
    }
    wflip
}

/// One chunk's weight gradient: `dW += dY_wide (shifted rows of X)^T` per image.
fn weight_grad_chunk(g: &Geometry, xc: &[f32], dyc: &[f32]) -> Vec<f32> {
    let (chw, ohw, ckk) = (g.chw(), g.ohw(), g.ckk());
    let mut dw = vec![0.0f32; g.o * ckk];
    let (mut pad, shape) = padded_input(g);
    let n = pad.cols;
    let mut dy_wide = Scratch::zeroed(g.o * n);
    for (xi, dyi) in xc.chunks(chw).zip(dyc.chunks(ohw)) {
        pad.fill(xi, g.h, g.w);
        widen(dyi, shape, &mut dy_wide.0);
        let b = &pad.buf;
        gemm_nt(
            g.o,
            ckk,
            n,
            &dy_wide.0,
            n,
            b,
            &pad.offsets,
            &mut dw,
            ckk,
            true,
        );
    }
    dw
}

/// One chunk's input gradient: the convolution of the output gradient,
/// padded by `k - 1 - p`, with the flipped kernel.
fn input_grad_chunk(g: &Geometry, wflip: &[f32], dyc: &[f32], dxc: &mut [f32]) {
    let (chw, ohw) = (g.chw(), g.ohw());
    let okk = g.o * g.kh * g.kw;
    let (qh, qw) = (g.kh - 1 - g.ph, g.kw - 1 - g.pw);
    let mut dy_pad = Padded::new(g.o, g.ho, g.wo, qh, qw, g.kh, g.kw);
    let n = dy_pad.cols;
    let shape = Wide {
        ld: n,
        wp: dy_pad.wp,
        rows: g.h,
        cols: g.w,
    };
    let mut dx_wide = Scratch::dirty(g.c * n);
    for (dyi, dxi) in dyc.chunks(ohw).zip(dxc.chunks_mut(chw)) {
        dy_pad.fill(dyi, g.ho, g.wo);
        let (b, rows) = (&dy_pad.buf, &dy_pad.offsets);
        gemm_nn(
            g.c,
            n,
            okk,
            wflip,
            okk,
            1,
            b,
            rows,
            &mut dx_wide.0,
            n,
            false,
        );
        compact(&dx_wide.0, shape, None, dxi);
    }
}

/// Input and weight gradients (each only when asked for).
pub(super) fn backward(
    g: &Geometry,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    need_x: bool,
    need_w: bool,
) -> (Option<Vec<f32>>, Option<Vec<f32>>) {
    let wflip = if need_x {
        flip_kernel(g, w)
    } else {
        Vec::new()
    };
    let per_chunk = |xc: &[f32], dyc: &[f32], dxc: Option<&mut [f32]>| -> Vec<f32> {
        if let Some(dxc) = dxc {
            input_grad_chunk(g, &wflip, dyc, dxc);
        }
        if need_w {
            weight_grad_chunk(g, xc, dyc)
        } else {
            Vec::new()
        }
    };
    backward_chunks(g, x, dy, need_x, need_w, false, per_chunk)
}
