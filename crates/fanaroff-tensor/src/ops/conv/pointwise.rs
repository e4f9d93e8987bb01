//! 1x1 convolution with stride 1 and no padding: a plain matrix product
//! per image, `Y_i [O, HW] = W [O, C] X_i [C, HW]`, read and written in
//! place (an image `[C, H, W]` already is the row-major matrix `[C, HW]`),
//! so nothing is padded, unfolded or compacted.

use super::{Geometry, backward_chunks, chunk_len};
use crate::gemm::{gemm_nn, gemm_nt, row_offsets};
use rayon::prelude::*;

pub(super) fn forward(g: &Geometry, x: &[f32], w: &[f32], bias: Option<&[f32]>, out: &mut [f32]) {
    let (hw, chw, ohw) = (g.hw_out(), g.chw(), g.ohw());
    let rows = row_offsets(g.c, hw);
    out.par_chunks_mut(chunk_len(g.n) * ohw)
        .zip(x.par_chunks(chunk_len(g.n) * chw))
        .for_each(|(yc, xc)| {
            for (yi, xi) in yc.chunks_mut(ohw).zip(xc.chunks(chw)) {
                if let Some(b) = bias {
                    for (plane, &bv) in yi.chunks_mut(hw).zip(b) {
                        plane.fill(bv);
                    }
                }
                gemm_nn(g.o, hw, g.c, w, g.c, 1, xi, &rows, yi, hw, bias.is_some());
            }
        });
}

/// Input and weight gradients (each only when asked for):
/// `dW += dY_i X_i^T` and `dX_i = W^T dY_i` (W read transposed in place).
pub(super) fn backward(
    g: &Geometry,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    need_x: bool,
    need_w: bool,
) -> (Option<Vec<f32>>, Option<Vec<f32>>) {
    let (hw, chw, ohw) = (g.hw_out(), g.chw(), g.ohw());
    let x_rows = row_offsets(g.c, hw);
    let dy_rows = row_offsets(g.o, hw);
    let per_chunk = |_: usize, xc: &[f32], dyc: &[f32], mut dxc: Option<&mut [f32]>| -> Vec<f32> {
        let mut dw = vec![0.0f32; if need_w { g.o * g.c } else { 0 }];
        for (i, dyi) in dyc.chunks(ohw).enumerate() {
            if need_w {
                let xi = &xc[i * chw..(i + 1) * chw];
                gemm_nt(g.o, g.c, hw, dyi, hw, xi, &x_rows, &mut dw, g.c, true);
            }
            if let Some(dx) = dxc.as_deref_mut() {
                let dxi = &mut dx[i * chw..(i + 1) * chw];
                gemm_nn(g.c, hw, g.o, w, 1, g.c, dyi, &dy_rows, dxi, hw, false);
            }
        }
        dw
    };
    backward_chunks(g, x, dy, need_x, need_w, false, per_chunk)
}
