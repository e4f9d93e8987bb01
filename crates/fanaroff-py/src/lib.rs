//! The native part of the `fanaroff` Python package (`fanaroff._native`).
//! The Python modules in `python/fanaroff/` give it its documented,
//! typed interface: dtype conversions and defaults live there, the
//! computation (without the GIL) here.

mod arrays;
mod calibrate;
mod data;
mod errors;
mod models;
mod scores;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_submodule(&calibrate::module(py)?)?;
    m.add_submodule(&data::module(py)?)?;
    m.add_submodule(&models::module(py)?)?;
    m.add_submodule(&scores::module(py)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
