//! Model definitions, written once against a [`LayerFactory`].

mod factory;
mod lenet;

pub use factory::{LayerFactory, McDropoutLayers, PlainLayers};
pub use lenet::{LeNetConfig, lenet};
