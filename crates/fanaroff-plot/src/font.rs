//! The bundled font: DejaVu Sans (Bitstream Vera licence, `fonts/`),
//! registered with plotters' `ab_glyph` text renderer, so no system font
//! library is needed.

use crate::error::{Error, Result};
use plotters::style::FontStyle;
use std::sync::OnceLock;

/// The family name every figure asks for.
pub(crate) const FAMILY: &str = "sans-serif";

static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// Registers the bundled font once per process (all styles map to it).
pub(crate) fn ensure() -> Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = DONE.get_or_init(|| {
        [
            FontStyle::Normal,
            FontStyle::Bold,
            FontStyle::Italic,
            FontStyle::Oblique,
        ]
        .into_iter()
        .all(|s| plotters::style::register_font(FAMILY, s, DEJAVU_SANS).is_ok())
    });
    if *ok {
        Ok(())
    } else {
        Err(Error::Draw("the bundled font could not be loaded".into()))
    }
}
