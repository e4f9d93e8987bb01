//! AVX-512 `gemm_nt` for the weight gradients of convolutions.
//!
//! In an implicit convolution the rows of B come in runs of consecutive
//! offsets: the kernel columns `kx = 0, 1, ...` of one input row are the
//! same image row shifted by one element each. A tile of `S` such rows
//! therefore loads one 16-lane vector of B per step and makes the other
//! `S - 1` rows' vectors in registers (`valignd`), instead of `S`
//! unaligned loads that mostly split cache lines (why plain 16-lane tiles
//! lost to the AVX2 ones). Each output is a dot product accumulated in 16
//! lanes per block of the inner dimension, then summed horizontally; the
//! order differs from the AVX2 tiles' 8 lanes, so the last bits differ.

// Tiles are indexed by their (constant) row and shift.
#![allow(clippy::needless_range_loop)]

use std::arch::x86_64::*;

/// The longest run one tile takes (5 x 5 kernels fill it).
const MAX_RUN: usize = 5;
/// Rows of A per tile for runs of up to 3 (3 rows for longer runs).
const MR: usize = 4;
/// Inner-dimension block: the rows in use stay in L1 across the tiles.
const LB: usize = 2048;

/// Splits `b_rows` into runs of consecutive offsets of 2 to `MAX_RUN` rows;
/// `None` when a row stands alone (1 x 1 convolutions, plain matrices),
/// which the AVX2 tiles serve better.
pub(super) fn runs(b_rows: &[usize]) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    let mut j = 0;
    while j < b_rows.len() {
        let mut len = 1;
        while j + len < b_rows.len() && b_rows[j + len] == b_rows[j] + len {
            len += 1;
        }
        if len == 1 {
            return None;
        }
        j += len;
        while len > 0 {
            // never leave a single row behind: 6 = 4 + 2, 7 = 5 + 2
            let take = if len > MAX_RUN && len - MAX_RUN == 1 {
                MAX_RUN - 1
            } else {
                len.min(MAX_RUN)
            };
            out.push(take);
            len -= take;
        }
    }
    Some(out)
}

/// `lo` shifted down by `s` lanes, the top `s` lanes from `hi`.
#[inline(always)]
unsafe fn shifted(hi: __m512, lo: __m512, s: usize) -> __m512 {
    unsafe {
        let (h, l) = (_mm512_castps_si512(hi), _mm512_castps_si512(lo));
        _mm512_castsi512_ps(match s {
            1 => _mm512_alignr_epi32::<1>(h, l),
            2 => _mm512_alignr_epi32::<2>(h, l),
            3 => _mm512_alignr_epi32::<3>(h, l),
            _ => _mm512_alignr_epi32::<4>(h, l),
        })
    }
}

/// `R x S` dot products over `len` elements (a multiple of 16), added to
/// C: rows `a + r lda` of A against the rows `b + s` of B.
#[inline(always)]
unsafe fn tile<const R: usize, const S: usize>(
    len: usize,
    a: *const f32,
    lda: usize,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
) {
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); S]; R];
        // the lanes of the next vector that the shifts read
        let edge: __mmask16 = (1u16 << (S - 1)) - 1;
        let mut lo = _mm512_loadu_ps(b);
        let mut p = 0;
        while p < len {
            let next = b.add(p + 16);
            let hi = if p + 16 < len {
                _mm512_loadu_ps(next)
            } else {
                _mm512_maskz_loadu_ps(edge, next)
            };
            let mut av = [lo; R];
            for (r, v) in av.iter_mut().enumerate() {
                *v = _mm512_loadu_ps(a.add(r * lda + p));
            }
            // one shifted copy live at a time keeps the tile in registers
            for s in 0..S {
                let bv = if s == 0 { lo } else { shifted(hi, lo, s) };
                for r in 0..R {
                    acc[r][s] = _mm512_fmadd_ps(av[r], bv, acc[r][s]);
                }
            }
            lo = hi;
            p += 16;
        }
        for (r, row) in acc.iter().enumerate() {
            for (s, v) in row.iter().enumerate() {
                *c.add(r * ldc + s) += _mm512_reduce_add_ps(*v);
            }
        }
    }
}

/// All rows of A, `MR` at a time, against one run of `S` rows of B.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn run_block<const S: usize>(
    m: usize,
    len: usize,
    a: *const f32,
    lda: usize,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
) {
    unsafe {
        // 4 x 4 accumulators plus the shift indices fill the registers;
        // runs of 4 and 5 take 3 rows at a time
        let mr = if S >= 4 { 3 } else { MR };
        let mut i = 0;
        while i < m {
            let (ai, ci) = (a.add(i * lda), c.add(i * ldc));
            match (m - i).min(mr) {
                1 => tile::<1, S>(len, ai, lda, b, ci, ldc),
                2 => tile::<2, S>(len, ai, lda, b, ci, ldc),
                3 => tile::<3, S>(len, ai, lda, b, ci, ldc),
                _ => tile::<MR, S>(len, ai, lda, b, ci, ldc),
            }
            i += mr;
        }
    }
}

/// `C (+)= A B^T` with the rows of B grouped by [`runs`].
#[target_feature(enable = "avx512f,avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn gemm_nt(
    m: usize,
    l: usize,
    a: *const f32,
    lda: usize,
    b: *const f32,
    b_rows: &[usize],
    runs: &[usize],
    c: *mut f32,
    ldc: usize,
) {
    unsafe {
        let l16 = l - l % 16;
        let mut p0 = 0;
        while p0 < l16 {
            let len = LB.min(l16 - p0);
            let ap = a.add(p0);
            let mut j = 0;
            for &s in runs {
                let (bj, cj) = (b.add(b_rows[j] + p0), c.add(j));
                match s {
                    2 => run_block::<2>(m, len, ap, lda, bj, cj, ldc),
                    3 => run_block::<3>(m, len, ap, lda, bj, cj, ldc),
                    4 => run_block::<4>(m, len, ap, lda, bj, cj, ldc),
                    _ => run_block::<MAX_RUN>(m, len, ap, lda, bj, cj, ldc),
                }
                j += s;
            }
            p0 += len;
        }
        // the last l % 16 products
        for i in 0..m {
            for (j, &o) in b_rows.iter().enumerate() {
                let mut s = 0.0f32;
                for p in l16..l {
                    s += *a.add(i * lda + p) * *b.add(o + p);
                }
                *c.add(i * ldc + j) += s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn runs_split_without_single_rows() {
        // a 5 x 5 kernel over two input rows: runs of 5
        let rows: Vec<usize> = (0..2)
            .flat_map(|y| (0..5).map(move |x| 100 * y + x))
            .collect();
        assert_eq!(runs(&rows), Some(vec![5, 5]));
        // 7 and 6 consecutive rows
        let rows: Vec<usize> = (0..7).chain(50..56).collect();
        assert_eq!(runs(&rows), Some(vec![5, 2, 4, 2]));
        // a row on its own sends the product to the AVX2 tiles
        assert_eq!(runs(&[0, 1, 2, 10]), None);
        assert_eq!(runs(&[0, 7, 14]), None);
        assert_eq!(runs(&[]), Some(vec![]));
    }
}
