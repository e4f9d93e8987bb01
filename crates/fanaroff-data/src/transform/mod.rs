//! Preprocessing (scaling) and seeded augmentation.

mod scaling;

pub use scaling::{Scaling, Standardize};
