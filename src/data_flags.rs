//! `--data PATH` / `--synthetic N` as the examples read them.

use crate::{DEFAULT_DATA, Flags};
use fanaroff::cli::DataSpec;
use std::path::{Path, PathBuf};

/// Sets the source of `spec` from `--synthetic N` or `--data PATH` (a named
/// path must exist when the data is loaded); with neither, the default
/// release when it is present, else 832 synthetic galaxies with a notice.
///
/// # Errors
/// A flag value that does not parse.
pub fn data_source(f: &Flags, spec: &mut DataSpec) -> Result<(), String> {
    spec.mirabest = None;
    spec.synthetic = None;
    match (f.opt::<usize>("--synthetic")?, f.opt::<PathBuf>("--data")?) {
        (Some(n), _) => spec.synthetic = Some(n),
        (None, Some(p)) => spec.mirabest = Some(p),
        (None, None) if Path::new(DEFAULT_DATA).exists() => {
            spec.mirabest = Some(DEFAULT_DATA.into());
        }
        (None, None) => {
            eprintln!("notice: {DEFAULT_DATA} not found; using 832 synthetic galaxies");
            spec.synthetic = Some(832);
        }
    }
    Ok(())
}
