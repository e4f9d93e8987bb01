//! The crate's error type.

use fanaroff_core::IoError;
use std::path::PathBuf;

/// Everything that can go wrong while reading, converting or generating data.
///
/// Every variant that concerns a file names that file, so a message such as
/// `…/data_batch_3: corrupt pickle at byte 1523: unexpected end of data`
/// tells the user where to look.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder does not exist; `hint` says how to obtain it.
    #[error("{path}: not found. {hint}")]
    NotFound {
        /// The path that was looked for.
        path: PathBuf,
        /// How to get the missing data.
        hint: String,
    },
    /// An operating-system error while reading or writing a file ("not
    /// found" becomes [`Error::NotFound`] on conversion from [`IoError`]).
    #[error(transparent)]
    Io(IoError),
    /// The bytes are not a pickle this crate can decode (truncated, corrupt,
    /// or using an unsupported feature).
    #[error("{file}: corrupt or unsupported pickle at byte {offset}: {reason}")]
    Pickle {
        /// The file (or archive member) being decoded.
        file: String,
        /// Byte offset of the opcode that failed.
        offset: usize,
        /// What went wrong.
        reason: String,
    },
    /// A well-formed file whose content does not have the expected layout
    /// (a pickle of another shape, inconsistent lengths, unknown labels, …).
    #[error("{file}: unexpected content: {reason}")]
    Format {
        /// The file (or archive member) being read.
        file: String,
        /// What was expected and what was found.
        reason: String,
    },
    /// A file's MD5 digest differs from the one listed in the release.
    #[error("{file}: md5 mismatch: the release lists {expected}, the file has {actual}")]
    Checksum {
        /// The file whose digest was checked.
        file: String,
        /// Digest listed in the release's `hash.md5`.
        expected: String,
        /// Digest of the bytes actually read.
        actual: String,
    },
    /// A FITS file that cannot be read or is not a 2-D floating-point image.
    #[error("{file}: FITS: {reason}")]
    Fits {
        /// The FITS file.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An image without a single finite pixel (all NaN or infinite).
    #[error("{file}: image has no finite pixels (all NaN/inf), cannot be scaled")]
    NoFinitePixels {
        /// The file (or image name) concerned.
        file: String,
    },
    /// A parameter outside its valid range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// Name of the parameter.
        name: &'static str,
        /// The valid range and the value given.
        reason: String,
    },
    /// Arrays whose shapes or lengths do not fit together.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A download failed: the server refused the request, or the connection
    /// broke (a partial download is kept and resumed by the next attempt).
    #[error("{url}: download failed: {reason}")]
    Download {
        /// The URL requested.
        url: String,
        /// The server's status or the transport error.
        reason: String,
    },
    /// A downloaded file whose MD5 digest is not the expected one; the bytes
    /// were removed, nothing was saved.
    #[error(
        "{url}: downloaded bytes have md5 {actual}, expected {expected}; \
         removed them, nothing was saved"
    )]
    DownloadChecksum {
        /// The URL downloaded.
        url: String,
        /// The digest that was asked for.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// A PNG could not be encoded or written.
    #[error("{path}: PNG encoding failed: {reason}")]
    Png {
        /// The PNG file being written.
        path: PathBuf,
        /// The encoder's message.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Wraps an I/O error, turning "not found" into [`Error::NotFound`] with a
/// hint on how to get the data.
impl From<IoError> for Error {
    fn from(e: IoError) -> Self {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound {
                path: e.path,
                hint: crate::mirabest::DOWNLOAD_HINT.to_string(),
            }
        } else {
            Error::Io(e)
        }
    }
}

impl Error {
    /// Shorthand for [`Error::Format`].
    pub(crate) fn format(file: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Format {
            file: file.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::InvalidParameter`].
    pub(crate) fn param(name: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidParameter {
            name,
            reason: reason.into(),
        }
    }
}
