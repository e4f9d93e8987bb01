//! Counting every allocation of a program, for the benchmark examples'
//! steady-state checks. A program opts in with
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: fanaroff_examples::alloc_count::Counting =
//!     fanaroff_examples::alloc_count::Counting;
//! ```

use crate::timing::BenchResult;
use serde_json::{Value, json};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The system allocator, counting allocations (all threads), so the bench
/// can report what an epoch allocates in the steady state.
pub struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
/// Allocations of at least 256 KiB (fresh pages: page faults on first touch).
static LARGE: AtomicU64 = AtomicU64::new(0);

/// Sizes of the large allocations and how often each occurred (open
/// addressing without locks; sizes beyond the table's 64 slots go uncounted
/// here but still count in [`LARGE`]).
static SIZE_KEYS: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];
static SIZE_COUNTS: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];

fn count_size(size: u64) {
    let start = (size / 64) as usize % SIZE_KEYS.len();
    for k in 0..SIZE_KEYS.len() {
        let i = (start + k) % SIZE_KEYS.len();
        match SIZE_KEYS[i].compare_exchange(0, size, Relaxed, Relaxed) {
            Ok(_) => {}
            Err(held) if held == size => {}
            Err(_) => continue,
        }
        SIZE_COUNTS[i].fetch_add(1, Relaxed);
        return;
    }
}

fn count(size: usize) {
    ALLOCS.fetch_add(1, Relaxed);
    BYTES.fetch_add(size as u64, Relaxed);
    if size >= 256 << 10 {
        LARGE.fetch_add(1, Relaxed);
        count_size(size as u64);
    }
}

/// The current (size in bytes, count) table of large allocations.
fn size_table() -> Vec<(u64, u64)> {
    SIZE_KEYS
        .iter()
        .zip(&SIZE_COUNTS)
        .map(|(k, c)| (k.load(Relaxed), c.load(Relaxed)))
        .filter(|&(k, _)| k > 0)
        .collect()
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations, bytes and large allocations made by `f` (counted only
/// when the program declares [`Counting`] its global allocator), with the
/// buffer pool's hits and misses.
///
/// # Errors
/// The error of `f`.
pub fn allocations(f: &mut dyn FnMut() -> BenchResult<()>) -> BenchResult<Value> {
    let before = [&ALLOCS, &BYTES, &LARGE].map(|c| c.load(Relaxed));
    let sizes_before = size_table();
    let pool_before = fanaroff::tensor::pool::stats();
    f()?;
    let pool = fanaroff::tensor::pool::stats().since(&pool_before);
    println!("pool in that epoch: {pool:?}");
    let [n, b, l] = [&ALLOCS, &BYTES, &LARGE].map(|c| c.load(Relaxed));
    let (n, b, l) = (n - before[0], b - before[1], l - before[2]);
    let mut by_size: Vec<(u64, u64)> = size_table()
        .into_iter()
        .map(|(k, c)| {
            let old = sizes_before.iter().find(|s| s.0 == k).map_or(0, |s| s.1);
            (k, c - old)
        })
        .filter(|&(_, c)| c > 0)
        .collect();
    by_size.sort_by_key(|&(k, c)| (std::cmp::Reverse(k * c), k));
    println!(
        "allocations in one more BBB epoch: {n} ({:.1} MiB), {l} of >= 256 KiB; \
         largest totals by size (bytes x count): {:?}",
        b as f64 / 1048576.0,
        &by_size[..by_size.len().min(8)]
    );
    Ok(json!({
        "count": n, "bytes": b, "large": l, "large_by_size": by_size,
        "pool_hits": pool.hits, "pool_misses": pool.misses, "pool_missed_bytes": pool.missed_bytes,
        "pool_dropped": pool.dropped, "pool_dropped_bytes": pool.dropped_bytes,
    }))
}
