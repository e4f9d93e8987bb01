//! Figures for uncertainty-aware radio-galaxy classification, written as
//! PNG (raster) or SVG (vector, for papers) by [`plotters`] with a bundled
//! open-licence font (DejaVu Sans): no system font or graphics library.
//!
//! | figure | built by |
//! |---|---|
//! | reliability and UCE diagrams | [`reliability`] |
//! | accuracy-rejection curves | [`rejection`] |
//! | training curves from a history CSV | [`History::chart`] |
//! | pruning, temperature, any curves | [`LineChart`] (lines, points, bars; log axes) |
//! | attention or saliency overlays, image grids | [`ImageGrid`] |
//! | sweep heat maps | [`Heatmap`] |
//!
//! Every figure implements [`Figure`]: `save("x.png")` or `save("x.svg")`
//! picks the format by extension; `to_svg`, `to_png` and `to_rgb` render to
//! memory.
//!
//! ```no_run
//! use fanaroff_calibrate::{Binning, reliability_diagram};
//! use fanaroff_plot::{Figure, reliability};
//! let probs = ndarray::array![[0.92, 0.08], [0.15, 0.85], [0.66, 0.34]];
//! let d = reliability_diagram(probs.view(), &[0, 1, 1], Binning::new(10).unwrap()).unwrap();
//! reliability(&d).save_both("reliability").unwrap(); // reliability.png + reliability.svg
//! ```

#![warn(missing_docs)]

mod axis;
mod calibration;
mod chart;
mod color;
mod error;
mod figure;
mod font;
mod heatmap;
mod history;
mod images;

pub use axis::number;
pub use calibration::{rejection, reliability};
pub use chart::{Legend, LineChart};
pub use color::Color;
pub use error::{Error, Result};
pub use figure::{Figure, Format};
pub use heatmap::Heatmap;
pub use history::History;
pub use images::ImageGrid;

// The README's examples, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
