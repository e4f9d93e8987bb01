//! 2-D convolution (cross-correlation, as in PyTorch), parallel over the
//! images of a batch.
//!
//! Layouts: input `[N, C, H, W]`, weight `[O, C, kh, kw]`, bias `[O]`,
//! output `[N, O, Ho, Wo]` with `Ho = (H + 2 ph - kh) / sh + 1`.
//!
//! Three strategies compute the same sums:
//! * [`pointwise`] (1x1 kernels, stride 1, no padding: the attention gates'
//!   convolutions): one matrix product per image, in place;
//! * [`implicit`] (stride 1, padding below the kernel size — the models'
//!   case): the GEMM reads shifted rows of one zero-padded copy of each image,
//!   so no unfolded (im2col) matrix is written; the input gradient is the
//!   forward convolution of the padded output gradient with the flipped,
//!   transposed kernel.
//! * [`explicit`] (everything else): im2col + GEMM, col2im for the input
//!   gradient.
//!
//! [`relu_pool`] runs the implicit strategy with the bias, a ReLU and max
//! pooling fused onto its output (`Tensor::conv2d_relu_max_pool2d`, every
//! LeNet block).

mod explicit;
mod implicit;
mod pointwise;
mod relu_pool;

use crate::error::{Error, Result, invalid_arg, invalid_shape};
use crate::graph::Backward;
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;

/// Everything about one convolution's sizes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Geometry {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub o: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
    pub ho: usize,
    pub wo: usize,
}

impl Geometry {
    /// Rows of the unfolded matrix (`C kh kw`).
    pub fn ckk(&self) -> usize {
        self.c * self.kh * self.kw
    }
    /// Output positions per image (`Ho Wo`).
    pub fn hw_out(&self) -> usize {
        self.ho * self.wo
    }
    /// Input values per image.
    pub fn chw(&self) -> usize {
        self.c * self.h * self.w
    }
    /// Output values per image.
    pub fn ohw(&self) -> usize {
        self.o * self.ho * self.wo
    }
    /// Whether the pointwise strategy applies.
    fn pointwise(&self) -> bool {
        (self.kh, self.kw, self.sh, self.sw, self.ph, self.pw) == (1, 1, 1, 1, 0, 0)
    }
    /// Whether the implicit strategy applies.
    fn implicit(&self) -> bool {
        self.sh == 1 && self.sw == 1 && self.ph < self.kh && self.pw < self.kw
    }
}

/// Images per parallel task: fixed by the batch size and the thread count, so
/// the order of floating-point sums (and hence the result) is reproducible.
pub(super) fn chunk_len(n: usize) -> usize {
    n.div_ceil(rayon::current_num_threads().max(1)).max(1)
}

/// Runs `per_chunk(first image, images, output grads, input-grad slice)` over fixed chunks
/// of the batch in parallel, and returns the input gradient (when `need_x`)
/// and the weight gradient (when `need_w`: the chunks' partial sums, added in
/// chunk order). `dx_zeroed` asks for a zero-filled input-gradient buffer,
/// for strategies that accumulate into it.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward_chunks<F>(
    g: &Geometry,
    x: &[f32],
    dy: &[f32],
    need_x: bool,
    need_w: bool,
    dx_zeroed: bool,
    per_chunk: F,
) -> (Option<Vec<f32>>, Option<Vec<f32>>)
where
    F: Fn(usize, &[f32], &[f32], Option<&mut [f32]>) -> Vec<f32> + Sync,
{
    let (chw, ohw, cl) = (g.chw(), g.ohw(), chunk_len(g.n));
    let mut dx = need_x.then(|| {
        if dx_zeroed {
            crate::pool::take_zeroed(g.n * chw)
        } else {
            crate::pool::take_dirty(g.n * chw)
        }
    });
    let partial: Vec<Vec<f32>> = match dx.as_mut() {
        Some(dx) => dx
            .par_chunks_mut(cl * chw)
            .zip(x.par_chunks(cl * chw).zip(dy.par_chunks(cl * ohw)))
            .enumerate()
            .map(|(k, (dxc, (xc, dyc)))| per_chunk(k * cl, xc, dyc, Some(dxc)))
            .collect(),
        None if need_w => x
            .par_chunks(cl * chw)
            .zip(dy.par_chunks(cl * ohw))
            .enumerate()
            .map(|(k, (xc, dyc))| per_chunk(k * cl, xc, dyc, None))
            .collect(),
        None => Vec::new(),
    };
    let dw = need_w.then(|| {
        let mut dw = vec![0.0f32; g.o * g.ckk()];
        for p in &partial {
            for (a, b) in dw.iter_mut().zip(p) {
                *a += b;
            }
        }
        dw
    });
    (dx, dw)
}

/// Sum of a slice with eight independent f32 lanes (so it vectorises),
/// finished in f64.
fn sum_lanes(v: &[f32]) -> f64 {
    let mut lanes = [0.0f32; 8];
    let mut it = v.chunks_exact(8);
    for c in &mut it {
        for (l, x) in lanes.iter_mut().zip(c) {
            *l += x;
        }
    }
    finish_lanes(&lanes, it.remainder())
}

/// The lanes' total in f64 plus the values left over, each summed in order.
fn finish_lanes(lanes: &[f32; 8], rest: &[f32]) -> f64 {
    lanes.iter().map(|&l| l as f64).sum::<f64>() + rest.iter().map(|&x| x as f64).sum::<f64>()
}

/// [`sum_lanes`] of the `rows x cols` plane whose rows start `stride`
/// floats apart in `v`: each value goes to the lane it would have in the
/// compacted plane, so the sum is bit for bit the same. Each row runs on
/// the lanes rotated to its first value's lane, so that it vectorises too.
fn sum_lanes_rows(v: &[f32], rows: usize, cols: usize, stride: usize) -> f64 {
    let main = rows * cols / 8 * 8;
    let mut lanes = [0.0f32; 8];
    let (mut rest, mut n_rest) = ([0.0f32; 8], 0);
    for (y, row) in v.chunks(stride).take(rows).enumerate() {
        let (k0, row) = (y * cols, &row[..cols]);
        let take = main.saturating_sub(k0).min(cols);
        let r = k0 % 8;
        let mut acc: [f32; 8] = std::array::from_fn(|t| lanes[(r + t) % 8]);
        let mut it = row[..take].chunks_exact(8);
        for c in &mut it {
            for (a, x) in acc.iter_mut().zip(c) {
                *a += x;
            }
        }
        for (a, x) in acc.iter_mut().zip(it.remainder()) {
            *a += x;
        }
        for (t, a) in acc.into_iter().enumerate() {
            lanes[(r + t) % 8] = a;
        }
        for &x in &row[take..] {
            rest[n_rest] = x;
            n_rest += 1;
        }
    }
    finish_lanes(&lanes, &rest[..n_rest])
}

/// Bias gradient: the output gradient summed over images and positions,
/// in parallel over fixed chunks of images, added in chunk order.
fn bias_grad(g: &Geometry, dy: &[f32]) -> ArrayD<f32> {
    let (hw, ohw) = (g.hw_out(), g.ohw());
    let cl = chunk_len(g.n);
    let parts: Vec<Vec<f64>> = dy
        .par_chunks((cl * ohw).max(1))
        .map(|chunk| {
            let mut db = vec![0.0f64; g.o];
            for img in chunk.chunks(ohw) {
                for (acc, plane) in db.iter_mut().zip(img.chunks(hw.max(1))) {
                    *acc += sum_lanes(plane);
                }
            }
            db
        })
        .collect();
    let mut db = vec![0.0f64; g.o];
    for p in &parts {
        for (a, b) in db.iter_mut().zip(p) {
            *a += b;
        }
    }
    ArrayD::from_shape_vec(IxDyn(&[g.o]), db.into_iter().map(|v| v as f32).collect())
        .expect("bias shape")
}

struct Conv2dOp {
    g: Geometry,
    has_bias: bool,
    /// The implicit strategy's padded input, kept for the weight gradient.
    kept: Option<implicit::KeptInput>,
}

impl Backward for Conv2dOp {
    fn name(&self) -> &'static str {
        "conv2d"
    }
    fn reads_output(&self) -> bool {
        false
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
        let (need_x, need_w) = (x.is_requires_grad(), w.is_requires_grad());
        let (dx, dw) = if g.pointwise() {
            pointwise::backward(&g, xs, ws, dys, need_x, need_w)
        } else if g.implicit() {
            implicit::backward(&g, xs, ws, dys, (need_x, need_w), self.kept.as_ref())
        } else {
            explicit::backward(&g, xs, ws, dys, need_x, need_w)
        };
        let gx = dx.map(|dx| ArrayD::from_shape_vec(IxDyn(x.shape()), dx).expect("input shape"));
        let gw = dw.map(|dw| ArrayD::from_shape_vec(IxDyn(w.shape()), dw).expect("weight shape"));
        let mut out = vec![gx, gw];
        if self.has_bias {
            let b = &parents[2];
            out.push(b.is_requires_grad().then(|| bias_grad(&g, dys)));
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
        let bias_shape = bias.map(|b| b.shape());
        let g = Geometry::checked(self.shape(), weight.shape(), bias_shape, stride, padding)?;
        let x = self.data().as_standard_layout();
        let w = weight.data().as_standard_layout();
        let (x, w) = (
            x.as_slice().expect("standard layout"),
            w.as_slice().expect("standard layout"),
        );
        let bias_v: Option<Vec<f32>> = bias.map(|b| b.data().iter().copied().collect());
        let keep = crate::graph::is_grad_enabled() && weight.is_requires_grad();
        let (out, kept) = forward_values(&g, x, w, bias_v.as_deref(), keep);
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
                kept,
            },
        ))
    }
}

impl Geometry {
    /// The geometry of `x [N, C, H, W] * w [O, C, kh, kw]`, after checking
    /// the shapes, the bias `[O]`, the stride and that the kernel fits.
    fn checked(
        xs: &[usize],
        ws: &[usize],
        bias: Option<&[usize]>,
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Result<Geometry> {
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
            && b != [ws[0]]
        {
            return Err(Error::ShapeMismatch {
                op: "conv2d (bias vs weight)",
                lhs: b.to_vec(),
                rhs: ws.to_vec(),
            });
        }
        if stride.0 == 0 || stride.1 == 0 {
            return Err(invalid_arg("conv2d", "stride must be positive"));
        }
        let (hp, wp) = (xs[2] + 2 * padding.0, xs[3] + 2 * padding.1);
        if ws[2] > hp || ws[3] > wp || ws[2] == 0 || ws[3] == 0 {
            let fit = format!(
                "kernel {}x{} does not fit the padded input {hp}x{wp}",
                ws[2], ws[3]
            );
            return Err(invalid_arg("conv2d", fit));
        }
        Ok(Geometry {
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
        })
    }
}

/// The convolution's output values, `[N, O, Ho, Wo]` row-major, and (with
/// `keep`, on the implicit strategy) the padded input for the weight
/// gradient. Without input channels, images or output pixels only the bias
/// remains.
fn forward_values(
    g: &Geometry,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    keep: bool,
) -> (Vec<f32>, Option<implicit::KeptInput>) {
    let regular = g.n > 0 && g.ohw() > 0 && g.c > 0;
    if !regular {
        let mut out = vec![0.0f32; g.n * g.ohw()];
        if let Some(b) = bias {
            let channel = (0..).map(|i| (i / g.hw_out().max(1)) % g.o.max(1));
            for (v, o) in out.iter_mut().zip(channel) {
                *v = b[o];
            }
        }
        return (out, None);
    }
    // Every element is written on the regular path.
    let mut out = crate::pool::take_dirty(g.n * g.ohw());
    let mut kept = None;
    if g.pointwise() {
        pointwise::forward(g, x, w, bias, &mut out);
    } else if g.implicit() {
        kept = implicit::forward(g, x, w, bias, &mut out, keep);
    } else {
        explicit::forward(g, x, w, bias, &mut out);
    }
    (out, kept)
}
