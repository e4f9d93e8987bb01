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

/// Reads one member (by base name) of a `.tar.gz` into memory.
pub fn tar_member(archive: &std::path::Path, name: &str) -> Vec<u8> {
    use std::io::Read;
    let f = std::fs::File::open(archive).unwrap_or_else(|e| panic!("{}: {e}", archive.display()));
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    for entry in ar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_path_buf();
        if path.file_name().is_some_and(|n| n == name) && !path.to_string_lossy().contains(".ipynb")
        {
            let mut v = Vec::new();
            entry.read_to_end(&mut v).unwrap();
            return v;
        }
    }
    panic!("{name} not in {}", archive.display());
}

/// A fresh, empty scratch folder under the system temp dir.
pub fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fanaroff-data-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Minimal FITS bytes: header cards (keyword, value) + big-endian data.
pub fn fits_bytes(cards: &[(&str, &str)], data: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (k, v) in cards {
        let card = format!("{k:<8}= {v:>20}");
        h.extend_from_slice(format!("{card:<80}").as_bytes());
    }
    h.extend_from_slice(format!("{:<80}", "END").as_bytes());
    while h.len() % 2880 != 0 {
        h.push(b' ');
    }
    h.extend_from_slice(data);
    while h.len() % 2880 != 0 {
        h.push(0);
    }
    h
}
