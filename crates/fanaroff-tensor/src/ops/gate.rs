//! The score of an additive attention gate (Oktay et al. 2018) as one op:
//!
//! ```text
//! z     = theta x + theta_b + resize_bilinear(p)     theta: 1x1 conv C -> K
//! score = psi relu(z) + psi_b                        psi:   1x1 conv K -> 1
//! ```
//!
//! with `x [N, C, H, W]`, the coarse gating features `p [N, K, h, w]` and
//! `score [N, 1, H, W]`. Written as separate ops, every step makes a
//! `[N, K, H, W]` tensor (K = 64 channels at full resolution: 92 MB per
//! tensor for the attention net's first gate at batch 16), and the graph
//! keeps four of them and their gradients. Here `z` lives one image at a
//! time in a `[K, H W]` scratch buffer; the backward pass recomputes it
//! rather than storing it.

use super::resize::Resizer;
use crate::error::{Error, Result, invalid_shape};
use crate::gemm::{gemm_nn, gemm_nt, row_offsets};
use crate::graph::Backward;
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;

/// Sizes of one gate.
#[derive(Clone, Copy, Debug)]
struct Dims {
    n: usize,
    c: usize,
    k: usize,
    h: usize,
    w: usize,
    gh: usize,
    gw: usize,
}

impl Dims {
    fn hw(&self) -> usize {
        self.h * self.w
    }
}

/// The values the forward and backward passes read, as slices.
struct Weights<'a> {
    theta: &'a [f32],
    theta_b: Option<&'a [f32]>,
    psi: &'a [f32],
}

/// Per-task scratch: `z` of one image and the resize's rows.
struct Scratch {
    z: Vec<f32>,
    rows: Vec<f32>,
}

impl Scratch {
    fn new(d: &Dims, r: &Resizer) -> Self {
        Scratch {
            z: crate::pool::take_dirty(d.k * d.hw()),
            rows: vec![0.0; r.scratch_len()],
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        crate::pool::recycle(std::mem::take(&mut self.z));
    }
}

/// `z = theta x_i + theta_b + resize(p_i)` of one image into `s.z`
/// (before the ReLU).
fn pre_activation(d: &Dims, r: &Resizer, wt: &Weights, xi: &[f32], pi: &[f32], s: &mut Scratch) {
    let hw = d.hw();
    let rows = row_offsets(d.c, hw);
    gemm_nn(
        d.k, hw, d.c, wt.theta, d.c, 1, xi, &rows, &mut s.z, hw, false,
    );
    for (kk, (zk, pk)) in s.z.chunks_mut(hw).zip(pi.chunks(d.gh * d.gw)).enumerate() {
        r.add_plane(pk, &mut s.rows, wt.theta_b.map_or(0.0, |b| b[kk]), zk);
    }
}

/// `score_i = psi relu(z) + psi_b` (`score` prefilled with `psi_b`).
fn score_of(d: &Dims, psi: &[f32], z: &[f32], score: &mut [f32]) {
    for (zk, &wk) in z.chunks(d.hw()).zip(psi) {
        for (s, &zv) in score.iter_mut().zip(zk) {
            *s += wk * zv.max(0.0);
        }
    }
}

fn forward(d: &Dims, wt: &Weights, psi_b: f32, x: &[f32], p: &[f32]) -> Vec<f32> {
    let (hw, chw, khw) = (d.hw(), d.c * d.hw(), d.k * d.gh * d.gw);
    let r = Resizer::new(d.gh, d.gw, d.h, d.w, false);
    let mut out = crate::pool::take_dirty(d.n * hw);
    out.fill(psi_b);
    let cl = super::conv::chunk_len(d.n);
    out.par_chunks_mut(cl * hw)
        .zip(x.par_chunks(cl * chw).zip(p.par_chunks(cl * khw)))
        .for_each(|(oc, (xc, pc))| {
            let mut s = Scratch::new(d, &r);
            for (oi, (xi, pi)) in oc.chunks_mut(hw).zip(xc.chunks(chw).zip(pc.chunks(khw))) {
                pre_activation(d, &r, wt, xi, pi, &mut s);
                score_of(d, wt.psi, &s.z, oi);
            }
        });
    out
}

/// One channel of the score's backward pass through `psi relu(z)`:
/// overwrites `z` with `dz = psi g` where `z > 0` (else 0) and returns
/// `(sum relu(z) g, sum dz)`, the channel's `psi` and `theta_b` gradients.
/// The sums run in sixteen f32 lanes, so the loop vectorises, and are
/// finished in f64.
fn relu_backward(z: &mut [f32], g: &[f32], psi: f32) -> (f64, f64) {
    const L: usize = 16;
    let (mut dpsi, mut db) = ([0.0f32; L], [0.0f32; L]);
    let mut step = |z: &mut f32, g: f32, lane: usize| {
        let a = z.max(0.0);
        dpsi[lane] += a * g;
        *z = if a > 0.0 { psi * g } else { 0.0 };
        db[lane] += *z;
    };
    let whole = z.len() - z.len() % L;
    for (zs, gs) in z[..whole].chunks_exact_mut(L).zip(g.chunks_exact(L)) {
        for (lane, (z, &g)) in zs.iter_mut().zip(gs).enumerate() {
            step(z, g, lane);
        }
    }
    for (z, &g) in z[whole..].iter_mut().zip(&g[whole..]) {
        step(z, g, 0);
    }
    let total = |l: [f32; L]| l.iter().map(|&v| f64::from(v)).sum::<f64>();
    (total(dpsi), total(db))
}

/// Gradients of one chunk of images: `dx` and `dp` written in place, the
/// weight gradients `[theta (K C), theta_b (K), psi (K), psi_b (1)]`
/// returned (f64 sums).
fn backward_chunk(
    d: &Dims,
    r: &Resizer,
    wt: &Weights,
    (xc, pc, gc): (&[f32], &[f32], &[f32]),
    dxc: &mut [f32],
    dpc: &mut [f32],
) -> Vec<f64> {
    let (hw, chw, khw) = (d.hw(), d.c * d.hw(), d.k * d.gh * d.gw);
    let mut s = Scratch::new(d, r);
    let mut dtheta = vec![0.0f32; d.k * d.c];
    let mut sums = vec![0.0f64; d.k * 2 + 1];
    let k_rows = row_offsets(d.k, hw);
    let c_rows = row_offsets(d.c, hw);
    for i in 0..gc.len() / hw {
        let (xi, gi) = (&xc[i * chw..(i + 1) * chw], &gc[i * hw..(i + 1) * hw]);
        pre_activation(d, r, wt, xi, &pc[i * khw..(i + 1) * khw], &mut s);
        sums[2 * d.k] += gi.iter().map(|&v| v as f64).sum::<f64>();
        for (kk, zk) in s.z.chunks_mut(hw).enumerate() {
            let (dpsi, db) = relu_backward(zk, gi, wt.psi[kk]);
            sums[d.k + kk] += dpsi;
            sums[kk] += db;
        }
        // s.z now holds dz [K, HW]
        gemm_nt(d.k, d.c, hw, &s.z, hw, xi, &c_rows, &mut dtheta, d.c, true);
        let dxi = &mut dxc[i * chw..(i + 1) * chw];
        gemm_nn(
            d.c, hw, d.k, wt.theta, 1, d.c, &s.z, &k_rows, dxi, hw, false,
        );
        let dpi = &mut dpc[i * khw..(i + 1) * khw];
        for (dzk, dpk) in s.z.chunks(hw).zip(dpi.chunks_mut(d.gh * d.gw)) {
            r.adjoint(dzk, &mut s.rows, dpk);
        }
    }
    let mut out: Vec<f64> = dtheta.iter().map(|&v| v as f64).collect();
    out.extend(sums);
    out
}

struct GateScoreOp {
    d: Dims,
    theta_bias: bool,
    psi_bias: bool,
}

impl Backward for GateScoreOp {
    fn name(&self) -> &'static str {
        "attention_gate_score"
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
        let d = self.d;
        let vals = |t: &Tensor| t.data().iter().copied().collect::<Vec<f32>>();
        let (theta_v, psi_v) = (vals(&parents[2]), vals(&parents[3]));
        let theta_b_v = self.theta_bias.then(|| vals(&parents[4]));
        let wt = Weights {
            theta: &theta_v,
            theta_b: theta_b_v.as_deref(),
            psi: &psi_v,
        };
        let x = parents[0].data().as_standard_layout();
        let p = parents[1].data().as_standard_layout();
        let g = grad.as_standard_layout();
        let (xs, ps, gs) = (
            x.as_slice().expect("standard layout"),
            p.as_slice().expect("standard layout"),
            g.as_slice().expect("standard layout"),
        );
        let r = Resizer::new(d.gh, d.gw, d.h, d.w, false);
        let (hw, chw, khw) = (d.hw(), d.c * d.hw(), d.k * d.gh * d.gw);
        let cl = super::conv::chunk_len(d.n);
        let mut dx = crate::pool::take_dirty(d.n * chw);
        let mut dp = crate::pool::take_dirty(d.n * khw);
        let parts: Vec<Vec<f64>> = dx
            .par_chunks_mut(cl * chw)
            .zip(dp.par_chunks_mut(cl * khw))
            .zip(xs.par_chunks(cl * chw).zip(ps.par_chunks(cl * khw)))
            .zip(gs.par_chunks(cl * hw))
            .map(|(((dxc, dpc), (xc, pc)), gc)| backward_chunk(&d, &r, &wt, (xc, pc, gc), dxc, dpc))
            .collect();
        let mut total = vec![0.0f64; parts.first().map_or(0, Vec::len)];
        for part in &parts {
            for (t, v) in total.iter_mut().zip(part) {
                *t += v;
            }
        }
        self.grads(parents, dx, dp, &total)
    }
}

impl GateScoreOp {
    /// Packs the gradients in the parents' order and shapes.
    fn grads(
        &self,
        parents: &[Tensor],
        dx: Vec<f32>,
        dp: Vec<f32>,
        total: &[f64],
    ) -> Vec<Option<ArrayD<f32>>> {
        let (k, c) = (self.d.k, self.d.c);
        let arr = |t: &Tensor, v: Vec<f32>| {
            t.is_requires_grad()
                .then(|| ArrayD::from_shape_vec(IxDyn(t.shape()), v).expect("gradient shape"))
        };
        let f32s = |r: std::ops::Range<usize>| total[r].iter().map(|&v| v as f32).collect();
        let kc = k * c;
        let mut out = vec![
            arr(&parents[0], dx),
            arr(&parents[1], dp),
            arr(&parents[2], f32s(0..kc)),
            arr(&parents[3], f32s(kc + k..kc + 2 * k)),
        ];
        let mut next = 4;
        if self.theta_bias {
            out.push(arr(&parents[next], f32s(kc..kc + k)));
            next += 1;
        }
        if self.psi_bias {
            out.push(arr(&parents[next], f32s(kc + 2 * k..kc + 2 * k + 1)));
        }
        out
    }
}

/// Checks the shapes and returns the sizes.
fn dims(x: &[usize], p: &[usize], theta: &[usize], psi: &[usize]) -> Result<Dims> {
    let bad = |what: &'static str, s: &[usize]| Err(invalid_shape("attention_gate_score", what, s));
    if x.len() != 4 || x.contains(&0) {
        return bad("x must be a non-empty [N, C, H, W]", x);
    }
    if p.len() != 4 || p[0] != x[0] || p[2] == 0 || p[3] == 0 {
        return bad(
            "the gating features must be [N, K, h, w] with the N of x",
            p,
        );
    }
    if theta != [p[1], x[1], 1, 1] {
        return bad("theta must be [K, C, 1, 1]", theta);
    }
    if psi != [1, p[1], 1, 1] {
        return bad("psi must be [1, K, 1, 1]", psi);
    }
    Ok(Dims {
        n: x[0],
        c: x[1],
        k: p[1],
        h: x[2],
        w: x[3],
        gh: p[2],
        gw: p[3],
    })
}

impl Tensor {
    /// The score map of an additive attention gate, in one pass that never
    /// stores the `[N, K, H, W]` intermediates:
    ///
    /// ```text
    /// score = psi * relu(theta * x + theta_b + resize_bilinear(p, H, W)) + psi_b
    /// ```
    ///
    /// `self` is `x [N, C, H, W]`, `p [N, K, h, w]` the gating features
    /// (already projected to K channels), `theta [K, C, 1, 1]` and
    /// `psi [1, K, 1, 1]` 1x1 convolution weights with optional biases
    /// `[K]` and `[1]`; the resize is PyTorch's `align_corners = false`.
    /// The result `[N, 1, H, W]` equals the same expression written with
    /// `conv2d`, `resize_bilinear`, `add` and `relu`.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] for shapes other than the above.
    ///
    /// # Example
    /// ```
    /// use fanaroff_tensor::Tensor;
    /// let x = Tensor::ones(&[2, 3, 8, 8]);
    /// let p = Tensor::ones(&[2, 4, 2, 2]);
    /// let theta = Tensor::ones(&[4, 3, 1, 1]);
    /// let psi = Tensor::ones(&[1, 4, 1, 1]);
    /// let s = x.attention_gate_score(&p, &theta, None, &psi, None).unwrap();
    /// assert_eq!(s.shape(), &[2, 1, 8, 8]);
    /// assert_eq!(s.data()[[0, 0, 3, 3]], 16.0); // 4 channels of relu(3 + 1)
    /// ```
    pub fn attention_gate_score(
        &self,
        p: &Tensor,
        theta: &Tensor,
        theta_b: Option<&Tensor>,
        psi: &Tensor,
        psi_b: Option<&Tensor>,
    ) -> Result<Tensor> {
        let d = dims(self.shape(), p.shape(), theta.shape(), psi.shape())?;
        if theta_b.is_some_and(|b| b.shape() != [d.k]) || psi_b.is_some_and(|b| b.shape() != [1]) {
            return Err(Error::ShapeMismatch {
                op: "attention_gate_score (biases must be [K] and [1])",
                lhs: theta_b.map_or(vec![], |b| b.shape().to_vec()),
                rhs: psi_b.map_or(vec![], |b| b.shape().to_vec()),
            });
        }
        let vals = |t: &Tensor| t.data().iter().copied().collect::<Vec<f32>>();
        let (theta_v, psi_v) = (vals(theta), vals(psi));
        let theta_b_v = theta_b.map(vals);
        let wt = Weights {
            theta: &theta_v,
            theta_b: theta_b_v.as_deref(),
            psi: &psi_v,
        };
        let (xs, ps) = (
            self.data().as_standard_layout(),
            p.data().as_standard_layout(),
        );
        let x = xs.as_slice().expect("standard layout");
        let pv = ps.as_slice().expect("standard layout");
        let psi_b_v = psi_b.map_or(0.0, |b| b.data().iter().copied().next().unwrap_or(0.0));
        let out = forward(&d, &wt, psi_b_v, x, pv);
        let y = ArrayD::from_shape_vec(IxDyn(&[d.n, 1, d.h, d.w]), out).expect("score shape");
        let mut parents = vec![self.clone(), p.clone(), theta.clone(), psi.clone()];
        parents.extend(theta_b.cloned());
        parents.extend(psi_b.cloned());
        let op = GateScoreOp {
            d,
            theta_bias: theta_b.is_some(),
            psi_bias: psi_b.is_some(),
        };
        Ok(Tensor::from_op(y, parents, op))
    }
}
