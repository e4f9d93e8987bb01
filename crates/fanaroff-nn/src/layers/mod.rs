//! Layers, one family per file.

mod batchnorm;
mod conv;
mod fuse;
mod linear;
mod sequential;
mod simple;

pub use batchnorm::BatchNorm2d;
pub use conv::{Conv2d, Conv2dConfig};
pub use linear::{Linear, LinearConfig, linear};
pub use sequential::Sequential;
pub use simple::{Activation, Dropout, Flatten, MaxPool2d, ReluMaxPool2d};
