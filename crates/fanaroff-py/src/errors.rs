//! Rust errors as Python exceptions: a missing file is `FileNotFoundError`,
//! another I/O failure or a file that is not what it claims is `OSError`,
//! everything else (bad values, shapes, settings) is `ValueError`. The
//! message is the Rust message.

use fanaroff_core::IoError;
use pyo3::PyErr;
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyValueError};
use std::io::ErrorKind;

fn io_kind(kind: ErrorKind, msg: String) -> PyErr {
    if kind == ErrorKind::NotFound {
        PyFileNotFoundError::new_err(msg)
    } else {
        PyOSError::new_err(msg)
    }
}

fn io(e: &IoError, msg: String) -> PyErr {
    io_kind(e.kind(), msg)
}

/// A data error: missing, unreadable or corrupt files are I/O errors.
pub fn data(e: fanaroff_data::Error) -> PyErr {
    use fanaroff_data::Error as E;
    let msg = e.to_string();
    match &e {
        E::NotFound { .. } => PyFileNotFoundError::new_err(msg),
        E::Io(io_err) => io(io_err, msg),
        E::Pickle { .. } | E::Format { .. } | E::Checksum { .. } | E::Fits { .. } => {
            PyOSError::new_err(msg)
        }
        _ => PyValueError::new_err(msg),
    }
}

/// An error of the experiment runner and the saved runs.
pub fn cli(e: fanaroff_cli::Error) -> PyErr {
    use fanaroff_cli::Error as E;
    match e {
        E::Io(io_err) => {
            let msg = io_err.to_string();
            io(&io_err, msg)
        }
        E::Data(d) => data(d),
        E::Parse { .. } => PyValueError::new_err(e.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// Any other error of the workspace: a bad value.
pub fn value(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Runs `f`, turning a panic (a bug: inputs are checked before) into a
/// `RuntimeError` instead of letting it reach the interpreter.
pub fn guarded<T>(f: impl FnOnce() -> pyo3::PyResult<T>) -> pyo3::PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let what = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                "internal error in fanaroff (please report it): {what}"
            )))
        }
    }
}
