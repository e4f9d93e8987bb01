//! Elementwise loops over contiguous buffers, split across threads when the
//! buffer is large enough to pay for it. Each closure is monomorphised, so
//! the compiler can vectorise the loop body.

use ndarray::{ArrayD, ArrayViewD};
use rayon::prelude::*;

/// Below this many elements a loop stays on the calling thread.
const PAR_MIN: usize = 1 << 16;
/// Elements per parallel task.
const CHUNK: usize = 1 << 15;

/// `f` applied to every element, in row-major order.
pub(crate) fn map<F>(a: &ArrayD<f32>, f: F) -> ArrayD<f32>
where
    F: Fn(f32) -> f32 + Sync + Send,
{
    let a = a.as_standard_layout();
    let src = a.as_slice().expect("standard layout");
    let mut out = crate::pool::take_dirty(src.len());
    if src.len() >= PAR_MIN {
        out.par_chunks_mut(CHUNK)
            .zip(src.par_chunks(CHUNK))
            .for_each(|(o, s)| {
                for (o, &s) in o.iter_mut().zip(s) {
                    *o = f(s);
                }
            });
    } else {
        for (o, &s) in out.iter_mut().zip(src) {
            *o = f(s);
        }
    }
    ArrayD::from_shape_vec(a.raw_dim(), out).expect("same shape")
}

/// A copy of `a` in a buffer from the pool (a plain `clone` allocates fresh
/// pages, which for activation-sized gradients costs more than the copy).
pub(crate) fn copy(a: &ArrayD<f32>) -> ArrayD<f32> {
    map(a, |v| v)
}

/// `f` applied pairwise to two arrays of the same shape.
pub(crate) fn zip_map<F>(a: ArrayViewD<f32>, b: ArrayViewD<f32>, f: F) -> ArrayD<f32>
where
    F: Fn(f32, f32) -> f32 + Sync + Send,
{
    debug_assert_eq!(a.shape(), b.shape());
    let a = a.as_standard_layout();
    let b = b.as_standard_layout();
    let (sa, sb) = (
        a.as_slice().expect("standard layout"),
        b.as_slice().expect("standard layout"),
    );
    let mut out = crate::pool::take_dirty(sa.len());
    let body = |o: &mut [f32], x: &[f32], y: &[f32]| {
        for ((o, &x), &y) in o.iter_mut().zip(x).zip(y) {
            *o = f(x, y);
        }
    };
    if sa.len() >= PAR_MIN {
        out.par_chunks_mut(CHUNK)
            .zip(sa.par_chunks(CHUNK).zip(sb.par_chunks(CHUNK)))
            .for_each(|(o, (x, y))| body(o, x, y));
    } else {
        body(&mut out, sa, sb);
    }
    ArrayD::from_shape_vec(a.raw_dim(), out).expect("same shape")
}

/// `f` applied elementwise to three arrays of the same shape.
pub(crate) fn zip3_map<F>(
    a: ArrayViewD<f32>,
    b: ArrayViewD<f32>,
    c: ArrayViewD<f32>,
    f: F,
) -> ArrayD<f32>
where
    F: Fn(f32, f32, f32) -> f32 + Sync + Send,
{
    let a = a.as_standard_layout();
    let b = b.as_standard_layout();
    let c = c.as_standard_layout();
    let (sa, sb, sc) = (
        a.as_slice().expect("standard layout"),
        b.as_slice().expect("standard layout"),
        c.as_slice().expect("standard layout"),
    );
    let mut out = crate::pool::take_dirty(sa.len());
    let body = |o: &mut [f32], x: &[f32], y: &[f32], z: &[f32]| {
        for (((o, &x), &y), &z) in o.iter_mut().zip(x).zip(y).zip(z) {
            *o = f(x, y, z);
        }
    };
    if sa.len() >= PAR_MIN {
        out.par_chunks_mut(CHUNK)
            .zip(
                sa.par_chunks(CHUNK)
                    .zip(sb.par_chunks(CHUNK).zip(sc.par_chunks(CHUNK))),
            )
            .for_each(|(o, (x, (y, z)))| body(o, x, y, z));
    } else {
        body(&mut out, sa, sb, sc);
    }
    ArrayD::from_shape_vec(a.raw_dim(), out).expect("same shape")
}
