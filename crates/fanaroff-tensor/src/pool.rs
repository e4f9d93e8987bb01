//! Recycling of large buffers between operations.
//!
//! A training step allocates the same large activations and gradients every
//! time (26 MB for the first LeNet layer at batch 50). Fresh allocations of
//! that size are served by `mmap` and cost a page fault per 4 KiB on first
//! touch, which measured at about a quarter of a step. Tensors therefore
//! hand their storage back here when dropped, and kernels take buffers of
//! the same length from here first. Only buffers of at least
//! [`MIN_LEN`] elements are kept, at most [`max_bytes`] in total
//! ([`MAX_BYTES`] unless [`set_max_bytes`] changed it).
//!
//! Crates that write their own [`Backward`](crate::Backward) ops take their
//! large outputs from here too, so that the graph hands them back after use:
//!
//! ```
//! use fanaroff_tensor::pool;
//! let mut v = pool::take_dirty(1 << 17); // contents arbitrary: overwrite all
//! v.fill(1.0);
//! pool::recycle(v); // the next request of this length gets it back
//! assert!(pool::take_zeroed(1 << 17).iter().all(|&x| x == 0.0));
//! ```

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Smallest buffer worth keeping (256 KiB of f32).
pub const MIN_LEN: usize = 1 << 16;
/// Default upper bound on the memory the pool holds (512 MiB): enough for a
/// training step of the LeNet at batch 50 and of the attention-gated CNN at
/// batch 16 (which missed 190 buffers, 1.27 GB, per epoch at 256 MiB and
/// none at 512), with both peaks below PyTorch's (`docs/performance.md`,
/// sitting 8); see [`set_max_bytes`].
pub const MAX_BYTES: usize = 1 << 29;

static LIMIT: AtomicUsize = AtomicUsize::new(MAX_BYTES);

/// Sets the upper bound on the memory the pool holds (for all threads).
/// Networks with larger activations than the pool holds re-allocate them
/// every step, and fresh large allocations cost a page fault per 4 KiB.
/// Spares above a lowered bound are dropped as buffers come back.
///
/// ```
/// fanaroff_tensor::pool::set_max_bytes(1 << 30);
/// assert_eq!(fanaroff_tensor::pool::max_bytes(), 1 << 30);
/// # fanaroff_tensor::pool::set_max_bytes(fanaroff_tensor::pool::MAX_BYTES);
/// ```
pub fn set_max_bytes(bytes: usize) {
    LIMIT.store(bytes, Ordering::Relaxed);
}

/// The current upper bound on the memory the pool holds.
pub fn max_bytes() -> usize {
    LIMIT.load(Ordering::Relaxed)
}

/// A set of spare buffers. The crate uses one for values, [`POOL`], and one
/// for the positions max pooling records, [`INDICES`]; tests make their own
/// so that other test threads cannot take their buffers.
struct Pool<T> {
    spare: Mutex<Vec<Vec<T>>>,
    counters: Counters,
}

/// Counters of one pool: requests of at least [`MIN_LEN`] elements served
/// from the spares (`hits`) or not (`misses`, elements), and spares dropped
/// to stay under the bound (elements).
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    missed: AtomicU64,
    dropped: AtomicU64,
    dropped_len: AtomicU64,
}

/// What the value pool did since the program started (all threads): a
/// steady state of a training loop shows no new misses. Differences of two
/// snapshots measure a stretch of work, see [`PoolStats::since`].
///
/// ```
/// use fanaroff_tensor::pool;
/// let before = pool::stats();
/// let v = pool::take_dirty(1 << 20);
/// let after = pool::stats().since(&before);
/// assert!(after.hits + after.misses >= 1);
/// # drop(v);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Large requests served by a spare buffer.
    pub hits: u64,
    /// Large requests that needed a fresh allocation.
    pub misses: u64,
    /// Bytes of those fresh allocations.
    pub missed_bytes: u64,
    /// Spares freed to keep the pool under [`max_bytes`].
    pub dropped: u64,
    /// Bytes of the freed spares.
    pub dropped_bytes: u64,
}

impl PoolStats {
    /// The counts between `earlier` and `self`.
    pub fn since(&self, earlier: &PoolStats) -> PoolStats {
        PoolStats {
            hits: self.hits - earlier.hits,
            misses: self.misses - earlier.misses,
            missed_bytes: self.missed_bytes - earlier.missed_bytes,
            dropped: self.dropped - earlier.dropped,
            dropped_bytes: self.dropped_bytes - earlier.dropped_bytes,
        }
    }
}

/// The value pool's counters (see [`PoolStats`]).
pub fn stats() -> PoolStats {
    POOL.stats()
}

static POOL: Pool<f32> = Pool::new();
static INDICES: Pool<u32> = Pool::new();

impl<T> Pool<T> {
    const fn new() -> Self {
        Pool {
            spare: Mutex::new(Vec::new()),
            counters: Counters {
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                missed: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                dropped_len: AtomicU64::new(0),
            },
        }
    }

    fn stats(&self) -> PoolStats {
        let c = &self.counters;
        let size = std::mem::size_of::<T>() as u64;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        PoolStats {
            hits: get(&c.hits),
            misses: get(&c.misses),
            missed_bytes: get(&c.missed) * size,
            dropped: get(&c.dropped),
            dropped_bytes: get(&c.dropped_len) * size,
        }
    }

    fn count_request(&self, len: usize, hit: bool) {
        let c = &self.counters;
        if hit {
            c.hits.fetch_add(1, Ordering::Relaxed);
        } else {
            c.misses.fetch_add(1, Ordering::Relaxed);
            c.missed.fetch_add(len as u64, Ordering::Relaxed);
        }
    }

    /// A spare buffer with room for `len..=len + len / 4` elements, set to
    /// `len` elements, if any. Matching on the capacity rather than the
    /// length matters: a buffer once cut to a shorter length keeps serving
    /// the size it was allocated for (its new tail, if any, is zeroed).
    /// Among the candidates the smallest (then the oldest) wins, so that a
    /// request does not take the only buffer of a slightly larger size
    /// while one of its own size waits: with the first fit, the order in
    /// which worker threads asked decided which size was missed next.
    fn take(&self, len: usize) -> Option<Vec<T>>
    where
        T: Copy + Default,
    {
        if len < MIN_LEN {
            return None;
        }
        let mut spare = self.spare.lock().ok()?;
        let found = best_fit(&spare, len);
        self.count_request(len, found.is_some());
        let mut v = spare.remove(found?);
        v.resize(len, T::default());
        Some(v)
    }

    /// Keeps `v` (when large enough), dropping the oldest spares to stay
    /// under [`max_bytes`].
    fn give(&self, v: Vec<T>) {
        self.give_within(v, max_bytes());
    }

    /// Keeps `v` (when large enough); over `limit` bytes, drops spares
    /// (see [`victim`]) until the rest fits.
    fn give_within(&self, v: Vec<T>, limit: usize) {
        let bytes = |b: &Vec<T>| b.capacity() * std::mem::size_of::<T>();
        if v.len() < MIN_LEN {
            return;
        }
        let Ok(mut spare) = self.spare.lock() else {
            return;
        };
        spare.push(v);
        let mut held: usize = spare.iter().map(bytes).sum();
        while held > limit {
            let Some(i) = victim(&spare) else { break };
            let old = spare.remove(i);
            held -= bytes(&old);
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            let len = old.capacity() as u64;
            self.counters.dropped_len.fetch_add(len, Ordering::Relaxed);
        }
    }
}

/// The position of the smallest spare (the oldest among equals) whose
/// capacity lies in `len..=len + len / 4`.
fn best_fit<T>(spare: &[Vec<T>], len: usize) -> Option<usize> {
    // `min_by_key` returns the first of equal minima: the oldest.
    (spare.iter().map(Vec::capacity).enumerate())
        .filter(|&(_, c)| c >= len && c <= len + len / 4)
        .min_by_key(|&(_, c)| c)
        .map(|(i, _)| i)
}

/// The spare to drop first: one of the size held in most copies, the
/// oldest of those. A training step asks for each of its sizes again in
/// the next step, so the pool keeps one buffer of every size as long as it
/// can: the only buffer of a size, dropped, is missed at its next request,
/// while a dropped duplicate is missed only when all copies are in use at
/// once. (Oldest-first dropped the first layer's 26 MB activation, the
/// earliest buffer returned, several times per epoch.)
fn victim<T>(spare: &[Vec<T>]) -> Option<usize> {
    let copies = |cap: usize| spare.iter().filter(|b| b.capacity() == cap).count();
    let most = spare.iter().map(|b| copies(b.capacity())).max()?;
    spare.iter().position(|b| copies(b.capacity()) == most)
}

/// A buffer of exactly `len` elements with arbitrary (but initialised)
/// contents, for kernels that overwrite every element.
pub fn take_dirty(len: usize) -> Vec<f32> {
    POOL.take(len).unwrap_or_else(|| vec![0.0; len])
}

/// A zero-filled buffer of `len` elements.
pub fn take_zeroed(len: usize) -> Vec<f32> {
    match POOL.take(len) {
        Some(mut v) => {
            v.fill(0.0);
            v
        }
        None => vec![0.0; len],
    }
}

/// Gives a buffer back for reuse (small ones are simply freed).
pub fn recycle(v: Vec<f32>) {
    POOL.give(v);
}

/// A buffer of `len` positions with arbitrary contents, for kernels that
/// overwrite every element (max pooling's argmax).
pub(crate) fn take_indices(len: usize) -> Vec<u32> {
    INDICES.take(len).unwrap_or_else(|| vec![0; len])
}

/// Gives a buffer of positions back for reuse.
pub(crate) fn recycle_indices(v: Vec<u32>) {
    INDICES.give(v);
}

/// Returns an array's storage to the pool.
pub fn recycle_array(a: ndarray::ArrayD<f32>) {
    if a.len() >= MIN_LEN {
        recycle(a.into_raw_vec_and_offset().0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_a_buffer_of_the_same_length() {
        let pool = Pool::new();
        let v = vec![1.0f32; MIN_LEN + 3];
        let ptr = v.as_ptr();
        pool.give(v);
        let w = pool.take(MIN_LEN + 3).expect("the spare buffer");
        assert_eq!(w.as_ptr(), ptr, "the same allocation comes back");
        assert_eq!(w.len(), MIN_LEN + 3);
        assert!(pool.take(MIN_LEN + 3).is_none(), "taken only once");
    }

    #[test]
    fn serves_slightly_shorter_requests_and_skips_small_or_distant_ones() {
        let pool = Pool::new();
        pool.give(vec![2.0f32; MIN_LEN + 100]);
        assert!(pool.take(2 * MIN_LEN).is_none(), "too short");
        assert!(pool.take(MIN_LEN / 2).is_none(), "below MIN_LEN");
        let w = pool.take(MIN_LEN + 90).expect("within a quarter");
        assert_eq!(w.len(), MIN_LEN + 90);
        pool.give(vec![0.0f32; 10]);
        assert!(
            pool.spare.lock().unwrap().is_empty(),
            "small buffers are freed"
        );
    }

    #[test]
    fn takes_the_smallest_fitting_spare_whatever_the_order() {
        let pool = Pool::new();
        let larger = vec![1.0f32; MIN_LEN + 100];
        let exact = vec![2.0f32; MIN_LEN];
        let exact_ptr = exact.as_ptr();
        pool.give(larger);
        pool.give(exact);
        let w = pool.take(MIN_LEN).expect("a spare fits");
        assert_eq!(w.as_ptr(), exact_ptr, "the exact size, not the first fit");
        let v = pool.take(MIN_LEN + 100).expect("the larger one is left");
        assert_eq!(v.len(), MIN_LEN + 100);
    }

    #[test]
    fn a_buffer_cut_shorter_still_serves_its_full_size() {
        let pool = Pool::new();
        let full = MIN_LEN + 200;
        let v = vec![3.0f32; full];
        let ptr = v.as_ptr();
        pool.give(v);
        let short = pool.take(full - 100).expect("within a quarter");
        assert_eq!(short.len(), full - 100);
        pool.give(short);
        let back = pool.take(full).expect("matched on capacity, not length");
        assert_eq!(back.as_ptr(), ptr, "the same allocation comes back");
        assert_eq!(back.len(), full);
        assert!(
            back[full - 100..].iter().all(|&x| x == 0.0),
            "new tail zeroed"
        );
    }

    #[test]
    fn holds_at_most_max_bytes() {
        let pool = Pool::new();
        let len = MAX_BYTES / 4 / 3 + 1; // three of these exceed the cap
        for _ in 0..3 {
            pool.give_within(vec![0.0f32; len], MAX_BYTES);
        }
        let held: usize = pool
            .spare
            .lock()
            .unwrap()
            .iter()
            .map(|b| b.capacity() * 4)
            .sum();
        assert!(held <= MAX_BYTES);
        assert_eq!(
            pool.spare.lock().unwrap().len(),
            2,
            "the oldest was dropped"
        );
    }

    #[test]
    fn a_lower_bound_drops_the_oldest_spares() {
        let pool = Pool::new();
        let len = MIN_LEN * 2;
        let first = vec![1.0f32; len];
        let ptr = first.as_ptr();
        pool.give_within(first, usize::MAX);
        pool.give_within(vec![2.0f32; len], usize::MAX);
        // room for one: the oldest goes
        pool.give_within(vec![3.0f32; len], len * 4 * 2 - 1);
        let held = pool.spare.lock().unwrap();
        assert_eq!(held.len(), 1);
        assert_ne!(held[0].as_ptr(), ptr, "the oldest was dropped");
        assert_eq!(held[0][0], 3.0, "the newest is kept");
    }

    #[test]
    fn duplicates_go_before_the_only_buffer_of_a_size() {
        let pool = Pool::new();
        let (big, small) = (MIN_LEN * 4, MIN_LEN);
        let only = vec![1.0f32; big];
        let ptr = only.as_ptr();
        pool.give_within(only, usize::MAX); // oldest, the only one of its size
        for _ in 0..3 {
            pool.give_within(vec![2.0f32; small], usize::MAX);
        }
        let held = (big + 3 * small) * 4;
        // one small buffer too many
        pool.give_within(vec![3.0f32; small], held + small * 4 - 1);
        let spare = pool.spare.lock().unwrap();
        assert_eq!(spare.len(), 4);
        assert_eq!(spare[0].as_ptr(), ptr, "the only big buffer stays");
        assert_eq!(spare.iter().filter(|b| b.capacity() == small).count(), 3);
        assert_eq!(
            spare.iter().filter(|b| b[0] == 2.0).count(),
            2,
            "the oldest small one went"
        );
        drop(spare);
        let st = pool.stats();
        assert_eq!((st.dropped, st.dropped_bytes), (1, small as u64 * 4));
    }

    #[test]
    fn counts_hits_and_misses() {
        let pool = Pool::new();
        assert!(pool.take(MIN_LEN).is_none());
        pool.give_within(vec![0.0f32; MIN_LEN], usize::MAX);
        assert!(pool.take(MIN_LEN).is_some());
        assert!(pool.take(10).is_none(), "small requests are not counted");
        let st = pool.stats();
        assert_eq!((st.hits, st.misses), (1, 1));
        assert_eq!(st.missed_bytes, MIN_LEN as u64 * 4);
        assert_eq!(st.since(&st), PoolStats::default());
    }

    #[test]
    fn index_buffers_are_reused_and_counted_in_bytes() {
        let pool = Pool::<u32>::new();
        let v = vec![5u32; MIN_LEN + 1];
        let ptr = v.as_ptr();
        pool.give_within(v, usize::MAX);
        let back = pool.take(MIN_LEN + 1).expect("spare");
        assert_eq!(back.as_ptr(), ptr, "the same allocation comes back");
        // 4 bytes per element: a limit of 4 (MIN_LEN + 1) - 1 bytes keeps nothing
        pool.give_within(vec![0u32; MIN_LEN + 1], 4 * (MIN_LEN + 1) - 1);
        assert!(pool.spare.lock().unwrap().is_empty());
    }

    #[test]
    fn zeroed_buffers_are_zero() {
        recycle(vec![7.0f32; MIN_LEN + 11]);
        let w = take_zeroed(MIN_LEN + 11);
        assert!(w.iter().all(|&x| x == 0.0));
        assert_eq!(take_dirty(10), vec![0.0; 10]);
    }
}
