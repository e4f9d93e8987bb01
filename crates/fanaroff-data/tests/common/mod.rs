//! Locating the MiraBest release in `shared/data` for known-answer tests.
//!
//! Tests that need the release start with
//! `let Some(data) = common::mirabest() else { return };`: without the data
//! they say plainly that they were skipped and pass, unless
//! `FANAROFF_REQUIRE_DATA=1` (set by `.ci/run`), which turns absence into a
//! failure with the same message.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// The `shared/data` folder holding `mirabest/`.
pub struct Data(PathBuf);

impl Data {
    /// `mirabest/MiraBest_full_batches.tar.gz`.
    pub fn full_tar(&self) -> PathBuf {
        self.0.join("mirabest/MiraBest_full_batches.tar.gz")
    }

    /// `mirabest/MiraBest_basic_batches.tar.gz`.
    pub fn basic_tar(&self) -> PathBuf {
        self.0.join("mirabest/MiraBest_basic_batches.tar.gz")
    }

    /// `mirabest/fits-sample/`.
    pub fn fits_dir(&self) -> PathBuf {
        self.0.join("mirabest/fits-sample")
    }
}

/// The data: `$FANAROFF_SHARED` (pointing at `shared/` or `shared/data`),
/// else the first `shared/data` found walking up from this crate. `None`
/// after printing why the calling test is skipped; panics instead when
/// `FANAROFF_REQUIRE_DATA=1`. A `FANAROFF_SHARED` without the data counts as
/// absent, like a missing `shared/`.
pub fn mirabest() -> Option<Data> {
    let (found, looked) = match std::env::var_os("FANAROFF_SHARED") {
        Some(p) => {
            let p = PathBuf::from(p);
            let found = [p.join("data"), p.clone()]
                .into_iter()
                .find(|c| has_release(c));
            (
                found,
                format!("FANAROFF_SHARED={} (nor in its data/)", p.display()),
            )
        }
        None => {
            let start = Path::new(env!("CARGO_MANIFEST_DIR"));
            let found = start
                .ancestors()
                .map(|d| d.join("shared/data"))
                .find(|c| has_release(c));
            (found, format!("any shared/data above {}", start.display()))
        }
    };
    if found.is_some() {
        return found.map(Data);
    }
    let msg = format!(
        "MiraBest release not found at {looked}; clone shared/ beside the repository \
         or point FANAROFF_SHARED at it"
    );
    if std::env::var("FANAROFF_REQUIRE_DATA").is_ok_and(|v| v == "1") {
        panic!("FANAROFF_REQUIRE_DATA=1: {msg}");
    }
    // Straight to the stream: the test harness would swallow `eprintln!`.
    let test = std::thread::current().name().unwrap_or("test").to_string();
    let _ = writeln!(std::io::stderr(), "skipped {test}: {msg}");
    None
}

fn has_release(dir: &Path) -> bool {
    dir.join("mirabest").is_dir()
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
