//! Convolution, bias, ReLU and max pooling as one op: every LeNet block.
//!
//! The implicit convolution leaves each image's output in a wide scratch
//! buffer (rows of `Wp`, not `Wo`, values). The separate ops copy it out
//! (`compact`, adding the bias), and the pooling reads the copy; the
//! backward pass writes the pooling's full-size input gradient and copies
//! it back into a wide buffer (`widen`) for the weight gradient. Here the
//! pooling reads the wide buffer itself, adding the bias and the ReLU on
//! the way, and its backward pass scatters straight into a wide buffer, so
//! the `[N, O, Ho, Wo]` convolution output and its gradient never exist.
//! Each value is computed by the same operations in the same order as by
//! the separate ops, so outputs and gradients agree bit for bit.

use super::implicit::{
    self, InputGrad, KeptInput, Scratch, flip_kernel, padded_image, padded_input, weight_grad_image,
};
use super::{Geometry, chunk_len, sum_lanes_rows};
use crate::error::Result;
use crate::gemm::{Kernel, active};
use crate::graph::Backward;
use crate::ops::pool::{PoolGeom, max_plane, scatter_plane};
use crate::ops::pool_simd::Pre;
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;

struct ConvReluPoolOp {
    g: Geometry,
    /// The pooling over the wide output planes (rows `Wp` apart).
    pg: PoolGeom,
    has_bias: bool,
    /// Flat position in its wide plane of each output's maximum.
    argmax: Vec<u32>,
    /// The padded input, kept for the weight gradient.
    kept: Option<KeptInput>,
}

impl Drop for ConvReluPoolOp {
    fn drop(&mut self) {
        crate::pool::recycle_indices(std::mem::take(&mut self.argmax));
    }
}

/// What one backward chunk reads: the images' inputs, the pooled output
/// gradient and output, and the flipped kernel (for the input gradient).
struct Reads<'a> {
    xs: &'a [f32],
    gs: &'a [f32],
    ys: &'a [f32],
    wflip: &'a [f32],
    need_w: bool,
    kernel: Kernel,
}

impl ConvReluPoolOp {
    /// One chunk of images starting at `first`: the weight gradient and
    /// the bias gradient's partial sums (per image and plane in f64, as
    /// the convolution's own bias gradient), and the input gradient into
    /// `dxc` when asked for.
    fn chunk(&self, r: &Reads, first: usize, count: usize, mut dxc: Option<&mut [f32]>) -> Part {
        let (g, pg) = (&self.g, &self.pg);
        let (pad, wide) = padded_input(g);
        let (chw, phw, plane) = (g.chw(), pg.hw_out(), g.ho * wide.wp);
        let mut dy_wide = Scratch::zeroed(g.o * wide.ld);
        let mut own = Scratch::zeroed(if self.kept.is_some() { 0 } else { pad.len });
        let mut input_grad = dxc.as_ref().map(|_| InputGrad::new(g));
        let mut part = Part::new(g, r.need_w);
        for i in first..first + count {
            for o in 0..g.o {
                let at = (i * g.o + o) * phw..(i * g.o + o + 1) * phw;
                let d = &mut dy_wide.0[o * wide.ld..o * wide.ld + plane];
                let (gp, yp) = (&r.gs[at.clone()], &r.ys[at.clone()]);
                scatter_plane(pg, d, [gp, yp], &self.argmax[at], true, r.kernel);
                part.db[o] += sum_lanes_rows(d, g.ho, g.wo, wide.wp);
            }
            if let (Some(ig), Some(dxc)) = (input_grad.as_mut(), dxc.as_deref_mut()) {
                let dxi = &mut dxc[(i - first) * chw..(i - first + 1) * chw];
                ig.image(g, r.wflip, &dy_wide.0, wide, dxi);
            }
            if r.need_w {
                let xi = &r.xs[i * chw..(i + 1) * chw];
                let kept = self.kept.as_ref().map(|k| &k.0[i * pad.len..]);
                let input = padded_image(g, &pad, xi, kept, &mut own);
                weight_grad_image(g, &pad, input, &dy_wide.0, &mut part.dw);
            }
        }
        part
    }
}

/// One chunk's share of the weight and bias gradients.
struct Part {
    dw: Vec<f32>,
    db: Vec<f64>,
}

impl Part {
    fn new(g: &Geometry, need_w: bool) -> Self {
        Part {
            dw: vec![0.0; if need_w { g.o * g.ckk() } else { 0 }],
            db: vec![0.0; g.o],
        }
    }
}

/// The chunks' partial sums added in chunk order, as the separate ops add
/// theirs.
fn add_parts(parts: &[Part], len_w: usize, len_b: usize) -> (Vec<f32>, Vec<f32>) {
    let mut dw = vec![0.0f32; len_w];
    let mut db = vec![0.0f64; len_b];
    for p in parts {
        for (a, b) in dw.iter_mut().zip(&p.dw) {
            *a += b;
        }
        for (a, b) in db.iter_mut().zip(&p.db) {
            *a += b;
        }
    }
    (dw, db.into_iter().map(|v| v as f32).collect())
}

/// `[N, C, H, W]` values of a tensor as one row-major slice.
fn standard(a: &ArrayD<f32>) -> std::borrow::Cow<'_, [f32]> {
    match a.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(a.iter().copied().collect()),
    }
}

impl Backward for ConvReluPoolOp {
    fn name(&self) -> &'static str {
        "conv2d_relu_max_pool2d"
    }

    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        output: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let g = self.g;
        let (x, w) = (&parents[0], &parents[1]);
        let (xd, wd) = (x.data(), w.data());
        let (need_x, need_w) = (x.is_requires_grad(), w.is_requires_grad());
        let wflip = if need_x {
            flip_kernel(&g, &standard(wd))
        } else {
            Vec::new()
        };
        let (xs, gs, ys) = (standard(xd), standard(grad), standard(output));
        let reads = Reads {
            xs: &xs,
            gs: &gs,
            ys: &ys,
            wflip: &wflip,
            need_w,
            kernel: active(),
        };
        let (cl, chw) = (chunk_len(g.n), g.chw());
        let mut dx = need_x.then(|| crate::pool::take_dirty(g.n * chw));
        let dx_chunks: Vec<Option<&mut [f32]>> = match dx.as_mut() {
            Some(dx) => dx.chunks_mut(cl * chw).map(Some).collect(),
            None => (0..g.n.div_ceil(cl)).map(|_| None).collect(),
        };
        let parts: Vec<Part> = dx_chunks
            .into_par_iter()
            .enumerate()
            .map(|(k, dxc)| self.chunk(&reads, k * cl, cl.min(g.n - k * cl), dxc))
            .collect();
        let (dw, db) = add_parts(&parts, g.o * g.ckk(), g.o);
        let shaped = |t: &Tensor, v: Vec<f32>| ArrayD::from_shape_vec(IxDyn(t.shape()), v).ok();
        let mut out = vec![
            dx.and_then(|dx| shaped(x, dx)),
            need_w.then(|| shaped(w, dw)).flatten(),
        ];
        if self.has_bias {
            let b = &parents[2];
            out.push(b.is_requires_grad().then(|| shaped(b, db)).flatten());
        }
        out
    }
}

impl Tensor {
    /// `conv2d(weight, bias, stride 1, padding)`, then ReLU, then max
    /// pooling with window `kernel` and step `stride`, as one op: the same
    /// values and gradients, bit for bit, as
    /// `self.conv2d(..)?.relu_max_pool2d(kernel, stride)`, without keeping
    /// the convolution's output. Geometries the fused path does not cover
    /// (padding as large as the kernel, empty batches) run the two ops.
    ///
    /// # Errors
    /// Those of [`conv2d`](Tensor::conv2d) and
    /// [`relu_max_pool2d`](Tensor::relu_max_pool2d).
    ///
    /// # Example
    /// ```
    /// use fanaroff_tensor::Tensor;
    /// let x = Tensor::from_vec((0..32).map(|v| (v as f32).sin()).collect(), &[1, 2, 4, 4]).unwrap();
    /// let w = Tensor::from_vec((0..36).map(|v| (v as f32).cos()).collect(), &[2, 2, 3, 3]).unwrap();
    /// let b = Tensor::from_vec(vec![0.1, -0.2], &[2]).unwrap();
    /// let y = x.conv2d_relu_max_pool2d(&w, Some(&b), (1, 1), (2, 2), (2, 2)).unwrap();
    /// let two_ops = x.conv2d(&w, Some(&b), (1, 1), (1, 1)).unwrap().relu_max_pool2d((2, 2), (2, 2)).unwrap();
    /// assert_eq!(y.shape(), &[1, 2, 2, 2]);
    /// assert_eq!(y.to_vec(), two_ops.to_vec());
    /// ```
    pub fn conv2d_relu_max_pool2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        padding: (usize, usize),
        kernel: (usize, usize),
        stride: (usize, usize),
    ) -> Result<Tensor> {
        let bias_shape = bias.map(|b| b.shape());
        let g = Geometry::checked(self.shape(), weight.shape(), bias_shape, (1, 1), padding)?;
        let wp = padded_input(&g).1.wp;
        let pg = PoolGeom::over_rows([g.ho, g.wo, wp], kernel, stride);
        let pg = match pg {
            Some(pg) if g.n > 0 && g.c > 0 && g.ohw() > 0 && g.implicit() => pg,
            _ => {
                let y = self.conv2d(weight, bias, (1, 1), padding)?;
                return y.relu_max_pool2d(kernel, stride);
            }
        };
        let bias_v: Option<Vec<f32>> = bias.map(|b| b.data().iter().copied().collect());
        let keep = crate::graph::is_grad_enabled() && weight.is_requires_grad();
        let (y, argmax, kept) = forward(&g, &pg, [self, weight], bias_v.as_deref(), keep);
        let (ho, wo) = pg.out_dims();
        let y = ArrayD::from_shape_vec(IxDyn(&[g.n, g.o, ho, wo]), y).expect("output shape");
        let mut parents = vec![self.clone(), weight.clone()];
        parents.extend(bias.cloned());
        let op = ConvReluPoolOp {
            g,
            pg,
            has_bias: bias.is_some(),
            argmax,
            kept,
        };
        Ok(Tensor::from_op(y, parents, op))
    }
}

/// The pooled values and their wide positions, image by image from the
/// convolution's wide output.
fn forward(
    g: &Geometry,
    pg: &PoolGeom,
    [x, w]: [&Tensor; 2],
    bias: Option<&[f32]>,
    keep: bool,
) -> (Vec<f32>, Vec<u32>, Option<KeptInput>) {
    let (xd, wd) = (x.data(), w.data());
    let (xs, ws) = (standard(xd), standard(wd));
    let (phw, ld) = (pg.hw_out(), padded_input(g).1.ld);
    let per_image = g.o * phw;
    let mut y = crate::pool::take_dirty(g.n * per_image);
    let mut argmax = crate::pool::take_indices(g.n * per_image);
    let cl = chunk_len(g.n);
    let chunks: Vec<(&mut [f32], &mut [u32])> = y
        .chunks_mut(cl * per_image)
        .zip(argmax.chunks_mut(cl * per_image))
        .collect();
    let (kernel, plane) = (active(), g.ho * padded_input(g).1.wp);
    let kept = implicit::forward_wide(g, &xs, &ws, keep, chunks, |(yc, ac), i, wide| {
        for o in 0..g.o {
            let at = (i * g.o + o) * phw..(i * g.o + o + 1) * phw;
            let pre = Pre {
                bias: bias.map(|b| b[o]),
                relu: true,
            };
            let xp = &wide[o * ld..o * ld + plane];
            max_plane(pg, xp, &mut yc[at.clone()], &mut ac[at], pre, kernel);
        }
    });
    (y, argmax, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strided lane sum equals the plain one over the compacted plane,
    /// bit for bit, for widths that do and do not fill whole lanes.
    #[test]
    fn strided_lane_sums_match_the_compact_ones() {
        for &(rows, cols, stride) in &[(3, 5, 7), (148, 148, 152), (7, 8, 8), (2, 3, 16), (1, 1, 4)]
        {
            let v: Vec<f32> = (0..rows * stride)
                .map(|i| (i as f32 * 0.37).sin() * 1e3)
                .collect();
            let compact: Vec<f32> = v
                .chunks(stride)
                .flat_map(|r| r[..cols].iter().copied())
                .collect();
            let want = super::super::sum_lanes(&compact);
            let got = sum_lanes_rows(&v, rows, cols, stride);
            assert_eq!(want.to_bits(), got.to_bits(), "{rows}x{cols}/{stride}");
        }
    }
}
