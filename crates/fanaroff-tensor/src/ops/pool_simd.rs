//! Vector kernels for 2x2 / stride-2 max pooling, the pooling of every
//! LeNet and attention network here: the window maxima of one output row
//! and the input gradient of one output row, eight outputs at a time.
//!
//! The portable loops in `pool.rs` do the columns left over (`wo % 8`) and
//! everything on CPUs without AVX2; the kernel is chosen on the calling
//! thread ([`Kernel`], so tests can force it) before the work is spread
//! over planes. Both paths pick the same window element: the first NaN,
//! else the first maximum in the order top-left, top-right, bottom-left,
//! bottom-right (compared pairwise in the same order as the loops), and
//! both write the same gradient bits. The one difference: where the fused
//! ReLU meets `-0.0`, the vector path returns `+0.0` (`max(x, 0)` returns
//! its second operand on ties), which compares equal.

use crate::gemm::Kernel;

/// What each input value goes through before the window maximum:
/// `x + bias` (when there is one), then `max(., 0)` (when `relu`). The
/// bias lets a convolution hand its output to the pooling before adding
/// its bias (`conv2d_relu_max_pool2d`).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Pre {
    pub bias: Option<f32>,
    pub relu: bool,
}

impl Pre {
    /// A ReLU only, or nothing.
    pub fn relu(relu: bool) -> Self {
        Pre { bias: None, relu }
    }

    /// `x` after the bias and the ReLU, exactly as the separate ops compute
    /// it (`x + b`, then `max(x, 0)`, which turns NaN into 0).
    #[inline(always)]
    pub fn apply(self, x: f32) -> f32 {
        let x = match self.bias {
            Some(b) => x + b,
            None => x,
        };
        if self.relu { x.max(0.0) } else { x }
    }
}

/// Window maxima (values and flat positions in the plane) of the first
/// `8 * (ys.len() / 8)` outputs of one output row; `r0` and `r1` are the
/// two input rows starting at flat position `base`, `w` the distance
/// between input rows. Returns how many outputs it wrote (0 without a
/// vector kernel).
#[allow(clippy::too_many_arguments)]
pub(super) fn max_row_2x2(
    kernel: Kernel,
    r0: &[f32],
    r1: &[f32],
    ys: &mut [f32],
    is: &mut [u32],
    base: usize,
    w: usize,
    pre: Pre,
) -> usize {
    #[cfg(target_arch = "x86_64")]
    if kernel != Kernel::Scalar && base + 2 * w < i32::MAX as usize {
        let n = ys.len() / 8 * 8;
        assert!(r0.len() >= 2 * n && r1.len() >= 2 * n && is.len() >= n);
        // SAFETY: a vector `Kernel` is only active on CPUs with AVX2 and
        // FMA; the lengths were checked above.
        unsafe {
            avx2::max_row(
                r0.as_ptr(),
                r1.as_ptr(),
                ys.as_mut_ptr(),
                is.as_mut_ptr(),
                n,
                [base, w],
                pre,
            )
        };
        return n;
    }
    let _ = (kernel, r0, r1, ys, is, base, w, pre);
    0
}

/// The input gradient of the first `8 * (gp.len() / 8)` outputs of one
/// output row: every element of the two input rows under those windows is
/// written (the window's recorded maximum gets the output gradient, zeroed
/// where the fused ReLU's output `yp` is not positive; the rest 0).
/// `ap` holds the recorded flat positions, `base` the flat position of
/// `r0[0]`. Returns how many outputs it handled.
#[allow(clippy::too_many_arguments)]
pub(super) fn scatter_row_2x2(
    kernel: Kernel,
    r0: &mut [f32],
    r1: &mut [f32],
    gp: &[f32],
    yp: &[f32],
    ap: &[u32],
    base: usize,
    w: usize,
    relu: bool,
) -> usize {
    #[cfg(target_arch = "x86_64")]
    if kernel != Kernel::Scalar && base + 2 * w < i32::MAX as usize {
        let n = gp.len() / 8 * 8;
        assert!(r0.len() >= 2 * n && r1.len() >= 2 * n);
        assert!(yp.len() >= n && ap.len() >= n);
        // SAFETY: as in `max_row_2x2`.
        unsafe {
            avx2::scatter_row(
                [r0.as_mut_ptr(), r1.as_mut_ptr()],
                gp.as_ptr(),
                yp.as_ptr(),
                ap.as_ptr(),
                n,
                [base, w],
                relu,
            )
        };
        return n;
    }
    let _ = (kernel, r0, r1, gp, yp, ap, base, w, relu);
    0
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::Pre;
    use std::arch::x86_64::*;

    /// Even and odd elements of 16 consecutive floats, in order.
    #[inline(always)]
    unsafe fn deinterleave(p: *const f32) -> (__m256, __m256) {
        unsafe {
            let (x0, x1) = (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)));
            // [x0_0 x0_2 x1_0 x1_2 | x0_4 x0_6 x1_4 x1_6], then the middle
            // 64-bit lanes swapped
            let even = _mm256_shuffle_ps::<0b10_00_10_00>(x0, x1);
            let odd = _mm256_shuffle_ps::<0b11_01_11_01>(x0, x1);
            let order = |v: __m256| {
                _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(v)))
            };
            (order(even), order(odd))
        }
    }

    /// Writes `even[i]`, `odd[i]` alternately to 16 consecutive floats.
    #[inline(always)]
    unsafe fn interleave(p: *mut f32, even: __m256, odd: __m256) {
        unsafe {
            let lo = _mm256_unpacklo_ps(even, odd);
            let hi = _mm256_unpackhi_ps(even, odd);
            _mm256_storeu_ps(p, _mm256_permute2f128_ps::<0x20>(lo, hi));
            _mm256_storeu_ps(p.add(8), _mm256_permute2f128_ps::<0x31>(lo, hi));
        }
    }

    /// Lanes where `b` replaces `a` as the running maximum (`pool::beats`).
    #[inline(always)]
    unsafe fn beats(b: __m256, a: __m256) -> __m256 {
        unsafe {
            let gt = _mm256_cmp_ps::<_CMP_GT_OQ>(b, a);
            let b_nan = _mm256_cmp_ps::<_CMP_UNORD_Q>(b, b);
            let a_num = _mm256_cmp_ps::<_CMP_ORD_Q>(a, a);
            _mm256_or_ps(gt, _mm256_and_ps(b_nan, a_num))
        }
    }

    /// `mask ? y : x` on 32-bit integers.
    #[inline(always)]
    unsafe fn select_i(x: __m256i, y: __m256i, mask: __m256) -> __m256i {
        unsafe {
            let (x, y) = (_mm256_castsi256_ps(x), _mm256_castsi256_ps(y));
            _mm256_castps_si256(_mm256_blendv_ps(x, y, mask))
        }
    }

    /// Flat positions `base + 2 (ox + lane)` of the windows' top-left corners.
    #[inline(always)]
    unsafe fn corners(base: usize, ox: usize) -> __m256i {
        unsafe {
            let first = _mm256_set1_epi32((base + 2 * ox) as i32);
            _mm256_add_epi32(first, _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14))
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn max_row(
        r0: *const f32,
        r1: *const f32,
        ys: *mut f32,
        is: *mut u32,
        n: usize,
        [base, w]: [usize; 2],
        pre: Pre,
    ) {
        unsafe {
            let zero = _mm256_setzero_ps();
            let bias = _mm256_set1_ps(pre.bias.unwrap_or(0.0));
            let (i0, i1) = (_mm256_setzero_si256(), _mm256_set1_epi32(1));
            let (iw, iw1) = (_mm256_set1_epi32(w as i32), _mm256_set1_epi32(w as i32 + 1));
            let mut ox = 0;
            while ox < n {
                let (mut a, mut b) = deinterleave(r0.add(2 * ox));
                let (mut c, mut d) = deinterleave(r1.add(2 * ox));
                if pre.bias.is_some() {
                    (a, b) = (_mm256_add_ps(a, bias), _mm256_add_ps(b, bias));
                    (c, d) = (_mm256_add_ps(c, bias), _mm256_add_ps(d, bias));
                }
                if pre.relu {
                    (a, b) = (_mm256_max_ps(a, zero), _mm256_max_ps(b, zero));
                    (c, d) = (_mm256_max_ps(c, zero), _mm256_max_ps(d, zero));
                }
                let top_b = beats(b, a);
                let (top, itop) = (_mm256_blendv_ps(a, b, top_b), select_i(i0, i1, top_b));
                let bot_d = beats(d, c);
                let (bot, ibot) = (_mm256_blendv_ps(c, d, bot_d), select_i(iw, iw1, bot_d));
                let down = beats(bot, top);
                _mm256_storeu_ps(ys.add(ox), _mm256_blendv_ps(top, bot, down));
                let at = _mm256_add_epi32(corners(base, ox), select_i(itop, ibot, down));
                _mm256_storeu_si256(is.add(ox) as *mut __m256i, at);
                ox += 8;
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn scatter_row(
        [r0, r1]: [*mut f32; 2],
        gp: *const f32,
        yp: *const f32,
        ap: *const u32,
        n: usize,
        [base, w]: [usize; 2],
        relu: bool,
    ) {
        unsafe {
            let zero = _mm256_setzero_ps();
            let offsets = [0, 1, w as i32, w as i32 + 1].map(|o| _mm256_set1_epi32(o));
            let mut ox = 0;
            while ox < n {
                let mut v = _mm256_loadu_ps(gp.add(ox));
                if relu {
                    let pos = _mm256_cmp_ps::<_CMP_GT_OQ>(_mm256_loadu_ps(yp.add(ox)), zero);
                    v = _mm256_and_ps(pos, v);
                }
                let at = _mm256_loadu_si256(ap.add(ox) as *const __m256i);
                let at = _mm256_sub_epi32(at, corners(base, ox));
                let [e0, o0, e1, o1] = offsets
                    .map(|o| _mm256_and_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(at, o)), v));
                interleave(r0.add(2 * ox), e0, o0);
                interleave(r1.add(2 * ox), e1, o1);
                ox += 8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Kernel, Tensor, with_kernel};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// Values with many ties, signed zeros and a few NaNs.
    fn awkward(len: usize, r: &mut StdRng) -> Vec<f32> {
        let pool = [-1.0, -0.0, 0.0, 0.25, 0.5, 1.0, -0.5, f32::NAN];
        (0..len)
            .map(|_| match r.random_range(0..20) {
                i if i < pool.len() => pool[i],
                _ => r.random_range(-1.0f32..1.0),
            })
            .collect()
    }

    /// Outputs and input gradients of both poolings under one kernel.
    fn pooled(kernel: Kernel, x: &[f32], shape: &[usize], up: &[f32]) -> Vec<(Vec<f32>, Vec<f32>)> {
        with_kernel(kernel, || {
            [false, true]
                .map(|relu| {
                    let x = Tensor::from_vec(x.to_vec(), shape)
                        .unwrap()
                        .requires_grad(true);
                    let y = if relu {
                        x.relu_max_pool2d((2, 2), (2, 2)).unwrap()
                    } else {
                        x.max_pool2d((2, 2), (2, 2)).unwrap()
                    };
                    let w = Tensor::from_vec(up[..y.len()].to_vec(), y.shape()).unwrap();
                    let g = y.mul(&w).unwrap().sum().backward().unwrap();
                    (y.to_vec(), g.get(&x).unwrap().iter().copied().collect())
                })
                .to_vec()
        })
    }

    /// Same value, NaN matching NaN (and `-0.0` matching `0.0`).
    fn same(a: f32, b: f32) -> bool {
        a == b || (a.is_nan() && b.is_nan())
    }

    /// Every kernel picks the same window elements as the portable loops:
    /// the same outputs and bit-identical gradients, on rows with a vector
    /// part and a scalar tail, with ties, signed zeros and NaNs.
    #[test]
    fn vector_rows_match_the_portable_loops() {
        let mut r = StdRng::seed_from_u64(4);
        for &(h, w) in &[(6usize, 37usize), (4, 16), (5, 150), (3, 34)] {
            let shape = [2, 3, h, w];
            let len = shape.iter().product();
            let x = awkward(len, &mut r);
            let up: Vec<f32> = (0..len).map(|_| r.random_range(-2.0f32..2.0)).collect();
            let want = pooled(Kernel::Scalar, &x, &shape, &up);
            for kernel in Kernel::supported() {
                let got = pooled(kernel, &x, &shape, &up);
                for (relu, ((yw, gw), (yg, gg))) in want.iter().zip(&got).enumerate() {
                    let ctx = format!("{kernel:?} {h}x{w} relu {relu}");
                    assert!(
                        yw.iter().zip(yg).all(|(a, b)| same(*a, *b)),
                        "{ctx}: outputs"
                    );
                    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(gw), bits(gg), "{ctx}: gradients");
                }
            }
        }
    }
}
