//! FIRST cut-outs (FITS) to MiraBest-style images.
//!
//! [`Recipe`] is the published processing (sigma clipping, 3σ threshold,
//! centre crop, 8-bit scaling); it works on arrays and is always available
//! (the synthetic generator uses it too). With the cargo feature `fits` (on
//! by default), `read_fits` / `parse_fits` read the primary image HDU of a
//! FITS file, `fits_to_image` applies the recipe to one file and
//! `convert_dir` to a folder, with a progress bar.

#[cfg(feature = "fits")]
mod convert;
mod pipeline;
#[cfg(feature = "fits")]
mod reader;

#[cfg(feature = "fits")]
pub use convert::{Converted, convert_dir, fits_to_image};
pub use pipeline::{ClipStats, Recipe, scale_to_u8, sigma_clip};
#[cfg(feature = "fits")]
pub use reader::{FitsImage, parse_fits, read_fits};
