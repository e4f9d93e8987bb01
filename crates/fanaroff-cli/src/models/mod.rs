//! The built-in model kinds (see [`ModelSpec`](crate::ModelSpec)).

mod attention;
mod lenet;

pub use attention::{AttentionLayers, AttentionModel, Init, LayerKind, Loss};
pub(crate) use lenet::check_dropout;
pub use lenet::{BbbLenet, Lenet, McDropoutLenet};
