//! The error shapes that several crates share. Each crate keeps its own
//! `Error` type and holds these in its variants, e.g.
//!
//! ```
//! # use fanaroff_core::{Invalid, IoError};
//! #[derive(Debug, thiserror::Error)]
//! enum Error {
//!     #[error(transparent)]
//!     Io(#[from] IoError),
//!     #[error(transparent)]
//!     InvalidConfig(Invalid),
//!     #[error(transparent)]
//!     InvalidInput(Invalid),
//! }
//!
//! fanaroff_core::invalid_variants!(Error);
//!
//! fn read(path: &std::path::Path) -> Result<String, Error> {
//!     Ok(std::fs::read_to_string(path).map_err(fanaroff_core::io(path))?)
//! }
//!
//! fn rate(x: f64) -> Result<f64, Error> {
//!     if !(0.0..=1.0).contains(&x) {
//!         return Err(fanaroff_core::config("rate", format!("{x}; must be in [0, 1]")));
//!     }
//!     Ok(x)
//! }
//!
//! assert!(read("/no/such/file".as_ref()).unwrap_err().to_string().starts_with("/no/such/file: "));
//! assert_eq!(rate(2.0).unwrap_err().to_string(), "rate: 2; must be in [0, 1]");
//! ```

use std::path::{Path, PathBuf};

/// Reading or writing a file failed: the file and the operating-system
/// error. Displays as `PATH: MESSAGE`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct IoError {
    /// The file (or folder) read or written.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: std::io::Error,
}

impl IoError {
    /// The error `source` on `path`.
    pub fn new(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        IoError {
            path: path.into(),
            source,
        }
    }

    /// The kind of the underlying error.
    #[must_use]
    pub fn kind(&self) -> std::io::ErrorKind {
        self.source.kind()
    }
}

/// Maps an I/O error to an [`IoError`] naming `path`, for `map_err`:
/// `std::fs::read(path).map_err(io(path))?`.
pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IoError + '_ {
    move |source| IoError::new(path, source)
}

/// A setting outside its valid range, or input an operation cannot use:
/// which setting or function, and what was wrong. Displays as
/// `WHAT: WHY`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {why}")]
pub struct Invalid {
    /// Which setting, type or function.
    pub what: String,
    /// What was wrong (the value given and the valid range, say).
    pub why: String,
}

impl Invalid {
    /// `what` was invalid because of `why`.
    pub fn new(what: impl Into<String>, why: impl Into<String>) -> Self {
        Invalid {
            what: what.into(),
            why: why.into(),
        }
    }
}

/// An error type with one variant for invalid settings and one for
/// invalid input, both holding an [`Invalid`]; [`config`] and [`input`]
/// build either.
pub trait InvalidVariants {
    /// The variant for a setting outside its valid range.
    fn invalid_config(e: Invalid) -> Self;
    /// The variant for input that an operation cannot use.
    fn invalid_input(e: Invalid) -> Self;
}

/// The invalid-setting error of `E`: setting `what` is wrong because of
/// `why`.
pub fn config<E: InvalidVariants>(what: impl Into<String>, why: impl Into<String>) -> E {
    E::invalid_config(Invalid::new(what, why))
}

/// The invalid-input error of `E`: the input of `what` is wrong because
/// of `why`.
pub fn input<E: InvalidVariants>(what: impl Into<String>, why: impl Into<String>) -> E {
    E::invalid_input(Invalid::new(what, why))
}

/// Implements [`InvalidVariants`] for an error enum whose variants
/// `InvalidConfig` and `InvalidInput` hold an [`Invalid`], so that
/// [`config`] and [`input`] build them: `invalid_variants!(Error);`.
#[macro_export]
macro_rules! invalid_variants {
    ($name:ident) => {
        /// [`fanaroff_core::config`] and [`fanaroff_core::input`] build
        /// the `InvalidConfig` and `InvalidInput` variants.
        impl $crate::InvalidVariants for $name {
            fn invalid_config(e: $crate::Invalid) -> Self {
                $name::InvalidConfig(e)
            }
            fn invalid_input(e: $crate::Invalid) -> Self {
                $name::InvalidInput(e)
            }
        }
    };
}
