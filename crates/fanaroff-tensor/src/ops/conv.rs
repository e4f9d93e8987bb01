//! 2-D convolution (cross-correlation, as in PyTorch) by im2col + GEMM,
//! parallel over the images of a batch.
//!
//! Layouts: input `[N, C, H, W]`, weight `[O, C, kh, kw]`, bias `[O]`,
//! output `[N, O, Ho, Wo]` with `Ho = (H + 2 ph - kh) / sh + 1`.

use crate::error::{Error, Result, invalid_arg, invalid_shape};
use crate::gemm::{gemm_nn, gemm_nt};
use crate::graph::Backward;
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;

/// Everything about one convolution's sizes.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    ph: usize,
    pw: usize,
    ho: usize,
    wo: usize,
}

impl Geometry {
    /// Rows of the im2col matrix (`C kh kw`).
    fn ckk(&self) -> usize {
        self.c * self.kh * self.kw
    }
    /// Output positions per image (`Ho Wo`).
    fn hw_out(&self) -> usize {
        self.ho * self.wo
    }
    fn chw(&self) -> usize {
        self.c * self.h * self.w
    }
    /// A 1x1, stride-1, unpadded kernel: the input already is the im2col matrix.
    fn is_pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.sh == 1 && self.sw == 1 && self.ph == 0 && self.pw == 0
    }
}

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

/// Images per parallel task: fixed by the batch size and the thread count, so
/// the order of floating-point sums (and hence the result) is reproducible.
fn chunk_len(n: usize) -> usize {
    n.div_ceil(rayon::current_num_threads().max(1)).max(1)
}

struct Conv2dOp {
    g: Geometry,
    has_bias: bool,
}

impl Backward for Conv2dOp {
    fn name(&self) -> &'static str {
        "conv2d"
    }

    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let g = self.g;
        let (x, w) = (&parents[0], &parents[1]);
        let xs = x.data().as_standard_layout();
        let ws = w.data().as_standard_layout();
        let dys = grad.as_standard_layout();
        let (xs, ws, dys) = (
            xs.as_slice().expect("standard layout"),
            ws.as_slice().expect("standard layout"),
            dys.as_slice().expect("standard layout"),
        );
        let (ckk, hw, chw, ohw) = (g.ckk(), g.hw_out(), g.chw(), g.o * g.hw_out());
        let need_x = x.is_requires_grad();
        let need_w = w.is_requires_grad();
        let cl = chunk_len(g.n);

        // One task per chunk of images: accumulates its own dW, writes its dX.
        let per_chunk = |xc: &[f32], dyc: &[f32], mut dxc: Option<&mut [f32]>| -> Vec<f32> {
            let mut dw = if need_w {
                vec![0.0f32; g.o * ckk]
            } else {
                Vec::new()
            };
            let mut col = if g.is_pointwise() {
                Vec::new()
            } else {
                vec![0.0f32; ckk * hw]
            };
            let mut dcol = if need_x && !g.is_pointwise() {
                vec![0.0f32; ckk * hw]
            } else {
                Vec::new()
            };
            for i in 0..xc.len() / chw {
                let xi = &xc[i * chw..(i + 1) * chw];
                let dyi = &dyc[i * ohw..(i + 1) * ohw];
                if need_w {
                    let colv: &[f32] = if g.is_pointwise() {
                        xi
                    } else {
                        im2col(&g, xi, &mut col);
                        &col
                    };
                    // dW += dY_i · col_i^T
                    gemm_nt(g.o, ckk, hw, dyi, hw, colv, hw, &mut dw, ckk, true);
                }
                if let Some(dx) = dxc.as_deref_mut() {
                    let dxi = &mut dx[i * chw..(i + 1) * chw];
                    // dcol = W^T · dY_i (W read transposed in place), folded back onto the image.
                    if g.is_pointwise() {
                        gemm_nn(ckk, hw, g.o, ws, 1, ckk, dyi, hw, dxi, hw, false);
                    } else {
                        gemm_nn(ckk, hw, g.o, ws, 1, ckk, dyi, hw, &mut dcol, hw, false);
                        col2im(&g, &dcol, dxi);
                    }
                }
            }
            dw
        };

        let mut dx = need_x.then(|| vec![0.0f32; g.n * chw]);
        let partial: Vec<Vec<f32>> = match dx.as_mut() {
            Some(dx) => dx
                .par_chunks_mut(cl * chw)
                .zip(xs.par_chunks(cl * chw).zip(dys.par_chunks(cl * ohw)))
                .map(|(dxc, (xc, dyc))| per_chunk(xc, dyc, Some(dxc)))
                .collect(),
            None if need_w => xs
                .par_chunks(cl * chw)
                .zip(dys.par_chunks(cl * ohw))
                .map(|(xc, dyc)| per_chunk(xc, dyc, None))
                .collect(),
            None => Vec::new(),
        };
        let gw = need_w.then(|| {
            let mut dw = vec![0.0f32; g.o * ckk];
            for p in &partial {
                for (a, b) in dw.iter_mut().zip(p) {
                    *a += b;
                }
            }
            ArrayD::from_shape_vec(IxDyn(w.shape()), dw).expect("weight shape")
        });
        let gx = dx.map(|dx| ArrayD::from_shape_vec(IxDyn(x.shape()), dx).expect("input shape"));
        let mut out = vec![gx, gw];
        if self.has_bias {
            let b = &parents[2];
            out.push(b.is_requires_grad().then(|| {
                let mut db = vec![0.0f64; g.o];
                for img in dys.chunks(ohw) {
                    for (o, plane) in img.chunks(hw).enumerate() {
                        db[o] += plane.iter().map(|&v| v as f64).sum::<f64>();
                    }
                }
                ArrayD::from_shape_vec(IxDyn(&[g.o]), db.into_iter().map(|v| v as f32).collect())
                    .expect("bias shape")
            }));
        }
        out
    }
}

impl Tensor {
    /// 2-D convolution (cross-correlation, as PyTorch's `conv2d`).
    ///
    /// `self` is the input `[N, C, H, W]`, `weight` is `[O, C, kh, kw]`, `bias`
    /// (optional) is `[O]`; `stride` and `padding` are `(rows, cols)`; padding
    /// is with zeros. The output is `[N, O, Ho, Wo]` with
    ///
    /// ```text
    /// Ho = (H + 2 ph - kh) / sh + 1,   Wo = (W + 2 pw - kw) / sw + 1   (floor)
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidShape`] for inputs of the wrong rank,
    /// [`Error::ShapeMismatch`] when channel counts or the bias length do not
    /// agree, [`Error::InvalidArgument`] for a zero stride or a kernel larger
    /// than the padded input.
    ///
    /// # Example
    /// ```
    /// use fanaroff_tensor::Tensor;
    /// let x = Tensor::ones(&[1, 1, 4, 4]);
    /// let w = Tensor::ones(&[1, 1, 3, 3]);
    /// let y = x.conv2d(&w, None, (1, 1), (1, 1)).unwrap();
    /// assert_eq!(y.shape(), &[1, 1, 4, 4]);
    /// assert_eq!(y.data()[[0, 0, 0, 0]], 4.0); // a corner sees 2x2 ones
    /// assert_eq!(y.data()[[0, 0, 1, 1]], 9.0);
    /// ```
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Result<Tensor> {
        let (xs, ws) = (self.shape(), weight.shape());
        if xs.len() != 4 {
            return Err(invalid_shape("conv2d", "input must be [N, C, H, W]", xs));
        }
        if ws.len() != 4 {
            return Err(invalid_shape("conv2d", "weight must be [O, C, kh, kw]", ws));
        }
        if xs[1] != ws[1] {
            return Err(Error::ShapeMismatch {
                op: "conv2d (input channels vs weight)",
                lhs: xs.to_vec(),
                rhs: ws.to_vec(),
            });
        }
        if let Some(b) = bias
            && b.shape() != [ws[0]]
        {
            return Err(Error::ShapeMismatch {
                op: "conv2d (bias vs weight)",
                lhs: b.shape().to_vec(),
                rhs: ws.to_vec(),
            });
        }
        if stride.0 == 0 || stride.1 == 0 {
            return Err(invalid_arg("conv2d", "stride must be positive"));
        }
        let (hp, wp) = (xs[2] + 2 * padding.0, xs[3] + 2 * padding.1);
        if ws[2] > hp || ws[3] > wp || ws[2] == 0 || ws[3] == 0 {
            return Err(invalid_arg(
                "conv2d",
                format!(
                    "kernel {}x{} does not fit the padded input {hp}x{wp}",
                    ws[2], ws[3]
                ),
            ));
        }
        let g = Geometry {
            n: xs[0],
            c: xs[1],
            h: xs[2],
            w: xs[3],
            o: ws[0],
            kh: ws[2],
            kw: ws[3],
            sh: stride.0,
            sw: stride.1,
            ph: padding.0,
            pw: padding.1,
            ho: (hp - ws[2]) / stride.0 + 1,
            wo: (wp - ws[3]) / stride.1 + 1,
        };
        let x = self.data().as_standard_layout();
        let w = weight.data().as_standard_layout();
        let x = x.as_slice().expect("standard layout");
        let ws = w.as_slice().expect("standard layout");
        let bias_v: Option<Vec<f32>> = bias.map(|b| b.data().iter().copied().collect());
        let (ckk, hw, chw, ohw) = (g.ckk(), g.hw_out(), g.chw(), g.o * g.hw_out());
        let mut out = vec![0.0f32; g.n * ohw];
        if g.n > 0 && ohw > 0 {
            let cl = chunk_len(g.n);
            out.par_chunks_mut(cl * ohw)
                .zip(x.par_chunks(cl * chw))
                .for_each(|(yc, xc)| {
                    let mut col = if g.is_pointwise() {
                        Vec::new()
                    } else {
                        vec![0.0f32; ckk * hw]
                    };
                    for (yi, xi) in yc.chunks_mut(ohw).zip(xc.chunks(chw)) {
                        if let Some(b) = &bias_v {
                            for (plane, &bv) in yi.chunks_mut(hw).zip(b) {
                                plane.fill(bv);
                            }
                        }
                        let colv: &[f32] = if g.is_pointwise() {
                            xi
                        } else {
                            im2col(&g, xi, &mut col);
                            &col
                        };
                        gemm_nn(g.o, hw, ckk, ws, ckk, 1, colv, hw, yi, hw, bias_v.is_some());
                    }
                });
        }
        let y = ArrayD::from_shape_vec(IxDyn(&[g.n, g.o, g.ho, g.wo]), out).expect("output shape");
        let mut parents = vec![self.clone(), weight.clone()];
        if let Some(b) = bias {
            parents.push(b.clone());
        }
        Ok(Tensor::from_op(
            y,
            parents,
            Conv2dOp {
                g,
                has_bias: bias.is_some(),
            },
        ))
    }
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
