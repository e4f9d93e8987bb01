//! Helpers shared by the runnable examples and benches of the fanaroff
//! workspace. Library users want the [`fanaroff`] crate instead.
#![deny(missing_docs)]

pub use fanaroff;
