//! Convolution by im2col + GEMM (any stride and padding): each image is
//! unfolded into a `[C kh kw, Ho Wo]` matrix; the input gradient is folded
//! back with col2im.

use super::{Geometry, backward_chunks, chunk_len};
use crate::gemm::{gemm_nn, gemm_nt, row_offsets};
use rayon::prelude::*;

/// For kernel offset `k` along one axis: the output index range whose input
/// index `o*s + k - p` falls inside `0..len`.
fn valid_range(k: usize, s: usize, p: usize, len: usize, out: usize) -> (usize, usize) {
    // first o with o*s + k >= p
    let lo = if p > k { (p - k).div_ceil(s) } else { 0 };
    // last o with o*s + k - p <= len - 1  <=>  o*s <= len - 1 + p - k
    let hi = if len + p > k {
        ((len - 1 + p - k) / s + 1).min(out)
    } else {
        0
    };
    (lo.min(hi), hi)
}

/// Unfolds one image `[C, H, W]` into `col` `[C kh kw, Ho Wo]`.
fn im2col(g: &Geometry, x: &[f32], col: &mut [f32]) {
    let hw = g.hw_out();
    for c in 0..g.c {
        let plane = &x[c * g.h * g.w..(c + 1) * g.h * g.w];
        for ki in 0..g.kh {
            let (oy0, oy1) = valid_range(ki, g.sh, g.ph, g.h, g.ho);
            for kj in 0..g.kw {
                let (ox0, ox1) = valid_range(kj, g.sw, g.pw, g.w, g.wo);
                let row = ((c * g.kh + ki) * g.kw + kj) * hw;
                let dst = &mut col[row..row + hw];
                dst[..oy0 * g.wo].fill(0.0);
                dst[oy1 * g.wo..].fill(0.0);
                for oy in oy0..oy1 {
                    let iy = oy * g.sh + ki - g.ph;
                    let d = &mut dst[oy * g.wo..(oy + 1) * g.wo];
                    d[..ox0].fill(0.0);
                    d[ox1..].fill(0.0);
                    let src = &plane[iy * g.w..(iy + 1) * g.w];
                    if g.sw == 1 {
                        let ix0 = ox0 + kj - g.pw;
                        d[ox0..ox1].copy_from_slice(&src[ix0..ix0 + (ox1 - ox0)]);
                    } else {
                        for ox in ox0..ox1 {
                            d[ox] = src[ox * g.sw + kj - g.pw];
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds `col` back into the image gradient `dx`.
fn col2im(g: &Geometry, col: &[f32], dx: &mut [f32]) {
    let hw = g.hw_out();
    for c in 0..g.c {
        let plane = &mut dx[c * g.h * g.w..(c + 1) * g.h * g.w];
        for ki in 0..g.kh {
            let (oy0, oy1) = valid_range(ki, g.sh, g.ph, g.h, g.ho);
            for kj in 0..g.kw {
                let (ox0, ox1) = valid_range(kj, g.sw, g.pw, g.w, g.wo);
                let row = ((c * g.kh + ki) * g.kw + kj) * hw;
                let src_rows = &col[row..row + hw];
                for oy in oy0..oy1 {
                    let iy = oy * g.sh + ki - g.ph;
                    let s = &src_rows[oy * g.wo..(oy + 1) * g.wo];
                    let d = &mut plane[iy * g.w..(iy + 1) * g.w];
                    if g.sw == 1 {
                        let ix0 = ox0 + kj - g.pw;
                        for (dv, sv) in d[ix0..ix0 + (ox1 - ox0)].iter_mut().zip(&s[ox0..ox1]) {
                            *dv += sv;
                        }
                    } else {
                        for ox in ox0..ox1 {
                            d[ox * g.sw + kj - g.pw] += s[ox];
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn forward(g: &Geometry, x: &[f32], w: &[f32], bias: Option<&[f32]>, out: &mut [f32]) {
    let (ckk, hw, chw, ohw) = (g.ckk(), g.hw_out(), g.chw(), g.ohw());
    let rows = row_offsets(ckk, hw);
    let cl = chunk_len(g.n);
    out.par_chunks_mut(cl * ohw)
        .zip(x.par_chunks(cl * chw))
        .for_each(|(yc, xc)| {
            let mut col = vec![0.0f32; ckk * hw];
            for (yi, xi) in yc.chunks_mut(ohw).zip(xc.chunks(chw)) {
                if let Some(b) = bias {
                    for (plane, &bv) in yi.chunks_mut(hw).zip(b) {
                        plane.fill(bv);
                    }
                }
                im2col(g, xi, &mut col);
                gemm_nn(g.o, hw, ckk, w, ckk, 1, &col, &rows, yi, hw, bias.is_some());
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
    let (ckk, hw, chw, ohw) = (g.ckk(), g.hw_out(), g.chw(), g.ohw());
    let col_rows = row_offsets(ckk, hw);
    let dy_rows = row_offsets(g.o, hw);
    // One task per chunk of images: accumulates its own dW, writes its dX.
    let per_chunk = |_: usize, xc: &[f32], dyc: &[f32], mut dxc: Option<&mut [f32]>| -> Vec<f32> {
        let mut dw = if need_w {
            vec![0.0f32; g.o * ckk]
        } else {
            Vec::new()
        };
        let mut col = if need_w {
            vec![0.0f32; ckk * hw]
        } else {
            Vec::new()
        };
        let mut dcol = if need_x {
            vec![0.0f32; ckk * hw]
        } else {
            Vec::new()
        };
        for i in 0..xc.len() / chw {
            let dyi = &dyc[i * ohw..(i + 1) * ohw];
            if need_w {
                im2col(g, &xc[i * chw..(i + 1) * chw], &mut col);
                // dW += dY_i · col_i^T
                gemm_nt(g.o, ckk, hw, dyi, hw, &col, &col_rows, &mut dw, ckk, true);
            }
            if let Some(dx) = dxc.as_deref_mut() {
                // dcol = W^T · dY_i (W read transposed in place), folded back onto the image.
                gemm_nn(ckk, hw, g.o, w, 1, ckk, dyi, &dy_rows, &mut dcol, hw, false);
                col2im(g, &dcol, &mut dx[i * chw..(i + 1) * chw]);
            }
        }
        dw
    };
    backward_chunks(g, x, dy, need_x, need_w, true, per_chunk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_range_matches_brute_force() {
        for s in 1usize..4 {
            for p in 0usize..3 {
                for k in 0usize..4 {
                    for len in 1usize..7 {
                        let out = (len + 2 * p).saturating_sub(k) / s + 1;
                        let (lo, hi) = valid_range(k, s, p, len, out);
                        for o in 0..out {
                            let i = (o * s + k) as isize - p as isize;
                            let inside = i >= 0 && (i as usize) < len;
                            assert_eq!(inside, o >= lo && o < hi, "s{s} p{p} k{k} len{len} o{o}");
                        }
                    }
                }
            }
        }
    }
}
