//! Preprocessing (scaling) and seeded augmentation.

mod augment;
mod geometry;
mod scaling;

pub use augment::Augment;
pub use geometry::{
    Affine, center_crop, circular_mask, flip_horizontal, flip_vertical, rotate, shift, zoom,
};
pub use scaling::{Scaling, Standardize};
