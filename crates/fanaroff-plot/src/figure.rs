//! The [`Figure`] trait: anything drawable, written as PNG or SVG.

use crate::error::{Error, Result, draw_err};
use crate::font;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// The file formats a figure can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A raster image (RGB, 8 bits per channel).
    Png,
    /// A vector image: lines and text stay sharp at any size; images inside
    /// (radio maps) are embedded as PNG.
    Svg,
}

impl Format {
    /// The format named by a path's extension (`.png` or `.svg`, any case).
    ///
    /// # Errors
    /// [`Error::UnknownFormat`] for any other extension.
    pub fn from_path(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_lowercase);
        match ext.as_deref() {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            _ => Err(Error::UnknownFormat(path.to_path_buf())),
        }
    }
}

/// A figure: knows its size in pixels and draws itself on any plotters
/// backend. The provided methods write it to a file or to memory.
///
/// ```no_run
/// use fanaroff_plot::{Figure, LineChart};
/// let chart = LineChart::new("loss").series("train", &[1.0, 2.0], &[0.7, 0.4]);
/// chart.save("loss.png").unwrap();   // raster
/// chart.save("loss.svg").unwrap();   // vector, for papers
/// ```
pub trait Figure {
    /// Width and height in pixels.
    fn dimensions(&self) -> (u32, u32);

    /// Draws the figure on `area`, which has [`dimensions`](Figure::dimensions).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for data that cannot be drawn,
    /// [`Error::Draw`] when the backend fails.
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()>;

    /// The figure as RGB pixels, row-major, `3 * width * height` bytes.
    ///
    /// # Errors
    /// As [`draw`](Figure::draw).
    fn to_rgb(&self) -> Result<Vec<u8>> {
        font::ensure()?;
        let (w, h) = self.dimensions();
        let mut buf = vec![255u8; 3 * w as usize * h as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(draw_err)?;
        }
        Ok(buf)
    }

    /// The figure as an SVG document.
    ///
    /// # Errors
    /// As [`draw`](Figure::draw).
    fn to_svg(&self) -> Result<String> {
        font::ensure()?;
        let mut s = String::new();
        {
            let root = SVGBackend::with_string(&mut s, self.dimensions()).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(draw_err)?;
        }
        // plotters writes embedded images as `data:png`, which browsers and
        // editors reject; the media type is `image/png`.
        Ok(s.replace("href=\"data:png;base64,", "href=\"data:image/png;base64,"))
    }

    /// The figure as PNG file bytes.
    ///
    /// # Errors
    /// As [`draw`](Figure::draw).
    fn to_png(&self) -> Result<Vec<u8>> {
        let (w, h) = self.dimensions();
        encode_png(&self.to_rgb()?, w, h)
    }

    /// Writes the figure in the format its extension names (`.png`, `.svg`)
    /// and returns the path.
    ///
    /// # Errors
    /// [`Error::UnknownFormat`], [`Error::Io`] naming the path, or as
    /// [`draw`](Figure::draw).
    fn save(&self, path: impl AsRef<Path>) -> Result<PathBuf> {
        let path = path.as_ref();
        let bytes = match Format::from_path(path)? {
            Format::Png => self.to_png()?,
            Format::Svg => self.to_svg()?.into_bytes(),
        };
        std::fs::write(path, bytes).map_err(fanaroff_core::io(path))?;
        Ok(path.to_path_buf())
    }

    /// Writes `STEM.png` and `STEM.svg` beside each other; returns both paths.
    ///
    /// # Errors
    /// As [`save`](Figure::save).
    fn save_both(&self, stem: impl AsRef<Path>) -> Result<[PathBuf; 2]> {
        let stem = stem.as_ref();
        Ok([
            self.save(stem.with_extension("png"))?,
            self.save(stem.with_extension("svg"))?,
        ])
    }
}

/// PNG bytes of an RGB buffer.
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(draw_err)?;
    writer.write_image_data(rgb).map_err(draw_err)?;
    writer.finish().map_err(draw_err)?;
    Ok(out)
}
