//! The one global switch for how many threads the kernels use.

use crate::error::{Result, invalid_arg};

/// Sets the number of worker threads used by every parallel kernel (rayon's
/// global pool). Call it once, before any tensor work; results are
/// reproducible for a fixed thread count.
///
/// # Errors
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when `n` is 0 or
/// the pool was already started (by an earlier call or by earlier work).
pub fn set_num_threads(n: usize) -> Result<()> {
    if n == 0 {
        return Err(invalid_arg("set_num_threads", "need at least one thread"));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|e| invalid_arg("set_num_threads", e.to_string()))
}

/// Number of threads the kernels use.
pub fn num_threads() -> usize {
    rayon::current_num_threads()
}
