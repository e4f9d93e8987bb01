//! Max and average pooling over 2-D windows of `[N, C, H, W]` tensors.
//!
//! No padding; windows that would run past the edge are dropped (PyTorch's
//! default floor mode), so `Ho = (H - k) / s + 1`.

use super::pool_simd::{Pre, max_row_2x2, scatter_row_2x2};
use crate::error::{Result, invalid_arg, invalid_shape};
use crate::gemm::{Kernel, active};
use crate::graph::Backward;
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;

/// One plane's pooling: `h` input rows, `w` floats from one row to the
/// next (the input width, or more for a wide buffer whose rows carry extra
/// columns), windows `kh x kw` at steps `sh, sw`, `ho x wo` outputs.
#[derive(Clone, Copy)]
pub(super) struct PoolGeom {
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    ho: usize,
    wo: usize,
}

impl PoolGeom {
    /// The pooling of planes of `h x w` values whose rows are `stride`
    /// floats apart (`stride >= w`), or `None` when a window does not fit.
    pub(super) fn over_rows(
        [h, w, stride]: [usize; 3],
        kernel: (usize, usize),
        step: (usize, usize),
    ) -> Option<PoolGeom> {
        let ok = kernel.0 > 0 && kernel.1 > 0 && step.0 > 0 && step.1 > 0;
        (ok && kernel.0 <= h && kernel.1 <= w && stride >= w).then(|| PoolGeom {
            h,
            w: stride,
            kh: kernel.0,
            kw: kernel.1,
            sh: step.0,
            sw: step.1,
            ho: (h - kernel.0) / step.0 + 1,
            wo: (w - kernel.1) / step.1 + 1,
        })
    }

    /// Outputs per plane.
    pub(super) fn hw_out(&self) -> usize {
        self.ho * self.wo
    }

    /// Output rows and columns.
    pub(super) fn out_dims(&self) -> (usize, usize) {
        (self.ho, self.wo)
    }
}

fn geometry(
    op: &'static str,
    x: &Tensor,
    kernel: (usize, usize),
    stride: (usize, usize),
) -> Result<PoolGeom> {
    let s = x.shape();
    if s.len() != 4 {
        return Err(invalid_shape(op, "input must be [N, C, H, W]", s));
    }
    if kernel.0 == 0 || kernel.1 == 0 || stride.0 == 0 || stride.1 == 0 {
        return Err(invalid_arg(op, "kernel and stride must be positive"));
    }
    if kernel.0 > s[2] || kernel.1 > s[3] {
        return Err(invalid_arg(
            op,
            format!("kernel {kernel:?} larger than the input {}x{}", s[2], s[3]),
        ));
    }
    Ok(PoolGeom {
        h: s[2],
        w: s[3],
        kh: kernel.0,
        kw: kernel.1,
        sh: stride.0,
        sw: stride.1,
        ho: (s[2] - kernel.0) / stride.0 + 1,
        wo: (s[3] - kernel.1) / stride.1 + 1,
    })
}

struct MaxPoolOp {
    /// Flat index inside its input plane of each output's maximum.
    argmax: Vec<u32>,
    g: PoolGeom,
    /// Fused ReLU before the pooling: the gradient passes only where the
    /// output is positive (ReLU's gradient is 0 at and below 0).
    relu: bool,
    /// The input's shape (its value is not kept).
    in_shape: Vec<usize>,
}

impl Drop for MaxPoolOp {
    fn drop(&mut self) {
        crate::pool::recycle_indices(std::mem::take(&mut self.argmax));
    }
}

impl Backward for MaxPoolOp {
    fn name(&self) -> &'static str {
        if self.relu {
            "relu_max_pool2d"
        } else {
            "max_pool2d"
        }
    }
    fn reads_inputs(&self) -> bool {
        false
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        _parents: &[Tensor],
        output: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let (hw_in, hw_out) = (self.g.h * self.g.w, self.g.ho * self.g.wo);
        let gs = grad.as_standard_layout();
        let gs = gs.as_slice().expect("standard layout");
        let ys = output.as_standard_layout();
        let ys = ys.as_slice().expect("standard layout");
        let mut dx = crate::pool::take_dirty(self.in_shape.iter().product());
        let (g, relu, kernel) = (self.g, self.relu, active());
        dx.par_chunks_mut(hw_in)
            .zip(gs.par_chunks(hw_out).zip(self.argmax.par_chunks(hw_out)))
            .zip(ys.par_chunks(hw_out))
            .for_each(|((d, (gp, ap)), yp)| scatter_plane(&g, d, [gp, yp], ap, relu, kernel));
        vec![Some(
            ArrayD::from_shape_vec(IxDyn(&self.in_shape), dx).expect("input shape"),
        )]
    }
}

/// Input gradient of one plane of max pooling (all `h w` values of `d`
/// written): the output gradient `gp` goes to each window's recorded
/// maximum `ap`, where the fused ReLU's output `yp` is positive (`relu`).
pub(super) fn scatter_plane(
    g: &PoolGeom,
    d: &mut [f32],
    [gp, yp]: [&[f32]; 2],
    ap: &[u32],
    relu: bool,
    kernel: Kernel,
) {
    if g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 {
        scatter_2x2(g, d, [gp, yp], ap, relu, kernel);
    } else {
        // the gradient passes where the (fused) ReLU's output is positive
        let pass = |k: usize| if !relu || yp[k] > 0.0 { gp[k] } else { 0.0 };
        d.fill(0.0);
        for (k, &i) in ap.iter().enumerate() {
            d[i as usize] += pass(k);
        }
    }
}

/// Input gradient of one plane of 2x2 / stride-2 max pooling: every
/// element is written once (the window's maximum gets the output gradient,
/// zeroed where the fused ReLU's output is not positive; the rest 0), so the
/// plane needs no zero-filling first; rows and columns that no window
/// covers are zeroed. `[gp, yp]`: the output gradient and output.
fn scatter_2x2(
    g: &PoolGeom,
    d: &mut [f32],
    [gp, yp]: [&[f32]; 2],
    ap: &[u32],
    relu: bool,
    kernel: Kernel,
) {
    let w = g.w;
    for oy in 0..g.ho {
        let base = 2 * oy * w;
        let (r0, rest) = d[base..].split_at_mut(w);
        let r1 = &mut rest[..w];
        let row = oy * g.wo..(oy + 1) * g.wo;
        let (gr, yr, ar) = (&gp[row.clone()], &yp[row.clone()], &ap[row]);
        let done = scatter_row_2x2(kernel, r0, r1, gr, yr, ar, base, w, relu);
        for ox in done..g.wo {
            let at = ar[ox] as usize - base - 2 * ox;
            let v = if !relu || yr[ox] > 0.0 { gr[ox] } else { 0.0 };
            let pick = |j: usize| if at == j { v } else { 0.0 };
            r0[2 * ox] = pick(0);
            r0[2 * ox + 1] = pick(1);
            r1[2 * ox] = pick(w);
            r1[2 * ox + 1] = pick(w + 1);
        }
        r0[2 * g.wo..].fill(0.0);
        r1[2 * g.wo..].fill(0.0);
    }
    d[2 * g.ho * w..].fill(0.0);
}

/// `b` replaces `a` as the running maximum: larger, or NaN (NaN propagates,
/// and the first maximum wins ties).
#[inline(always)]
fn beats(b: f32, a: f32) -> bool {
    b > a || (b.is_nan() && !a.is_nan())
}

/// Maximum of `pre(x)` (with a ReLU: the fused ReLU + max pooling; with a
/// bias: a convolution's output before its bias), and its flat position in
/// the plane, for each window of one plane.
pub(super) fn max_plane(
    g: &PoolGeom,
    xp: &[f32],
    yp: &mut [f32],
    ap: &mut [u32],
    pre: Pre,
    kernel: Kernel,
) {
    let f = |x: f32| pre.apply(x);
    if g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 {
        // The common 2x2/2 case: vector rows, then selects instead of a window loop.
        let w = g.w;
        for oy in 0..g.ho {
            let base = 2 * oy * w;
            let r0 = &xp[base..base + 2 * g.wo];
            let r1 = &xp[base + w..base + w + 2 * g.wo];
            let ys = &mut yp[oy * g.wo..(oy + 1) * g.wo];
            let is = &mut ap[oy * g.wo..(oy + 1) * g.wo];
            let done = max_row_2x2(kernel, r0, r1, ys, is, base, w, pre);
            for ox in done..g.wo {
                let (a, b) = (f(r0[2 * ox]), f(r0[2 * ox + 1]));
                let (c, d) = (f(r1[2 * ox]), f(r1[2 * ox + 1]));
                let (m01, i01) = if beats(b, a) { (b, 1) } else { (a, 0) };
                let (m23, i23) = if beats(d, c) { (d, w + 1) } else { (c, w) };
                let (m, i) = if beats(m23, m01) {
                    (m23, i23)
                } else {
                    (m01, i01)
                };
                ys[ox] = m;
                is[ox] = (base + 2 * ox + i) as u32;
            }
        }
        return;
    }
    for oy in 0..g.ho {
        for ox in 0..g.wo {
            let mut best = f32::NEG_INFINITY;
            let mut at = (oy * g.sh) * g.w + ox * g.sw;
            for ky in 0..g.kh {
                let row = (oy * g.sh + ky) * g.w + ox * g.sw;
                for (kx, &v) in xp[row..row + g.kw].iter().enumerate() {
                    let v = f(v);
                    if beats(v, best) {
                        best = v;
                        at = row + kx;
                    }
                }
            }
            yp[oy * g.wo + ox] = best;
            ap[oy * g.wo + ox] = at as u32;
        }
    }
}

struct AvgPoolOp {
    g: PoolGeom,
}

impl Backward for AvgPoolOp {
    fn name(&self) -> &'static str {
        "avg_pool2d"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let g = self.g;
        let (hw_in, hw_out) = (g.h * g.w, g.ho * g.wo);
        let scale = 1.0 / (g.kh * g.kw) as f32;
        let gs = grad.as_standard_layout();
        let gs = gs.as_slice().expect("standard layout");
        let mut dx = crate::pool::take_dirty(parents[0].len());
        dx.par_chunks_mut(hw_in)
            .zip(gs.par_chunks(hw_out))
            .for_each(|(d, gp)| {
                d.fill(0.0);
                for oy in 0..g.ho {
                    for ox in 0..g.wo {
                        let v = gp[oy * g.wo + ox] * scale;
                        for ky in 0..g.kh {
                            let row = (oy * g.sh + ky) * g.w + ox * g.sw;
                            for dv in &mut d[row..row + g.kw] {
                                *dv += v;
                            }
                        }
                    }
                }
            });
        vec![Some(
            ArrayD::from_shape_vec(IxDyn(parents[0].shape()), dx).expect("input shape"),
        )]
    }
}

impl Tensor {
    /// Max pooling with window `kernel` and step `stride` (rows, cols).
    /// The gradient of each window goes to its first maximal element.
    ///
    /// # Errors
    /// [`Error::InvalidShape`](crate::Error::InvalidShape) unless the input is
    /// `[N, C, H, W]`; [`Error::InvalidArgument`](crate::Error::InvalidArgument)
    /// for zero sizes or a window larger than the input.
    ///
    /// # Example
    /// ```
    /// use fanaroff_tensor::Tensor;
    /// let x = Tensor::from_vec((0..16).map(|v| v as f32).collect(), &[1, 1, 4, 4]).unwrap();
    /// let y = x.max_pool2d((2, 2), (2, 2)).unwrap();
    /// assert_eq!(y.to_vec(), vec![5., 7., 13., 15.]);
    /// ```
    pub fn max_pool2d(&self, kernel: (usize, usize), stride: (usize, usize)) -> Result<Tensor> {
        let (y, argmax, g) = self.window_max("max_pool2d", kernel, stride, false)?;
        Ok(Tensor::from_op(
            y,
            vec![self.clone()],
            MaxPoolOp {
                argmax,
                g,
                relu: false,
                in_shape: self.shape().to_vec(),
            },
        ))
    }

    /// `max_pool2d(relu(x))` in one pass, without the ReLU's output: the
    /// same values and gradients as the two ops (ReLU is monotone, so the
    /// window maximum of `relu(x)` is `relu` of the first maximum; the
    /// gradient reaches that position when the output is positive).
    ///
    /// # Errors
    /// As [`max_pool2d`](Tensor::max_pool2d).
    ///
    /// # Example
    /// ```
    /// use fanaroff_tensor::Tensor;
    /// let x = Tensor::from_vec(vec![-1., -2., -3., -4., 1., -2., 3., 0.], &[1, 2, 2, 2]).unwrap();
    /// let y = x.relu_max_pool2d((2, 2), (2, 2)).unwrap();
    /// assert_eq!(y.to_vec(), x.relu().max_pool2d((2, 2), (2, 2)).unwrap().to_vec());
    /// assert_eq!(y.to_vec(), vec![0., 3.]);
    /// ```
    pub fn relu_max_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
    ) -> Result<Tensor> {
        let (y, argmax, g) = self.window_max("relu_max_pool2d", kernel, stride, true)?;
        Ok(Tensor::from_op(
            y,
            vec![self.clone()],
            MaxPoolOp {
                argmax,
                g,
                relu: true,
                in_shape: self.shape().to_vec(),
            },
        ))
    }

    /// Window maxima of `f(x)` (values and flat positions), in parallel over planes.
    fn window_max(
        &self,
        op: &'static str,
        kernel: (usize, usize),
        stride: (usize, usize),
        relu_first: bool,
    ) -> Result<(ArrayD<f32>, Vec<u32>, PoolGeom)> {
        let g = geometry(op, self, kernel, stride)?;
        let (hw_in, hw_out) = (g.h * g.w, g.ho * g.wo);
        let planes = self.shape()[0] * self.shape()[1];
        let xs = self.data().as_standard_layout();
        let xs = xs.as_slice().expect("standard layout");
        let mut y = crate::pool::take_dirty(planes * hw_out);
        let mut argmax = crate::pool::take_indices(planes * hw_out);
        let kernel = active();
        y.par_chunks_mut(hw_out)
            .zip(argmax.par_chunks_mut(hw_out))
            .zip(xs.par_chunks(hw_in))
            .for_each(|((yp, ap), xp)| max_plane(&g, xp, yp, ap, Pre::relu(relu_first), kernel));
        let mut shape = self.shape().to_vec();
        shape[2] = g.ho;
        shape[3] = g.wo;
        let y = ArrayD::from_shape_vec(IxDyn(&shape), y).expect("output shape");
        Ok((y, argmax, g))
    }

    /// Average pooling with window `kernel` and step `stride` (rows, cols).
    ///
    /// # Errors
    /// As [`max_pool2d`](Tensor::max_pool2d).
    pub fn avg_pool2d(&self, kernel: (usize, usize), stride: (usize, usize)) -> Result<Tensor> {
        let g = geometry("avg_pool2d", self, kernel, stride)?;
        let (hw_in, hw_out) = (g.h * g.w, g.ho * g.wo);
        let planes = self.shape()[0] * self.shape()[1];
        let scale = 1.0 / (g.kh * g.kw) as f32;
        let xs = self.data().as_standard_layout();
        let xs = xs.as_slice().expect("standard layout");
        let mut y = crate::pool::take_dirty(planes * hw_out);
        y.par_chunks_mut(hw_out)
            .zip(xs.par_chunks(hw_in))
            .for_each(|(yp, xp)| {
                for oy in 0..g.ho {
                    for ox in 0..g.wo {
                        let mut s = 0.0f32;
                        for ky in 0..g.kh {
                            let row = (oy * g.sh + ky) * g.w + ox * g.sw;
                            s += xp[row..row + g.kw].iter().sum::<f32>();
                        }
                        yp[oy * g.wo + ox] = s * scale;
                    }
                }
            });
        let mut shape = self.shape().to_vec();
        shape[2] = g.ho;
        shape[3] = g.wo;
        let y = ArrayD::from_shape_vec(IxDyn(&shape), y).expect("output shape");
        Ok(Tensor::from_op(y, vec![self.clone()], AvgPoolOp { g }))
    }
}
