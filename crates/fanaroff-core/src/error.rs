//! The error shapes that several crates share, and the variants that
//! their `Error` types have in common, declared once in [`Error`]: a
//! setting outside its valid range ([`Error::InvalidConfig`]), input an
//! operation cannot use ([`Error::InvalidInput`]), and a failed read or
//! write ([`Error::Io`]). Each crate keeps its own `Error` type, holds
//! [`Error`] in one transparent variant `Core`, and lets
//! [`core_variant!`](crate::core_variant) add the conversion from
//! [`IoError`] and the kind accessors, e.g.
//!
//! ```
//! #[derive(Debug, thiserror::Error)]
//! enum Error {
//!     /// A setting or input that cannot be used, or a failed read or write.
//!     #[error(transparent)]
//!     Core(#[from] fanaroff_core::Error),
//!     /// The crate's own errors.
//!     #[error("diverged at step {0}")]
//!     Diverged(usize),
//! }
//!
//! fanaroff_core::core_variant!(Error);
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
//! // Displays as the error it holds.
//! let e = read("/no/such/file".as_ref()).unwrap_err();
//! assert!(e.to_string().starts_with("/no/such/file: "));
//! assert_eq!(e.io_kind(), Some(std::io::ErrorKind::NotFound));
//!
//! let e = rate(2.0).unwrap_err();
//! assert_eq!(e.to_string(), "rate: 2; must be in [0, 1]");
//! assert!(e.is_invalid_config() && !e.is_invalid_input());
//!
//! // Or match on the kind.
//! match e {
//!     Error::Core(fanaroff_core::Error::InvalidConfig(i)) => assert_eq!(i.what, "rate"),
//!     other => panic!("unexpected {other}"),
//! }
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

/// The variants that the crates' `Error` types share. Each crate's
/// `Error` holds it in one transparent variant `Core` (see the
/// [module documentation](self)), so it displays as the [`Invalid`] or
/// [`IoError`] it holds. [`config`], [`input`] and [`io`] build it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting outside its valid range, or settings that contradict
    /// each other.
    #[error(transparent)]
    InvalidConfig(Invalid),
    /// Input that an operation cannot use (empty, NaN, wrong shape, a
    /// label out of range ...).
    #[error(transparent)]
    InvalidInput(Invalid),
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

impl Error {
    /// Whether this is an [`Error::InvalidConfig`].
    #[must_use]
    pub fn is_invalid_config(&self) -> bool {
        matches!(self, Error::InvalidConfig(_))
    }

    /// Whether this is an [`Error::InvalidInput`].
    #[must_use]
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Error::InvalidInput(_))
    }

    /// What was invalid, for an [`Error::InvalidConfig`] or an
    /// [`Error::InvalidInput`].
    #[must_use]
    pub fn invalid(&self) -> Option<&Invalid> {
        match self {
            Error::InvalidConfig(i) | Error::InvalidInput(i) => Some(i),
            Error::Io(_) => None,
        }
    }

    /// The kind of the operating-system error, for an [`Error::Io`].
    #[must_use]
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        match self {
            Error::Io(e) => Some(e.kind()),
            Error::InvalidConfig(_) | Error::InvalidInput(_) => None,
        }
    }
}

/// The invalid-setting error ([`Error::InvalidConfig`]) as an `E`: setting
/// `what` is wrong because of `why`.
pub fn config<E: From<Error>>(what: impl Into<String>, why: impl Into<String>) -> E {
    Error::InvalidConfig(Invalid::new(what, why)).into()
}

/// The invalid-input error ([`Error::InvalidInput`]) as an `E`: the input
/// of `what` is wrong because of `why`.
pub fn input<E: From<Error>>(what: impl Into<String>, why: impl Into<String>) -> E {
    Error::InvalidInput(Invalid::new(what, why)).into()
}

/// For an error enum whose variant `Core` holds an [`Error`]
/// (`Core(#[from] fanaroff_core::Error)`): implements `From<IoError>`, so
/// that `?` works on [`io`]'s results, and adds the methods `core`,
/// `is_invalid_config`, `is_invalid_input` and `io_kind`, which look at
/// that variant only (not into errors of other crates that the enum
/// wraps). Use: `fanaroff_core::core_variant!(Error);`.
#[macro_export]
macro_rules! core_variant {
    ($name:ident) => {
        /// A failed read or write becomes the `Core` variant's
        /// [`fanaroff_core::Error::Io`].
        impl ::std::convert::From<$crate::IoError> for $name {
            fn from(e: $crate::IoError) -> Self {
                $name::Core($crate::Error::Io(e))
            }
        }

        impl $name {
            /// The error held by the `Core` variant, the kind that the
            /// crates share ([`fanaroff_core::Error`]); `None` for any
            /// other variant.
            #[must_use]
            pub fn core(&self) -> ::std::option::Option<&$crate::Error> {
                #[allow(unreachable_patterns)]
                match self {
                    $name::Core(e) => ::std::option::Option::Some(e),
                    _ => ::std::option::Option::None,
                }
            }

            /// Whether this is a setting outside its valid range
            /// ([`fanaroff_core::Error::InvalidConfig`]).
            #[must_use]
            pub fn is_invalid_config(&self) -> bool {
                self.core().is_some_and($crate::Error::is_invalid_config)
            }

            /// Whether this is input that an operation cannot use
            /// ([`fanaroff_core::Error::InvalidInput`]).
            #[must_use]
            pub fn is_invalid_input(&self) -> bool {
                self.core().is_some_and($crate::Error::is_invalid_input)
            }

            /// The kind of the operating-system error, for a failed read
            /// or write ([`fanaroff_core::Error::Io`]).
            #[must_use]
            pub fn io_kind(&self) -> ::std::option::Option<::std::io::ErrorKind> {
                self.core().and_then($crate::Error::io_kind)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::{Error, Invalid, IoError};
    use std::error::Error as _;
    use std::io::ErrorKind;

    /// A crate's error: the shared variants and one of its own.
    #[derive(Debug, thiserror::Error)]
    enum Inner {
        #[error(transparent)]
        Core(#[from] Error),
        #[error("own: {0}")]
        Own(usize),
    }
    crate::core_variant!(Inner);

    /// A crate that wraps `Inner`, as `fanaroff-train` wraps `fanaroff-nn`.
    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error(transparent)]
        Inner(#[from] Inner),
        #[error(transparent)]
        Core(#[from] Error),
    }
    crate::core_variant!(Outer);

    fn not_found(path: &str) -> IoError {
        IoError::new(path, std::io::Error::new(ErrorKind::NotFound, "gone"))
    }

    fn read(path: &str) -> Result<(), Inner> {
        let r: Result<(), IoError> = Err(not_found(path));
        r?;
        Ok(())
    }

    fn inner() -> Result<(), Inner> {
        Err(Inner::Own(3))
    }

    fn outer() -> Result<(), Outer> {
        inner()?;
        Ok(())
    }

    #[test]
    fn displays_as_the_error_held() {
        let e: Inner = super::config("lr", "-1; must be > 0");
        assert_eq!(e.to_string(), "lr: -1; must be > 0");
        assert!(e.source().is_none());
        let e: Outer = super::input("loss", "empty batch");
        assert_eq!(e.to_string(), "loss: empty batch");
        let e = read("/data/x.npy").unwrap_err();
        assert_eq!(e.to_string(), "/data/x.npy: gone");
        assert_eq!(e.source().unwrap().to_string(), "gone");
        assert_eq!(Inner::Own(3).to_string(), "own: 3");
    }

    #[test]
    fn conversions() {
        // `?` on an IoError, and `config` / `input` into any crate's error.
        let e = read("/x").unwrap_err();
        assert!(matches!(&e, Inner::Core(Error::Io(io)) if io.path.as_os_str() == "/x"));
        let e: Error = super::config("rate", "2");
        assert_eq!(e.invalid(), Some(&Invalid::new("rate", "2")));
        let e: Outer = Inner::from(e).into();
        assert!(matches!(
            e,
            Outer::Inner(Inner::Core(Error::InvalidConfig(_)))
        ));
        let e: Outer = not_found("/y").into();
        assert!(matches!(e, Outer::Core(Error::Io(_))));
        assert!(matches!(outer(), Err(Outer::Inner(Inner::Own(3)))));
    }

    #[test]
    fn kind_accessors() {
        let e: Error = super::config("rate", "2");
        assert!(e.is_invalid_config() && !e.is_invalid_input());
        assert_eq!(e.io_kind(), None);
        let e: Error = super::input("batch", "empty");
        assert!(e.is_invalid_input() && !e.is_invalid_config());
        assert_eq!(e.invalid().map(|i| i.what.as_str()), Some("batch"));
        let e = Error::from(not_found("/z"));
        assert_eq!(e.io_kind(), Some(ErrorKind::NotFound));
        assert_eq!(e.invalid(), None);

        let e: Inner = super::input("batch", "empty");
        assert!(e.is_invalid_input() && !e.is_invalid_config());
        assert_eq!(
            e.core().and_then(Error::invalid).map(|i| &*i.why),
            Some("empty")
        );
        let e = read("/x").unwrap_err();
        assert_eq!(e.io_kind(), Some(ErrorKind::NotFound));
        assert!(!e.is_invalid_config() && !e.is_invalid_input());
        let e = Inner::Own(1);
        assert!(e.core().is_none() && e.io_kind().is_none());
        assert!(!e.is_invalid_config() && !e.is_invalid_input());

        // The accessors look at the enum's own `Core` variant only.
        let e: Outer = Inner::from(super::config::<Error>("rate", "2")).into();
        assert!(e.core().is_none() && !e.is_invalid_config());
        let e: Outer = super::config("rate", "2");
        assert!(e.is_invalid_config() && !e.is_invalid_input() && e.io_kind().is_none());
    }
}
