//! Timing helpers shared by the benchmark examples (`13_bench_lenet`,
//! `15_bench_vs_reference`, `bench_attention`), whose JSON the PyTorch
//! reference scripts mirror.

use serde_json::{Value, json};
use std::time::Instant;

/// The error type of the benchmark examples.
pub type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Wall-clock seconds of `repeats` calls of `f`, after `warmup` untimed ones.
///
/// # Errors
/// The first error of `f`.
pub fn timed(
    f: &mut dyn FnMut() -> BenchResult<()>,
    repeats: usize,
    warmup: usize,
) -> BenchResult<Vec<f64>> {
    for _ in 0..warmup {
        f()?;
    }
    let mut ts = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let t0 = Instant::now();
        f()?;
        ts.push(t0.elapsed().as_secs_f64());
    }
    Ok(ts)
}

/// `{median, min, max, n, all}` of a list of timings.
pub fn summarize(ts: &[f64]) -> Value {
    let min = ts.iter().copied().fold(f64::INFINITY, f64::min);
    let max = ts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    json!({"median": crate::median(ts.to_vec()), "min": min, "max": max, "n": ts.len(), "all": ts})
}

/// Peak resident memory of this process (Linux `VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}
