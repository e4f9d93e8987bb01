//! Stride-1 convolution without an unfolded matrix.
//!
//! Each image is copied once into a zero-padded buffer `[C, Hp, Wp]`. In a
//! "wide" output layout with rows of `Wp` (not `Wo`) values, output position
//! `n = oy Wp + ox` reads input `c Hp Wp + (oy + ki) Wp + ox + kj`, so row
//! `(c, ki, kj)` of the would-be im2col matrix is the padded buffer shifted
//! by `c Hp Wp + ki Wp + kj`. The GEMM reads those shifted rows directly; the
//! `Wp - Wo` extra columns of each wide row are discarded (forward) or held
//! at zero (gradients). The buffer carries `kw - 1` spare zeros so the last
//! shifted row stays in bounds. When the weight gradient will be needed,
//! the forward pass keeps every image's padded copy ([`KeptInput`]) and
//! the weight gradient reads it instead of padding the input again.

use super::{Geometry, backward_chunks, chunk_len};
use crate::gemm::{gemm_nn, gemm_nt};
use rayon::prelude::*;

/// Columns of a wide GEMM rounded up to whole 16-float vectors, so the
/// kernels never fall back to scalar loops; the extra columns are discarded
/// (forward) or multiply zeros (gradients).
fn round_cols(n: usize) -> usize {
    n.div_ceil(16) * 16
}

/// Where a zero-padded image lives in a buffer of `len` floats, with the
/// shifted-row offsets of one kernel.
pub(super) struct Layout {
    hp: usize,
    wp: usize,
    ph: usize,
    pw: usize,
    /// Wide GEMM columns: `(hp - kh + 1) wp` rounded up by [`round_cols`].
    cols: usize,
    /// Floats per padded image.
    pub(super) len: usize,
    /// `offsets[(c kh + ki) kw + kj] = c hp wp + ki wp + kj`.
    offsets: Vec<usize>,
}

impl Layout {
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
        Layout {
            hp,
            wp,
            ph,
            pw,
            cols,
            len,
            offsets,
        }
    }

    /// Copies one `[C, H, W]` image into the interior of a zeroed padded
    /// buffer `dst`; the border stays zero.
    fn fill(&self, dst: &mut [f32], img: &[f32], h: usize, w: usize) {
        self.fill_from(dst, img, Wide::compact(h, w));
    }

    /// As [`fill`](Self::fill), from planes and rows laid out as `src`
    /// says (`src.rows x src.cols` values each).
    fn fill_from(&self, dst: &mut [f32], img: &[f32], src: Wide) {
        for (ci, plane) in img.chunks(src.ld).enumerate() {
            for (y, row) in plane.chunks(src.wp).take(src.rows).enumerate() {
                let at = ci * self.hp * self.wp + (y + self.ph) * self.wp + self.pw;
                dst[at..at + src.cols].copy_from_slice(&row[..src.cols]);
            }
        }
    }
}

/// The padded copies of every image of a batch, made by the forward pass
/// and kept for the weight gradient so that it does not pad the same input
/// again. Handed back to the buffer pool when dropped.
pub(super) struct KeptInput(pub(super) Vec<f32>);

impl Drop for KeptInput {
    fn drop(&mut self) {
        crate::pool::recycle(std::mem::take(&mut self.0));
    }
}

/// Shape of a wide `[planes, rows, wp]` buffer whose planes are `ld` apart
/// and whose rows hold `cols` values each.
#[derive(Clone, Copy)]
pub(super) struct Wide {
    pub(super) ld: usize,
    pub(super) wp: usize,
    pub(super) rows: usize,
    pub(super) cols: usize,
}

impl Wide {
    /// A plain `[planes, rows, cols]` layout.
    fn compact(rows: usize, cols: usize) -> Self {
        Wide {
            ld: rows * cols,
            wp: cols,
            rows,
            cols,
        }
    }
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
pub(super) struct Scratch(pub(super) Vec<f32>);

impl Scratch {
    fn dirty(len: usize) -> Self {
        Scratch(crate::pool::take_dirty(len))
    }
    pub(super) fn zeroed(len: usize) -> Self {
        Scratch(crate::pool::take_zeroed(len))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        crate::pool::recycle(std::mem::take(&mut self.0));
    }
}

/// The padded-input layout and the shape of the wide output rows it
/// produces (`[O, Ho, Wp]`, planes `cols` apart).
pub(super) fn padded_input(g: &Geometry) -> (Layout, Wide) {
    let pad = Layout::new(g.c, g.h, g.w, g.ph, g.pw, g.kh, g.kw);
    let shape = Wide {
        ld: pad.cols,
        wp: pad.wp,
        rows: g.ho,
        cols: g.wo,
    };
    (pad, shape)
}

/// The forward pass. With `keep`, every image's padded copy stays in one
/// buffer that is returned for the weight gradient; without, each chunk
/// reuses one padded buffer.
pub(super) fn forward(
    g: &Geometry,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    keep: bool,
) -> Option<KeptInput> {
    let (ohw, shape) = (g.ohw(), padded_input(g).1);
    let chunks = out.chunks_mut(chunk_len(g.n) * ohw).collect();
    forward_wide(g, x, w, keep, chunks, |yc, i, wide| {
        compact(wide, shape, bias, &mut yc[i * ohw..(i + 1) * ohw]);
    })
}

/// The convolution without its bias, one image at a time into a wide
/// `[O, Ho, Wp]` scratch buffer (planes [`padded_input`]`.1.ld` apart),
/// handed to `sink(chunk's state, image in chunk, wide)`. `chunks` holds
/// one state per chunk of [`chunk_len`] images (the caller's slices of its
/// outputs); chunks run in parallel. `keep` as in [`forward`].
pub(super) fn forward_wide<C: Send>(
    g: &Geometry,
    x: &[f32],
    w: &[f32],
    keep: bool,
    chunks: Vec<C>,
    sink: impl Fn(&mut C, usize, &[f32]) + Sync,
) -> Option<KeptInput> {
    let (chw, cl) = (g.chw(), chunk_len(g.n));
    let pad = padded_input(g).0;
    let slots_per_chunk = if keep { cl } else { 1 };
    let mut slots = crate::pool::take_zeroed(g.n.div_ceil(cl) * slots_per_chunk * pad.len);
    chunks
        .into_par_iter()
        .zip(x.par_chunks(cl * chw))
        .zip(slots.par_chunks_mut(slots_per_chunk * pad.len))
        .for_each(|((mut state, xc), sc)| {
            let n = pad.cols;
            let mut wide = Scratch::dirty(g.o * n);
            for (i, xi) in xc.chunks(chw).enumerate() {
                let slot = &mut sc[(i % slots_per_chunk) * pad.len..][..pad.len];
                pad.fill(slot, xi, g.h, g.w);
                gemm_nn(
                    g.o,
                    n,
                    g.ckk(),
                    w,
                    g.ckk(),
                    1,
                    slot,
                    &pad.offsets,
                    &mut wide.0,
                    n,
                    false,
                );
                sink(&mut state, i, &wide.0);
            }
        });
    if keep {
        slots.truncate(g.n * pad.len);
        Some(KeptInput(slots))
    } else {
        crate::pool::recycle(slots);
        None
    }
}

/// The kernel flipped in both axes with input and output channels swapped:
/// `[C, O, kh, kw]`, the weight of the input gradient's convolution.
pub(super) fn flip_kernel(g: &Geometry, w: &[f32]) -> Vec<f32> {
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

/// One chunk's weight gradient: `dW += dY_wide (shifted rows of X)^T` per
/// image, reading the forward pass's padded copies when it kept them
/// (`kept` starts at the chunk's first image).
fn weight_grad_chunk(g: &Geometry, xc: &[f32], dyc: &[f32], kept: Option<&[f32]>) -> Vec<f32> {
    let (chw, ohw) = (g.chw(), g.ohw());
    let mut dw = vec![0.0f32; g.o * g.ckk()];
    let (pad, shape) = padded_input(g);
    let mut own = Scratch::zeroed(if kept.is_some() { 0 } else { pad.len });
    let mut dy_wide = Scratch::zeroed(g.o * pad.cols);
    for (i, (xi, dyi)) in xc.chunks(chw).zip(dyc.chunks(ohw)).enumerate() {
        widen(dyi, shape, &mut dy_wide.0);
        let input = padded_image(g, &pad, xi, kept.map(|k| &k[i * pad.len..]), &mut own);
        weight_grad_image(g, &pad, input, &dy_wide.0, &mut dw);
    }
    dw
}

/// One image's padded input: the kept copy when there is one (starting at
/// the image), else `xi` padded into `own`.
pub(super) fn padded_image<'a>(
    g: &Geometry,
    pad: &Layout,
    xi: &[f32],
    kept: Option<&'a [f32]>,
    own: &'a mut Scratch,
) -> &'a [f32] {
    match kept {
        Some(k) => &k[..pad.len],
        None => {
            pad.fill(&mut own.0, xi, g.h, g.w);
            &own.0
        }
    }
}

/// `dw += dy_wide (shifted rows of the padded image)^T` for one image.
pub(super) fn weight_grad_image(
    g: &Geometry,
    pad: &Layout,
    input: &[f32],
    dy_wide: &[f32],
    dw: &mut [f32],
) {
    let (n, ckk) = (pad.cols, g.ckk());
    gemm_nt(g.o, ckk, n, dy_wide, n, input, &pad.offsets, dw, ckk, true);
}

/// Scratch for one chunk's input gradient: the output gradient padded by
/// `k - 1 - p` and the flipped kernel's wide output.
pub(super) struct InputGrad {
    dy_pad: Layout,
    dy_buf: Scratch,
    dx_wide: Scratch,
    shape: Wide,
}

impl InputGrad {
    pub(super) fn new(g: &Geometry) -> Self {
        let (qh, qw) = (g.kh - 1 - g.ph, g.kw - 1 - g.pw);
        let dy_pad = Layout::new(g.o, g.ho, g.wo, qh, qw, g.kh, g.kw);
        let shape = Wide {
            ld: dy_pad.cols,
            wp: dy_pad.wp,
            rows: g.h,
            cols: g.w,
        };
        InputGrad {
            dy_buf: Scratch::zeroed(dy_pad.len),
            dx_wide: Scratch::dirty(g.c * dy_pad.cols),
            dy_pad,
            shape,
        }
    }

    /// One image's input gradient `dxi`: the convolution of its output
    /// gradient `dyi` (laid out as `src` says) with the flipped kernel.
    pub(super) fn image(
        &mut self,
        g: &Geometry,
        wflip: &[f32],
        dyi: &[f32],
        src: Wide,
        dxi: &mut [f32],
    ) {
        let okk = g.o * g.kh * g.kw;
        let n = self.dy_pad.cols;
        self.dy_pad.fill_from(&mut self.dy_buf.0, dyi, src);
        let (b, rows) = (&self.dy_buf.0, &self.dy_pad.offsets);
        gemm_nn(
            g.c,
            n,
            okk,
            wflip,
            okk,
            1,
            b,
            rows,
            &mut self.dx_wide.0,
            n,
            false,
        );
        compact(&self.dx_wide.0, self.shape, None, dxi);
    }
}

/// One chunk's input gradient: the convolution of the output gradient,
/// padded by `k - 1 - p`, with the flipped kernel.
fn input_grad_chunk(g: &Geometry, wflip: &[f32], dyc: &[f32], dxc: &mut [f32]) {
    let (chw, ohw) = (g.chw(), g.ohw());
    let mut scratch = InputGrad::new(g);
    for (dyi, dxi) in dyc.chunks(ohw).zip(dxc.chunks_mut(chw)) {
        scratch.image(g, wflip, dyi, Wide::compact(g.ho, g.wo), dxi);
    }
}

/// Input and weight gradients (each only when asked for); `kept` is the
/// forward pass's padded input when it kept one.
pub(super) fn backward(
    g: &Geometry,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    need: (bool, bool),
    kept: Option<&KeptInput>,
) -> (Option<Vec<f32>>, Option<Vec<f32>>) {
    let (need_x, need_w) = need;
    let wflip = if need_x {
        flip_kernel(g, w)
    } else {
        Vec::new()
    };
    let len = padded_input(g).0.len;
    let per_chunk = |first: usize, xc: &[f32], dyc: &[f32], dxc: Option<&mut [f32]>| {
        if let Some(dxc) = dxc {
            input_grad_chunk(g, &wflip, dyc, dxc);
        }
        if need_w {
            let kept = kept.map(|k| &k.0[first * len..]);
            weight_grad_chunk(g, xc, dyc, kept)
        } else {
            Vec::new()
        }
    };
    backward_chunks(g, x, dy, need_x, need_w, false, per_chunk)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The weight gradient from the forward pass's kept padded input equals,
    /// bit for bit, the one that pads the input itself; so does the output.
    #[test]
    fn kept_input_gives_the_same_sums() {
        let g = Geometry {
            n: 5,
            c: 3,
            h: 9,
            w: 7,
            o: 4,
            kh: 3,
            kw: 3,
            sh: 1,
            sw: 1,
            ph: 1,
            pw: 1,
            ho: 9,
            wo: 7,
        };
        let wave =
            |len: usize, f: f32| (0..len).map(|i| ((i as f32) * f).sin()).collect::<Vec<_>>();
        let (x, w, dy) = (
            wave(g.n * g.chw(), 0.37),
            wave(g.o * g.ckk(), 0.71),
            wave(g.n * g.ohw(), 0.13),
        );
        let mut y_keep = vec![0.0; g.n * g.ohw()];
        let mut y_plain = vec![0.0; g.n * g.ohw()];
        let kept = forward(&g, &x, &w, None, &mut y_keep, true);
        assert!(forward(&g, &x, &w, None, &mut y_plain, false).is_none());
        assert_eq!(y_keep, y_plain);
        let kept = kept.expect("kept input");
        assert_eq!(kept.0.len(), g.n * padded_input(&g).0.len);
        let (dx_k, dw_k) = backward(&g, &x, &w, &dy, (true, true), Some(&kept));
        let (dx_p, dw_p) = backward(&g, &x, &w, &dy, (true, true), None);
        assert_eq!(dx_k, dx_p);
        let (dw_k, dw_p) = (dw_k.unwrap(), dw_p.unwrap());
        assert_eq!(dw_k, dw_p);
        // and the sums are right: dW[o][c][ki][kj] by brute force
        let at = |o: usize, c: usize, ki: usize, kj: usize| {
            let mut s = 0.0f64;
            for i in 0..g.n {
                for y in 0..g.ho {
                    for xx in 0..g.wo {
                        let (iy, ix) = ((y + ki) as isize - 1, (xx + kj) as isize - 1);
                        if iy < 0 || ix < 0 || iy >= g.h as isize || ix >= g.w as isize {
                            continue;
                        }
                        let xv = x[i * g.chw() + c * g.h * g.w + iy as usize * g.w + ix as usize];
                        s += (xv * dy[i * g.ohw() + o * g.ho * g.wo + y * g.wo + xx]) as f64;
                    }
                }
            }
            s as f32
        };
        for (o, c, ki, kj) in [(0, 0, 0, 0), (3, 2, 2, 1), (1, 1, 1, 2)] {
            let got = dw_k[((o * g.c + c) * g.kh + ki) * g.kw + kj];
            assert!(
                (got - at(o, c, ki, kj)).abs() < 1e-4,
                "{got} vs {}",
                at(o, c, ki, kj)
            );
        }
    }
}
