//! An RGB raster with the handful of drawing primitives the charts need,
//! and PNG output through the `png` crate.

use std::io::Write;
use std::path::Path;

use super::font::{ADVANCE, GLYPH_W, glyph};
use crate::error::{Error, Result};

/// An 8-bit RGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub u8, pub u8, pub u8);

impl Color {
    /// Black.
    pub const BLACK: Color = Color(0, 0, 0);
    /// White.
    pub const WHITE: Color = Color(255, 255, 255);
    /// Mid grey.
    pub const GREY: Color = Color(140, 140, 140);
    /// Light grey (grid lines).
    pub const LIGHT_GREY: Color = Color(225, 225, 225);
    /// Blue.
    pub const BLUE: Color = Color(31, 119, 180);
    /// Orange.
    pub const ORANGE: Color = Color(255, 127, 14);
    /// Green.
    pub const GREEN: Color = Color(44, 160, 44);
    /// Red.
    pub const RED: Color = Color(214, 39, 40);
    /// Purple.
    pub const PURPLE: Color = Color(148, 103, 189);
    /// Brown.
    pub const BROWN: Color = Color(140, 86, 75);

    /// The `i`-th colour of a ten-colour palette (cycles).
    pub fn palette(i: usize) -> Color {
        const P: [Color; 10] = [
            Color::BLUE,
            Color::ORANGE,
            Color::GREEN,
            Color::RED,
            Color::PURPLE,
            Color::BROWN,
            Color(227, 119, 194), // pink
            Color(127, 127, 127), // grey
            Color(188, 189, 34),  // olive
            Color(23, 190, 207),  // cyan
        ];
        P[i % P.len()]
    }

    /// Mix with white: `t = 0` keeps the colour, `t = 1` gives white.
    pub fn lighten(self, t: f64) -> Color {
        let f = |c: u8| (c as f64 + (255.0 - c as f64) * t.clamp(0.0, 1.0)).round() as u8;
        Color(f(self.0), f(self.1), f(self.2))
    }
}

/// A `width` x `height` RGB image; `(0, 0)` is the top-left pixel.
/// Drawing outside the image (or outside the clip rectangle) is silently
/// skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
    clip: Option<(i64, i64, i64, i64)>,
}

impl Canvas {
    /// A canvas filled with `background`.
    pub fn new(width: usize, height: usize, background: Color) -> Self {
        let mut pixels = Vec::with_capacity(width * height * 3);
        for _ in 0..width * height {
            pixels.extend_from_slice(&[background.0, background.1, background.2]);
        }
        Canvas {
            width,
            height,
            pixels,
            clip: None,
        }
    }

    /// Restrict drawing to the rectangle `[x0, x1] x [y0, y1]` (inclusive),
    /// or lift the restriction with `None`.
    pub fn set_clip(&mut self, clip: Option<(i64, i64, i64, i64)>) {
        self.clip = clip;
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The colour at `(x, y)`, or `None` outside the image.
    pub fn get(&self, x: usize, y: usize) -> Option<Color> {
        if x < self.width && y < self.height {
            let i = (y * self.width + x) * 3;
            Some(Color(
                self.pixels[i],
                self.pixels[i + 1],
                self.pixels[i + 2],
            ))
        } else {
            None
        }
    }

    /// Set one pixel (ignored outside the image).
    pub fn set(&mut self, x: i64, y: i64, c: Color) {
        if let Some((x0, y0, x1, y1)) = self.clip
            && (x < x0 || x > x1 || y < y0 || y > y1)
        {
            return;
        }
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            let i = (y as usize * self.width + x as usize) * 3;
            self.pixels[i] = c.0;
            self.pixels[i + 1] = c.1;
            self.pixels[i + 2] = c.2;
        }
    }

    /// Fill the rectangle `[x0, x1) x [y0, y1)`.
    pub fn fill_rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: Color) {
        // Intersect with the image first so that huge rectangles stay cheap.
        let (w, h) = (self.width as i64, self.height as i64);
        let (xa, xb) = (x0.min(x1).max(0), x0.max(x1).min(w));
        let (ya, yb) = (y0.min(y1).max(0), y0.max(y1).min(h));
        for y in ya..yb {
            for x in xa..xb {
                self.set(x, y, c);
            }
        }
    }

    /// Outline of the rectangle with corners `(x0, y0)` and `(x1, y1)` (inclusive).
    pub fn stroke_rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: Color) {
        self.line(x0, y0, x1, y0, 1, c);
        self.line(x0, y1, x1, y1, 1, c);
        self.line(x0, y0, x0, y1, 1, c);
        self.line(x1, y0, x1, y1, 1, c);
    }

    /// A straight line `thickness` pixels wide (Bresenham with a square pen).
    pub fn line(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, thickness: u32, c: Color) {
        let t = thickness.max(1) as i64;
        let off = (t - 1) / 2;
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            self.fill_rect(x - off, y - off, x - off + t, y - off + t, c);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// A filled disc of radius `r` centred on `(cx, cy)`.
    pub fn disc(&mut self, cx: i64, cy: i64, r: i64, c: Color) {
        for y in -r..=r {
            for x in -r..=r {
                if x * x + y * y <= r * r {
                    self.set(cx + x, cy + y, c);
                }
            }
        }
    }

    /// Draw `text` with its top-left corner at `(x, y)`, each font pixel
    /// a `scale` x `scale` square.
    pub fn text(&mut self, x: i64, y: i64, text: &str, scale: usize, c: Color) {
        let s = scale.max(1) as i64;
        for (i, ch) in text.chars().enumerate() {
            let g = glyph(ch);
            let gx = x + (i * ADVANCE) as i64 * s;
            for (row, bits) in g.iter().enumerate() {
                for col in 0..GLYPH_W {
                    if bits & (1 << (GLYPH_W - 1 - col)) != 0 {
                        let px = gx + col as i64 * s;
                        let py = y + row as i64 * s;
                        self.fill_rect(px, py, px + s, py + s, c);
                    }
                }
            }
        }
    }

    /// Draw `text` rotated 90 degrees counter-clockwise (reading bottom to
    /// top) with the bottom-left corner of its first glyph at `(x, y)`.
    pub fn text_vertical(&mut self, x: i64, y: i64, text: &str, scale: usize, c: Color) {
        let s = scale.max(1) as i64;
        for (i, ch) in text.chars().enumerate() {
            let g = glyph(ch);
            let gy = y - (i * ADVANCE) as i64 * s;
            for (row, bits) in g.iter().enumerate() {
                for col in 0..GLYPH_W {
                    if bits & (1 << (GLYPH_W - 1 - col)) != 0 {
                        // glyph (col, row) -> (x + row, y - col)
                        let px = x + row as i64 * s;
                        let py = gy - (col as i64 + 1) * s;
                        self.fill_rect(px, py, px + s, py + s, c);
                    }
                }
            }
        }
    }

    /// Encode as an 8-bit RGB PNG into `out`.
    ///
    /// # Errors
    /// [`Error::Png`] if encoding fails.
    pub fn encode_png<W: Write>(&self, out: W) -> Result<()> {
        let mut enc = png::Encoder::new(out, self.width as u32, self.height as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(&self.pixels)?;
        writer.finish()?;
        Ok(())
    }

    /// Write as a PNG file.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be created, [`Error::Png`] if
    /// encoding fails.
    pub fn write_png(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut buf = std::io::BufWriter::new(file);
        self.encode_png(&mut buf)?;
        buf.flush().map_err(|e| Error::io(path, e))
    }
}
