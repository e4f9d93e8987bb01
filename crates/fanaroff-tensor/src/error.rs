//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong when building or differentiating a graph.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// Two operands whose shapes do not fit together.
    #[error("{op}: incompatible shapes {lhs:?} and {rhs:?}")]
    ShapeMismatch {
        /// The operation that was asked for.
        op: &'static str,
        /// Shape of the first operand.
        lhs: Vec<usize>,
        /// Shape of the second operand (or the requested shape).
        rhs: Vec<usize>,
    },
    /// An operand with the wrong number of dimensions or an invalid axis.
    #[error("{op}: {msg} (shape {shape:?})")]
    InvalidShape {
        /// The operation that was asked for.
        op: &'static str,
        /// What was wrong.
        msg: String,
        /// The offending shape.
        shape: Vec<usize>,
    },
    /// A parameter outside its valid range (probability, stride, kernel size ...).
    #[error("{op}: invalid argument: {msg}")]
    InvalidArgument {
        /// The operation that was asked for.
        op: &'static str,
        /// What was wrong.
        msg: String,
    },
    /// `backward` or `item` called on a tensor with more than one element.
    #[error("{op}: expected a scalar (one element), got shape {shape:?}")]
    NotScalar {
        /// The operation that was asked for.
        op: &'static str,
        /// The tensor's shape.
        shape: Vec<usize>,
    },
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn invalid_shape(op: &'static str, msg: impl Into<String>, shape: &[usize]) -> Error {
    Error::InvalidShape {
        op,
        msg: msg.into(),
        shape: shape.to_vec(),
    }
}

pub(crate) fn invalid_arg(op: &'static str, msg: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op,
        msg: msg.into(),
    }
}
