//! The built-in step wrappers (see [`StepSpec`](crate::StepSpec)).

mod mmd;

pub use mmd::{MmdAdaptation, MmdKernel};
