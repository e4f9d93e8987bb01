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

/// A zero-padded image with the shifted-row offsets of one kernel.
struct Padded {
    hp: usize,
    wp: usize,
    ph: usize,
    pw: usize,
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
        Padded {
            hp,
            wp,
            ph,
            pw,
            buf: vec![0.0; c * hp * wp + kw - 1],
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

/// `out[o][oy][ox] = wide[o][oy Wp + ox] (+ bias[o])` for `ox < Wo`.
fn compact(wide: &[f32], wp: usize, ho: usize, wo: usize, bias: Option<&[f32]>, out: &mut [f32]) {
    for (o, (dst, src)) in out
        .chunks_mut(ho * wo)
        .zip(wide.chunks(ho * wp))
        .enumerate()
    {
        let b = bias.map_or(0.0, |b| b[o]);
        for (d, s) in dst.chunks_mut(wo).zip(src.chunks(wp)) {
            for (d, &s) in d.iter_mut().zip(&s[..wo]) {
                *d = s + b;
            }
        }
    }
}

/// Copies `[O, Ho, Wo]` rows into a wide `[O, Ho, Wp]` buffer (extra columns untouched, zero).
fn widen(src: &[f32], ho: usize, wo: usize, wp: usize, wide: &mut [f32]) {
    for (s, d) in src.chunks(wo).zip(wide.chunks_mut(wp)) {
        d[..wo].copy_from_slice(s);
    }
    debug_assert_eq!(src.len() / wo, ho * (wide.len() / (ho * wp)));
}

pub(super) fn forward(g: &Geometry, x: &[f32], w: &[f32], bias: Option<&[f32]>, out: &mut [f32]) {
    let (chw, ohw, ckk) = (g.chw(), g.ohw(), g.ckk());
    let cl = chunk_len(g.n);
    out.par_chunks_mut(cl * ohw)
        .zip(x.par_chunks(cl * chw))
        .for_each(|(yc, xc)| {
            let mut pad = Padded::new(g.c, g.h, g.w, g.ph, g.pw, g.kh, g.kw);
            let n_wide = g.ho * pad.wp;
            let mut wide = vec![0.0f32; g.o * n_wide];
            for (yi, xi) in yc.chunks_mut(ohw).zip(xc.chunks(chw)) {
                pad.fill(xi, g.h, g.w);
                gemm_nn(
                    g.o,
                    n_wide,
                    ckk,
                    w,
                    ckk,
                    1,
                    &pad.buf,
                    &pad.offsets,
                    &mut wide,
                    n_wide,
                    false,
                );
                compact(&wide, pad.wp, g.ho, g.wo, bias, yi);
            }
        });
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
    let (chw, ohw, ckk) = (g.chw(), g.ohw(), g.ckk());
    // dX = conv(dY padded by k - 1 - p, flipped kernel with in/out swapped).
    let (qh, qw) = (g.kh - 1 - g.ph, g.kw - 1 - g.pw);
    let okk = g.o * g.kh * g.kw;
    let mut wflip = vec![0.0f32; g.c * okk];
    if need_x {
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
    }
    let per_chunk = |xc: &[f32], dyc: &[f32], mut dxc: Option<&mut [f32]>| -> Vec<f32> {
        let mut dw = if need_w {
            vec![0.0f32; g.o * ckk]
        } else {
            Vec::new()
        };
        let mut pad = Padded::new(g.c, g.h, g.w, g.ph, g.pw, g.kh, g.kw);
        let n_wide = g.ho * pad.wp;
        let mut dy_wide = if need_w {
            vec![0.0f32; g.o * n_wide]
        } else {
            Vec::new()
        };
        let mut dy_pad = Padded::new(g.o, g.ho, g.wo, qh, qw, g.kh, g.kw);
        let nx_wide = g.h * dy_pad.wp;
        let mut dx_wide = if need_x {
            vec![0.0f32; g.c * nx_wide]
        } else {
            Vec::new()
        };
        for i in 0..xc.len() / chw {
            let dyi = &dyc[i * ohw..(i + 1) * ohw];
            if need_w {
                pad.fill(&xc[i * chw..(i + 1) * chw], g.h, g.w);
                widen(dyi, g.ho, g.wo, pad.wp, &mut dy_wide);
                // dW += dY_wide · (shifted rows of the padded image)^T
                gemm_nt(
                    g.o,
                    ckk,
                    n_wide,
                    &dy_wide,
                    n_wide,
                    &pad.buf,
                    &pad.offsets,
                    &mut dw,
                    ckk,
                    true,
                );
            }
            if let Some(dx) = dxc.as_deref_mut() {
                dy_pad.fill(dyi, g.ho, g.wo);
                gemm_nn(
                    g.c,
                    nx_wide,
                    okk,
                    &wflip,
                    okk,
                    1,
                    &dy_pad.buf,
                    &dy_pad.offsets,
                    &mut dx_wide,
                    nx_wide,
                    false,
                );
                compact(
                    &dx_wide,
                    dy_pad.wp,
                    g.h,
                    g.w,
                    None,
                    &mut dx[i * chw..(i + 1) * chw],
                );
            }
        }
        dw
    };
    backward_chunks(g, x, dy, need_x, need_w, false, per_chunk)
}
