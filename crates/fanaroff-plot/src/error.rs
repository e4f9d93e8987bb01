//! The one error type of the crate.

use fanaroff_core::IoError;
use std::path::PathBuf;

/// What can go wrong when building or writing a figure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that cannot be drawn (mismatched lengths, empty grid, unknown column).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The file extension names no format this crate writes.
    #[error("{}: unknown figure format (use .png or .svg)", .0.display())]
    UnknownFormat(PathBuf),
    /// Reading or writing a file.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The drawing backend failed (font, encoder).
    #[error("drawing failed: {0}")]
    Draw(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Turns any plotters error into [`Error::Draw`].
pub(crate) fn draw_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::Draw(format!("{e:?}"))
}
