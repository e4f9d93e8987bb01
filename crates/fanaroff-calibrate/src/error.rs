//! The crate's error type.

use fanaroff_core::IoError;

/// Everything that can go wrong in `fanaroff-calibrate`.
///
/// Every variant names the offending input precisely (row, column, value,
/// expected shape) so that a user can fix the data without a debugger.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input has no elements (no samples, no classes or no MC draws).
    #[error("empty input: {what}")]
    Empty {
        /// Which input was empty.
        what: String,
    },
    /// Two inputs disagree on a dimension, or an array has the wrong rank.
    #[error("shape mismatch for {what}: expected {expected}, found {found}")]
    ShapeMismatch {
        /// What was being compared.
        what: String,
        /// The shape (or length) that was required.
        expected: String,
        /// The shape (or length) that was given.
        found: String,
    },
    /// A probability is negative, NaN, infinite or larger than one.
    #[error(
        "invalid probability {value} at {location}: probabilities must be finite and in [0, 1]"
    )]
    InvalidProbability {
        /// Index of the offending entry, e.g. `[3, 1]`.
        location: String,
        /// The offending value.
        value: f64,
    },
    /// A probability vector does not sum to one within the tolerance.
    #[error("probabilities at {location} sum to {}, not 1 (tolerance {tolerance})", short(*.sum))]
    NotNormalised {
        /// Which row, e.g. `row 7` or `sample 2, row 7`.
        location: String,
        /// The sum that was found.
        sum: f64,
        /// The tolerance that was applied.
        tolerance: f64,
    },
    /// A non-finite value (NaN or infinity) where a finite number is required.
    #[error("non-finite value {value} at {location}")]
    NonFinite {
        /// Where the value was found.
        location: String,
        /// The offending value.
        value: f64,
    },
    /// A label is not a valid class index.
    #[error("label {label} at index {index} is out of range for {classes} classes")]
    LabelOutOfRange {
        /// Position of the label.
        index: usize,
        /// The label value.
        label: usize,
        /// The number of classes K (valid labels are `0..K`).
        classes: usize,
    },
    /// A binning with zero bins was requested.
    #[error("the number of bins must be at least 1")]
    ZeroBins,
    /// A metric needs at least two classes (e.g. normalised entropy divides by ln K).
    #[error("{what} needs at least 2 classes, got {classes}")]
    TooFewClasses {
        /// Which computation.
        what: String,
        /// The number of classes given.
        classes: usize,
    },
    /// A ranking metric (AUROC, AUPR) needs both positives and negatives.
    #[error("{what} is undefined: {reason}")]
    Undefined {
        /// Which metric.
        what: String,
        /// Why it cannot be computed.
        reason: String,
    },
    /// A parameter is outside its valid range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: String,
        /// The value given, formatted.
        value: String,
        /// The valid range or the reason it was rejected.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("I/O error on {0}")]
    Io(#[from] IoError),
    /// A `.npy` file is malformed or uses a feature this reader does not support.
    #[error("cannot read .npy file: {reason}")]
    Npy {
        /// What is wrong with the file.
        reason: String,
    },
    /// A CSV file is malformed.
    #[error("CSV line {line}: {reason}")]
    Csv {
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        reason: String,
    },
    /// A figure could not be written (the message names the file).
    #[error("figure: {0}")]
    Figure(String),
    /// JSON serialisation failed (feature `serde`).
    #[cfg(feature = "serde")]
    #[error("JSON serialisation failed: {0}")]
    Json(#[from] serde_json::Error),
    /// Bad command-line usage of the report tool.
    #[error("{0}")]
    Usage(String),
}

/// `v` with at most 10 significant digits and no trailing zeros, so that
/// `0.8999999999999999` prints as `0.9`.
fn short(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return v.to_string();
    }
    let digits = (9 - v.abs().log10().floor() as i32).clamp(0, 17) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn empty(what: impl Into<String>) -> Self {
        Error::Empty { what: what.into() }
    }

    pub(crate) fn shape(
        what: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Error::ShapeMismatch {
            what: what.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    pub(crate) fn param(
        name: impl Into<String>,
        value: impl std::fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        Error::InvalidParameter {
            name: name.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
