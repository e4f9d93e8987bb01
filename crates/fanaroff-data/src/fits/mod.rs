//! FIRST cut-outs (FITS) to MiraBest-style images.
//!
//! [`read_fits`] reads the primary image HDU, [`Recipe`] is the published
//! processing (sigma clipping, 3σ threshold, centre crop, 8-bit scaling) and
//! [`convert_dir`] runs it over a folder with a progress bar.

mod convert;
mod pipeline;
mod reader;

pub use convert::{Converted, convert_dir, fits_to_image};
pub use pipeline::{ClipStats, Recipe, scale_to_u8, sigma_clip};
pub use reader::{FitsImage, parse_fits, read_fits};
