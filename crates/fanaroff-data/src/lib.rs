#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod batches;
mod dataset;
mod error;
#[cfg(feature = "download")]
pub mod fetch;
pub mod fits;
pub mod image_io;
pub mod mirabest;
mod pickle;
mod split;
pub mod synthetic;
pub mod transform;

pub use batches::{Batches, MiniBatch};
pub use dataset::{Dataset, SampleInfo};
pub use error::{Error, Result};
#[cfg(feature = "download")]
pub use fetch::{Fetched, download};
pub use mirabest::{FrClass, LabelCode, MiraBest, ReleaseKind, SourceName, Splits, Subset};
pub use synthetic::SyntheticConfig;
pub use transform::{Scaling, Standardize};
