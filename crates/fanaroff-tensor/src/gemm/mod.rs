//! Small matrix-multiply kernels shaped for convolutions.
//!
//! A general GEMM packs both operands into panels; for convolutions one
//! operand (the unfolded image or the output gradient) is long and already
//! row-major, so packing it costs as much as the arithmetic. These kernels
//! read it in place:
//!
//! * [`gemm_nn`]: `C[m x n] (+)= A[m x k] B[k x n]`, `A` at any strides (it is
//!   small: weights), `C` row-major, row `p` of `B` starting at
//!   `b[b_rows[p]..]`. Register tiles of 6 rows x 16 columns.
//! * [`gemm_nt`]: `C[m x n] (+)= A[m x l] B[n x l]^T`, long contiguous rows
//!   (weight gradients, `dY col^T`), row `j` of `B` at `b_rows[j]`. Tiles of
//!   3 x 4 dot products, blocked along `l` so the rows in use stay in L1.
//!   Plain 16-lane tiles (3 x 6, tried on an AVX-512 Xeon) were 7 % slower
//!   on the LeNet's weight gradients, as most loads of the shifted rows then
//!   split cache lines; where the rows of B come in runs of consecutive
//!   offsets (the columns of a convolution kernel), the AVX-512 path loads
//!   one vector per run and shifts it in registers ([`nt_runs`]).
//!
//! Row offsets instead of a leading dimension let a convolution pass rows
//! that are shifted views of one padded image ("implicit im2col"), so the
//! unfolded matrix is never written out.
//!
//! The instruction set is chosen at run time ([`Kernel`]): AVX-512F tiles
//! of 6 x 32 for `gemm_nn` where the CPU has them, AVX2 + FMA tiles
//! otherwise, and a portable loop elsewhere. For `gemm_nn` the AVX-512 and
//! AVX2 paths give bit-identical results (each output is the same chain of
//! fused multiply-adds over the inner dimension, and the same last `n % 8`
//! columns take the portable loop in both). `gemm_nt`'s AVX-512 runs sum
//! each dot product in 16 lanes instead of 8, so its last bits differ from
//! the AVX2 tiles'.

use std::cell::Cell;

#[cfg(target_arch = "x86_64")]
mod nt_runs;

/// The instruction set of the GEMM kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// Portable loops.
    Scalar,
    /// AVX2 + FMA (x86-64).
    Avx2,
    /// AVX-512F (x86-64; `gemm_nt` uses the AVX2 tiles unless the rows of
    /// B come in runs, see `nt_runs`).
    Avx512,
}

impl Kernel {
    /// The best instruction set of this CPU.
    pub fn detected() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if has_avx2_fma() && std::arch::is_x86_feature_detected!("avx512f") {
                return Kernel::Avx512;
            }
            if has_avx2_fma() {
                return Kernel::Avx2;
            }
        }
        Kernel::Scalar
    }

    /// Every instruction set this CPU can run, the portable loops first.
    pub fn supported() -> Vec<Kernel> {
        let best = Kernel::detected();
        [Kernel::Scalar, Kernel::Avx2, Kernel::Avx512]
            .into_iter()
            .filter(|k| *k as u8 <= best as u8)
            .collect()
    }
}

thread_local! {
    static FORCED: Cell<Option<Kernel>> = const { Cell::new(None) };
}

/// Runs `f` with the GEMM kernels *of this thread* forced to `kernel`
/// (tests of every path; the caller checks [`Kernel::supported`]).
///
/// Work that `f` hands to other rayon threads does not see the override:
/// run it in a [`forced_pool`] to force every thread.
pub fn with_kernel<T>(kernel: Kernel, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Kernel>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FORCED.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(FORCED.with(|c| c.replace(Some(kernel))));
    f()
}

/// A rayon pool of `threads` workers that each run with `kernel` forced,
/// so that work split across threads takes one instruction set throughout
/// (tests of every path on several threads).
///
/// # Errors
/// Those of [`rayon::ThreadPoolBuilder::build`], such as failing to spawn.
///
/// # Example
/// ```
/// use fanaroff_tensor::{Kernel, Tensor, forced_pool};
/// let pool = forced_pool(Kernel::Scalar, 2).unwrap();
/// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let y = pool.install(|| a.matmul(&a)).unwrap();
/// assert_eq!(y.to_vec(), vec![7.0, 10.0, 15.0, 22.0]);
/// ```
pub fn forced_pool(
    kernel: Kernel,
    threads: usize,
) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .spawn_handler(move |worker| {
            let mut b = std::thread::Builder::new();
            if let Some(size) = worker.stack_size() {
                b = b.stack_size(size);
            }
            b.spawn(move || with_kernel(kernel, || worker.run()))?;
            Ok(())
        })
        .build()
}

/// The kernel to use now: the forced one, else the detected one.
pub(crate) fn active() -> Kernel {
    FORCED.with(Cell::get).unwrap_or_else(Kernel::detected)
}

/// Offsets `0, ld, 2 ld, ...` of the rows of a plain row-major matrix.
pub(crate) fn row_offsets(rows: usize, ld: usize) -> Vec<usize> {
    (0..rows).map(|r| r * ld).collect()
}

fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The signature of the vector `gemm_nn` kernels.
#[cfg(target_arch = "x86_64")]
type VectorNn = unsafe fn(
    usize,
    usize,
    usize,
    *const f32,
    usize,
    usize,
    *const f32,
    *const usize,
    *mut f32,
    usize,
    bool,
);

/// `C = A B` (or `C += A B` when `accumulate`).
///
/// # Panics
/// When a slice is too short for the given sizes (an internal bug).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_nn(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    b_rows: &[usize],
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) {
    assert_eq!(b_rows.len(), k, "gemm_nn: one offset per row of B");
    if m == 0 || n == 0 {
        return;
    }
    if k > 0 {
        assert!(
            (m - 1) * rsa + (k - 1) * csa < a.len(),
            "gemm_nn: A too short"
        );
        assert!(
            b_rows.iter().all(|&o| o + n <= b.len()),
            "gemm_nn: B too short"
        );
    }
    assert!((m - 1) * ldc + n <= c.len(), "gemm_nn: C too short");
    #[cfg(target_arch = "x86_64")]
    {
        let kernel: Option<VectorNn> = match active() {
            Kernel::Avx512 => Some(avx512::gemm_nn),
            Kernel::Avx2 => Some(avx2::gemm_nn),
            Kernel::Scalar => None,
        };
        if let Some(f) = kernel {
            let (ap, bp, rp, cp) = (a.as_ptr(), b.as_ptr(), b_rows.as_ptr(), c.as_mut_ptr());
            // SAFETY: `active` only names kernels the CPU has; every index
            // was bounds-checked above.
            unsafe { f(m, n, k, ap, rsa, csa, bp, rp, cp, ldc, accumulate) };
            return;
        }
    }
    for i in 0..m {
        let row = &mut c[i * ldc..i * ldc + n];
        if !accumulate {
            row.fill(0.0);
        }
        for (p, &o) in b_rows.iter().enumerate() {
            let av = a[i * rsa + p * csa];
            for (cv, &bv) in row.iter_mut().zip(&b[o..o + n]) {
                *cv += av * bv;
            }
        }
    }
}

/// `C = A B^T` (or `C += A B^T` when `accumulate`).
///
/// # Panics
/// When a slice is too short for the given sizes (an internal bug).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_nt(
    m: usize,
    n: usize,
    l: usize,
    a: &[f32],
    lda: usize,
    b: &[f32],
    b_rows: &[usize],
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) {
    assert_eq!(b_rows.len(), n, "gemm_nt: one offset per row of B");
    if m == 0 || n == 0 {
        return;
    }
    if l > 0 {
        assert!((m - 1) * lda + l <= a.len(), "gemm_nt: A too short");
        assert!(
            b_rows.iter().all(|&o| o + l <= b.len()),
            "gemm_nt: B too short"
        );
    }
    assert!((m - 1) * ldc + n <= c.len(), "gemm_nt: C too short");
    #[cfg(target_arch = "x86_64")]
    if active() == Kernel::Avx512
        && let Some(runs) = nt_runs::runs(b_rows)
    {
        if !accumulate {
            for i in 0..m {
                c[i * ldc..i * ldc + n].fill(0.0);
            }
        }
        let (ap, bp, cp) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
        // SAFETY: the CPU has AVX-512F; every index was bounds-checked above.
        unsafe { nt_runs::gemm_nt(m, l, ap, lda, bp, b_rows, &runs, cp, ldc) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if active() != Kernel::Scalar {
        // SAFETY: the CPU has the features; every index was bounds-checked above.
        unsafe {
            avx2::gemm_nt(
                m,
                n,
                l,
                a.as_ptr(),
                lda,
                b.as_ptr(),
                b_rows.as_ptr(),
                c.as_mut_ptr(),
                ldc,
                accumulate,
            )
        };
        return;
    }
    for i in 0..m {
        for (j, &o) in b_rows.iter().enumerate() {
            let s: f32 = a[i * lda..i * lda + l]
                .iter()
                .zip(&b[o..o + l])
                .map(|(x, y)| x * y)
                .sum();
            let cv = &mut c[i * ldc + j];
            *cv = if accumulate { *cv + s } else { s };
        }
    }
}

/// The register tiles of `gemm_nn` for one vector width: `MR` rows of A
/// times `V` registers of `W` columns, accumulated by fused multiply-adds
/// over the whole inner dimension (the same chain for every width, so the
/// widths give the same bits).
#[cfg(target_arch = "x86_64")]
macro_rules! nn_tiles {
    ($reg:ty, $w:expr, $zero:ident, $load:ident, $store:ident, $set1:ident, $fma:ident, $add:ident) => {
        /// Rows of A per register tile.
        const MR: usize = 6;

        /// One `R x (W V)` tile of `C = A B` over the full inner dimension.
        #[inline(always)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn tile_nn<const R: usize, const V: usize>(
            k: usize,
            a: *const f32,
            rsa: usize,
            csa: usize,
            b: *const f32,
            b_rows: *const usize,
            c: *mut f32,
            ldc: usize,
            accumulate: bool,
        ) {
            unsafe {
                let mut acc: [[$reg; V]; R] = [[$zero(); V]; R];
                for p in 0..k {
                    let bp = b.add(*b_rows.add(p));
                    let mut bv: [$reg; V] = [$zero(); V];
                    for v in 0..V {
                        bv[v] = $load(bp.add($w * v));
                    }
                    for r in 0..R {
                        let av = $set1(*a.add(r * rsa + p * csa));
                        for v in 0..V {
                            acc[r][v] = $fma(av, bv[v], acc[r][v]);
                        }
                    }
                }
                for r in 0..R {
                    for v in 0..V {
                        let cp = c.add(r * ldc + $w * v);
                        let val = if accumulate {
                            $add(acc[r][v], $load(cp))
                        } else {
                            acc[r][v]
                        };
                        $store(cp, val);
                    }
                }
            }
        }

        /// All rows, `MR` at a time, for one block of `W V` columns.
        #[inline(always)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn column_block<const V: usize>(
            m: usize,
            k: usize,
            a: *const f32,
            rsa: usize,
            csa: usize,
            b: *const f32,
            b_rows: *const usize,
            c: *mut f32,
            ldc: usize,
            accumulate: bool,
        ) {
            unsafe {
                let mut i = 0;
                while i + MR <= m {
                    let (ar, cr) = (a.add(i * rsa), c.add(i * ldc));
                    tile_nn::<MR, V>(k, ar, rsa, csa, b, b_rows, cr, ldc, accumulate);
                    i += MR;
                }
                let (ar, cr) = (a.add(i * rsa), c.add(i * ldc));
                match m - i {
                    0 => {}
                    1 => tile_nn::<1, V>(k, ar, rsa, csa, b, b_rows, cr, ldc, accumulate),
                    2 => tile_nn::<2, V>(k, ar, rsa, csa, b, b_rows, cr, ldc, accumulate),
                    3 => tile_nn::<3, V>(k, ar, rsa, csa, b, b_rows, cr, ldc, accumulate),
                    4 => tile_nn::<4, V>(k, ar, rsa, csa, b, b_rows, cr, ldc, accumulate),
                    _ => tile_nn::<5, V>(k, ar, rsa, csa, b, b_rows, cr, ldc, accumulate),
                }
            }
        }
    };
}

// Register tiles are indexed by their (constant) row and column: index
// loops read better here than iterator chains.
#[allow(clippy::needless_range_loop)]
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    nn_tiles!(
        __m256,
        8,
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        _mm256_add_ps
    );

    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn gemm_nn(
        m: usize,
        n: usize,
        k: usize,
        a: *const f32,
        rsa: usize,
        csa: usize,
        b: *const f32,
        b_rows: *const usize,
        c: *mut f32,
        ldc: usize,
        accumulate: bool,
    ) {
        unsafe {
            let mut j = 0;
            while j + 16 <= n {
                column_block::<2>(
                    m,
                    k,
                    a,
                    rsa,
                    csa,
                    b.add(j),
                    b_rows,
                    c.add(j),
                    ldc,
                    accumulate,
                );
                j += 16;
            }
            if j + 8 <= n {
                column_block::<1>(
                    m,
                    k,
                    a,
                    rsa,
                    csa,
                    b.add(j),
                    b_rows,
                    c.add(j),
                    ldc,
                    accumulate,
                );
                j += 8;
            }
            // The last few columns: plain loops.
            for jj in j..n {
                for i in 0..m {
                    let mut s = 0.0f32;
                    for p in 0..k {
                        s += *a.add(i * rsa + p * csa) * *b.add(*b_rows.add(p) + jj);
                    }
                    let cp = c.add(i * ldc + jj);
                    *cp = if accumulate { *cp + s } else { s };
                }
            }
        }
    }

    /// Horizontal sum of one vector.
    #[inline(always)]
    unsafe fn hsum(v: __m256) -> f32 {
        unsafe {
            let lo = _mm256_castps256_ps128(v);
            let hi = _mm256_extractf128_ps(v, 1);
            let s = _mm_add_ps(lo, hi);
            let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
            _mm_cvtss_f32(s)
        }
    }

    /// `R x S` dot products over `p0 .. p0 + len` (`len` a multiple of 8),
    /// added to C.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile_nt<const R: usize, const S: usize>(
        p0: usize,
        len: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        b_rows: *const usize,
        c: *mut f32,
        ldc: usize,
    ) {
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); S]; R];
            let mut brow = [b; S];
            for s in 0..S {
                brow[s] = b.add(*b_rows.add(s) + p0);
            }
            let a = a.add(p0);
            let mut p = 0;
            while p < len {
                let mut av = [_mm256_setzero_ps(); R];
                for r in 0..R {
                    av[r] = _mm256_loadu_ps(a.add(r * lda + p));
                }
                for s in 0..S {
                    let bv = _mm256_loadu_ps(brow[s].add(p));
                    for r in 0..R {
                        acc[r][s] = _mm256_fmadd_ps(av[r], bv, acc[r][s]);
                    }
                }
                p += 8;
            }
            for r in 0..R {
                for s in 0..S {
                    *c.add(r * ldc + s) += hsum(acc[r][s]);
                }
            }
        }
    }

    /// Inner-dimension block: the rows in use stay in L1 across the tiles.
    const LB: usize = 512;

    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn gemm_nt(
        m: usize,
        n: usize,
        l: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        b_rows: *const usize,
        c: *mut f32,
        ldc: usize,
        accumulate: bool,
    ) {
        unsafe {
            if !accumulate {
                for i in 0..m {
                    for j in 0..n {
                        *c.add(i * ldc + j) = 0.0;
                    }
                }
            }
            let l8 = l - l % 8;
            let mut p0 = 0;
            while p0 < l8 {
                let len = LB.min(l8 - p0);
                let mut j = 0;
                while j < n {
                    let s = (n - j).min(4);
                    let br = b_rows.add(j);
                    let mut i = 0;
                    while i < m {
                        let r = (m - i).min(3);
                        let (ap, cp) = (a.add(i * lda), c.add(i * ldc + j));
                        match (r, s) {
                            (3, 4) => tile_nt::<3, 4>(p0, len, ap, lda, b, br, cp, ldc),
                            (3, 3) => tile_nt::<3, 3>(p0, len, ap, lda, b, br, cp, ldc),
                            (3, 2) => tile_nt::<3, 2>(p0, len, ap, lda, b, br, cp, ldc),
                            (3, _) => tile_nt::<3, 1>(p0, len, ap, lda, b, br, cp, ldc),
                            (2, 4) => tile_nt::<2, 4>(p0, len, ap, lda, b, br, cp, ldc),
                            (2, 3) => tile_nt::<2, 3>(p0, len, ap, lda, b, br, cp, ldc),
                            (2, 2) => tile_nt::<2, 2>(p0, len, ap, lda, b, br, cp, ldc),
                            (2, _) => tile_nt::<2, 1>(p0, len, ap, lda, b, br, cp, ldc),
                            (_, 4) => tile_nt::<1, 4>(p0, len, ap, lda, b, br, cp, ldc),
                            (_, 3) => tile_nt::<1, 3>(p0, len, ap, lda, b, br, cp, ldc),
                            (_, 2) => tile_nt::<1, 2>(p0, len, ap, lda, b, br, cp, ldc),
                            (_, _) => tile_nt::<1, 1>(p0, len, ap, lda, b, br, cp, ldc),
                        }
                        i += r;
                    }
                    j += s;
                }
                p0 += len;
            }
            // The last l % 8 products.
            for i in 0..m {
                for j in 0..n {
                    let bj = b.add(*b_rows.add(j));
                    let mut s = 0.0f32;
                    for p in l8..l {
                        s += *a.add(i * lda + p) * *bj.add(p);
                    }
                    *c.add(i * ldc + j) += s;
                }
            }
        }
    }
}

// AVX-512 tiles of `gemm_nn`: the AVX2 tiles with 16-wide registers.
#[allow(clippy::needless_range_loop)]
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    nn_tiles!(
        __m512,
        16,
        _mm512_setzero_ps,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_add_ps
    );

    /// Columns in blocks of 32 and 16; the last `n % 16` go to the AVX2
    /// kernel, so both paths treat every column alike.
    #[target_feature(enable = "avx512f,avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn gemm_nn(
        m: usize,
        n: usize,
        k: usize,
        a: *const f32,
        rsa: usize,
        csa: usize,
        b: *const f32,
        b_rows: *const usize,
        c: *mut f32,
        ldc: usize,
        accumulate: bool,
    ) {
        unsafe {
            let mut j = 0;
            while j + 32 <= n {
                let (bj, cj) = (b.add(j), c.add(j));
                column_block::<2>(m, k, a, rsa, csa, bj, b_rows, cj, ldc, accumulate);
                j += 32;
            }
            if j + 16 <= n {
                let (bj, cj) = (b.add(j), c.add(j));
                column_block::<1>(m, k, a, rsa, csa, bj, b_rows, cj, ldc, accumulate);
                j += 16;
            }
            if j < n {
                let (bj, cj) = (b.add(j), c.add(j));
                super::avx2::gemm_nn(m, n - j, k, a, rsa, csa, bj, b_rows, cj, ldc, accumulate);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn rand_vec(n: usize, r: &mut StdRng) -> Vec<f32> {
        (0..n).map(|_| r.random_range(-1.0f32..1.0)).collect()
    }

    /// Straightforward triple loop as the reference.
    #[allow(clippy::too_many_arguments)]
    fn reference_nn(
        m: usize,
        n: usize,
        k: usize,
        a: &[f32],
        rsa: usize,
        csa: usize,
        b: &[f32],
        rows: &[usize],
        c: &mut [f32],
        acc: bool,
    ) {
        for i in 0..m {
            for j in 0..n {
                let s: f64 = (0..k)
                    .map(|p| a[i * rsa + p * csa] as f64 * b[rows[p] + j] as f64)
                    .sum();
                c[i * n + j] = if acc {
                    c[i * n + j] + s as f32
                } else {
                    s as f32
                };
            }
        }
    }

    #[test]
    fn nn_matches_reference_on_awkward_sizes() {
        let mut r = StdRng::seed_from_u64(0);
        for &(m, n, k) in &[
            (1, 1, 1),
            (6, 16, 3),
            (7, 33, 5),
            (13, 9, 11),
            (32, 225, 650),
            (5, 7, 0),
        ] {
            for layout in 0..3 {
                let a = rand_vec(m * k.max(1), &mut r);
                let (rsa, csa) = if layout == 1 { (1, m) } else { (k, 1) };
                // layout 2: rows of B overlap (shifted views of one buffer)
                let (b, rows) = if layout == 2 {
                    (
                        rand_vec(n + 3 * k, &mut r),
                        (0..k).map(|p| 3 * p).collect::<Vec<_>>(),
                    )
                } else {
                    (rand_vec(k * n, &mut r), row_offsets(k, n))
                };
                let c0 = rand_vec(m * n, &mut r);
                for acc in [false, true] {
                    let mut c = c0.clone();
                    gemm_nn(m, n, k, &a, rsa, csa, &b, &rows, &mut c, n, acc);
                    let mut want = c0.clone();
                    reference_nn(m, n, k, &a, rsa, csa, &b, &rows, &mut want, acc);
                    for (x, y) in c.iter().zip(&want) {
                        assert!(
                            (x - y).abs() < 1e-3 * (1.0 + y.abs()),
                            "m{m} n{n} k{k} layout {layout}: {x} vs {y}"
                        );
                    }
                }
            }
        }
    }

    /// Every instruction set this CPU has gives the reference's sums, and
    /// the vector paths agree bit for bit.
    #[test]
    fn every_supported_kernel_matches() {
        let mut r = StdRng::seed_from_u64(2);
        let kernels = Kernel::supported();
        assert_eq!(kernels[0], Kernel::Scalar);
        for &(m, n, k) in &[
            (6, 32, 7),
            (7, 57, 25),
            (13, 100, 9),
            (1, 15, 3),
            (6, 47, 150),
        ] {
            let a = rand_vec(m * k, &mut r);
            let b = rand_vec(n + 2 * k, &mut r);
            let rows: Vec<usize> = (0..k).map(|p| 2 * p).collect();
            let c0 = rand_vec(m * n, &mut r);
            let mut want = c0.clone();
            reference_nn(m, n, k, &a, k, 1, &b, &rows, &mut want, true);
            let mut outs = Vec::new();
            for &kern in &kernels {
                let mut c = c0.clone();
                with_kernel(kern, || {
                    gemm_nn(m, n, k, &a, k, 1, &b, &rows, &mut c, n, true)
                });
                for (x, y) in c.iter().zip(&want) {
                    assert!(
                        (x - y).abs() < 1e-3 * (1.0 + y.abs()),
                        "{kern:?} m{m} n{n} k{k}"
                    );
                }
                let l = 40;
                let (a2, b2) = (rand_vec(m * l, &mut r), rand_vec(n * l, &mut r));
                let mut c2 = vec![0.0; m * n];
                with_kernel(kern, || {
                    gemm_nt(m, n, l, &a2, l, &b2, &row_offsets(n, l), &mut c2, n, false)
                });
                for i in 0..m {
                    for j in 0..n {
                        let s: f32 = (0..l).map(|p| a2[i * l + p] * b2[j * l + p]).sum();
                        assert!(
                            (c2[i * n + j] - s).abs() < 1e-3 * (1.0 + s.abs()),
                            "{kern:?} nt"
                        );
                    }
                }
                outs.push((kern, c));
            }
            let vector: Vec<&Vec<f32>> = outs
                .iter()
                .filter(|(k, _)| *k != Kernel::Scalar)
                .map(|(_, c)| c)
                .collect();
            for w in vector.windows(2) {
                assert_eq!(w[0], w[1], "AVX2 and AVX-512 differ for m{m} n{n} k{k}");
            }
        }
        // the override is scoped to the closure
        with_kernel(Kernel::Scalar, || assert_eq!(active(), Kernel::Scalar));
        assert_eq!(active(), Kernel::detected());
        // a forced pool forces every worker, not only the installing one
        let pool = forced_pool(Kernel::Scalar, 2).unwrap();
        let seen: Vec<Kernel> = pool.broadcast(|_| active());
        assert_eq!(seen, vec![Kernel::Scalar; 2]);
    }

    /// Rows of B in runs of consecutive offsets, as a `kh x kw` kernel reads
    /// a padded image of width `wp`; the last row ends at the buffer's end.
    fn kernel_rows(kh: usize, kw: usize, wp: usize) -> Vec<usize> {
        (0..kh)
            .flat_map(|y| (0..kw).map(move |x| y * wp + x))
            .collect()
    }

    /// The AVX-512 runs (and every other path) give the reference's sums
    /// for kernels of 2 to 7 columns, any number of rows of A, inner
    /// lengths around the block and vector sizes, with and without
    /// accumulation.
    #[test]
    fn nt_runs_match_reference() {
        let mut r = StdRng::seed_from_u64(4);
        for &(kh, kw) in &[(5, 5), (3, 3), (1, 2), (2, 7), (1, 6), (2, 4)] {
            for &m in &[1, 2, 3, 4, 5, 6, 9] {
                for &l in &[16, 31, 512, 530, 1300] {
                    let rows = kernel_rows(kh, kw, 40);
                    let n = rows.len();
                    let b = rand_vec(rows[n - 1] + l, &mut r);
                    let a = rand_vec(m * l, &mut r);
                    let c0 = rand_vec(m * n, &mut r);
                    for kern in Kernel::supported() {
                        for acc in [false, true] {
                            let mut c = c0.clone();
                            with_kernel(kern, || {
                                gemm_nt(m, n, l, &a, l, &b, &rows, &mut c, n, acc)
                            });
                            for i in 0..m {
                                for j in 0..n {
                                    let s: f64 = (0..l)
                                        .map(|p| a[i * l + p] as f64 * b[rows[j] + p] as f64)
                                        .sum();
                                    let want = s as f32 + if acc { c0[i * n + j] } else { 0.0 };
                                    let x = c[i * n + j];
                                    assert!(
                                        (x - want).abs() < 1e-3 * (1.0 + want.abs()),
                                        "{kern:?} {kh}x{kw} m{m} l{l} acc {acc}: {x} vs {want}"
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn nt_matches_reference_on_awkward_sizes() {
        let mut r = StdRng::seed_from_u64(1);
        for &(m, n, l) in &[
            (1, 1, 1),
            (3, 4, 8),
            (6, 25, 1300),
            (5, 7, 13),
            (32, 650, 225),
            (2, 2, 0),
        ] {
            let a = rand_vec(m * l.max(1), &mut r);
            let b = rand_vec(n * l.max(1) + 2 * n, &mut r);
            // overlapping rows two apart, as in implicit im2col
            let rows: Vec<usize> = (0..n).map(|j| 2 * j).collect();
            let c0 = rand_vec(m * n, &mut r);
            for acc in [false, true] {
                let mut c = c0.clone();
                gemm_nt(m, n, l, &a, l, &b, &rows, &mut c, n, acc);
                for i in 0..m {
                    for j in 0..n {
                        let s: f64 = (0..l)
                            .map(|p| a[i * l + p] as f64 * b[rows[j] + p] as f64)
                            .sum();
                        let want = if acc {
                            c0[i * n + j] + s as f32
                        } else {
                            s as f32
                        };
                        let x = c[i * n + j];
                        assert!(
                            (x - want).abs() < 1e-3 * (1.0 + want.abs()),
                            "m{m} n{n} l{l}: {x} vs {want}"
                        );
                    }
                }
            }
        }
    }
}
