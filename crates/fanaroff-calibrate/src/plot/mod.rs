//! Minimal pure-Rust raster charts written as PNG: lines, points and bars on
//! linear or log axes, with ticks, a title, axis labels and a legend drawn in
//! a built-in 5 x 7 bitmap font (no system fonts).
//!
//! Reliability diagrams use it ([`ReliabilityDiagram::write_png`](crate::ReliabilityDiagram::write_png));
//! other crates can draw their own curves:
//!
//! ```no_run
//! use fanaroff_calibrate::plot::{Chart, Color};
//! Chart::new("accuracy vs rejected fraction")
//!     .x_label("rejected fraction")
//!     .y_label("accuracy")
//!     .line("entropy", &[0.0, 0.1, 0.2], &[0.87, 0.91, 0.94], Color::BLUE)
//!     .write_png("rejection.png")
//!     .unwrap();
//! ```

mod canvas;
mod chart;
pub mod font;

pub use canvas::{Canvas, Color};
pub use chart::{Chart, Legend, LineChart};
