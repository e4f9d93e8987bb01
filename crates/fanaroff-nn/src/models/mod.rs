//! Ready-made deterministic models.

mod lenet;

pub use lenet::{LeNetConfig, lenet};
