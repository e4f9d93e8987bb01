//! Locating `shared/data` for known-answer tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The `shared/data` folder: `$FANAROFF_SHARED` (pointing at `shared/` or
/// `shared/data`), else the first `shared/data` found walking up from this
/// crate. Panics with instructions when it cannot be found: these tests must
/// not pass silently without their data.
pub fn shared_data() -> PathBuf {
    if let Ok(p) = std::env::var("FANAROFF_SHARED") {
        let p = PathBuf::from(p);
        for cand in [p.join("data"), p.clone()] {
            if cand.join("mirabest").is_dir() {
                return cand;
            }
        }
        panic!(
            "FANAROFF_SHARED={} has neither data/mirabest nor mirabest inside",
            p.display()
        );
    }
    let start = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for dir in start.ancestors() {
        let cand = dir.join("shared").join("data");
        if cand.join("mirabest").is_dir() {
            return cand;
        }
    }
    panic!(
        "shared/data not found walking up from {}; clone the data beside the repository \
         (…/shared/data/mirabest) or set FANAROFF_SHARED=/path/to/shared",
        start.display()
    );
}

pub fn full_tar() -> PathBuf {
    shared_data().join("mirabest/MiraBest_full_batches.tar.gz")
}

pub fn basic_tar() -> PathBuf {
    shared_data().join("mirabest/MiraBest_basic_batches.tar.gz")
}

pub fn fits_dir() -> PathBuf {
    shared_data().join("mirabest/fits-sample")
}
