//! Recycling of large buffers between operations.
//!
//! A training step allocates the same large activations and gradients every
//! time (26 MB for the first LeNet layer at batch 50). Fresh allocations of
//! that size are served by `mmap` and cost a page fault per 4 KiB on first
//! touch, which measured at about a quarter of a step. Tensors therefore
//! hand their storage back here when dropped, and kernels take buffers of
//! the same length from here first. Only buffers of at least
//! [`MIN_LEN`] elements are kept, at most [`MAX_BYTES`] in total.

use std::sync::Mutex;

/// Smallest buffer worth keeping (256 KiB of f32).
const MIN_LEN: usize = 1 << 16;
/// Upper bound on the memory the pool holds.
const MAX_BYTES: usize = 1 << 28;

static POOL: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());

/// A buffer of exactly `len` elements with arbitrary (but initialised)
/// contents, for kernels that overwrite every element.
pub(crate) fn take_dirty(len: usize) -> Vec<f32> {
    if len >= MIN_LEN
        && let Ok(mut pool) = POOL.lock()
        && let Some(i) = pool
            .iter()
            .position(|v| v.len() >= len && v.len() <= len + len / 4)
    {
        let mut v = pool.swap_remove(i);
        v.truncate(len);
        return v;
    }
    vec![0.0; len]
}

/// A zero-filled buffer of `len` elements.
pub(crate) fn take_zeroed(len: usize) -> Vec<f32> {
    let mut v = take_dirty(len);
    if len >= MIN_LEN {
        v.fill(0.0);
    }
    v
}

/// Gives a buffer back for reuse (small ones are simply freed).
pub(crate) fn recycle(v: Vec<f32>) {
    if v.len() < MIN_LEN {
        return;
    }
    if let Ok(mut pool) = POOL.lock() {
        let mut held: usize = pool.iter().map(|b| b.capacity() * 4).sum();
        while held + v.capacity() * 4 > MAX_BYTES && !pool.is_empty() {
            let old = pool.remove(0);
            held -= old.capacity() * 4;
        }
        if held + v.capacity() * 4 <= MAX_BYTES {
            pool.push(v);
        }
    }
}

/// Returns an array's storage to the pool.
pub(crate) fn recycle_array(a: ndarray::ArrayD<f32>) {
    if a.len() >= MIN_LEN {
        recycle(a.into_raw_vec_and_offset().0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_a_buffer_of_the_same_length() {
        let v = vec![1.0f32; MIN_LEN + 3];
        let ptr = v.as_ptr();
        recycle(v);
        let w = take_zeroed(MIN_LEN + 3);
        assert_eq!(w.len(), MIN_LEN + 3);
        assert!(w.iter().all(|&x| x == 0.0));
        // usually the same allocation (another test thread may have taken it)
        let _ = ptr;
        let small = take_dirty(10);
        assert_eq!(small, vec![0.0; 10]);
    }
}
