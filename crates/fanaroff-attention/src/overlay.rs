//! Attention maps drawn over the radio image, as PNG grids.

use fanaroff_nn::{Error, Result};
use ndarray::ArrayView2;
use std::path::Path;

/// Min-max scaling to [0, 1] (all zeros for a constant array).
fn unit(a: &ArrayView2<'_, f32>) -> impl Fn(f32) -> f32 {
    let lo = a.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = a.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    move |v| ((v - lo) / span).clamp(0.0, 1.0)
}

/// A heat colour from red (low) to yellow (high).
fn heat(t: f32) -> [f32; 3] {
    [1.0, t, 0.0]
}

/// A grid of tiles, each a radio image in grey, optionally with a map
/// blended over it from red (low) to yellow (high), its opacity growing
/// with the map value (unattended pixels stay grey).
/// Every tile is min-max scaled on its own.
///
/// ```no_run
/// use fanaroff_attention::OverlayGrid;
/// use ndarray::Array2;
/// let img = Array2::<f32>::zeros((150, 150));
/// let map = Array2::<f32>::ones((150, 150));
/// let mut grid = OverlayGrid::new(2);
/// grid.push(img.view(), None).unwrap();
/// grid.push(img.view(), Some(map.view())).unwrap();
/// grid.write_png("maps.png").unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct OverlayGrid {
    cols: usize,
    tile: Option<(usize, usize)>,
    tiles: Vec<Vec<u8>>,
}

impl OverlayGrid {
    /// An empty grid with `cols` tiles per row.
    pub fn new(cols: usize) -> Self {
        OverlayGrid {
            cols: cols.max(1),
            tile: None,
            tiles: Vec::new(),
        }
    }

    /// Adds a tile.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the map's shape differs from the
    /// image's, or the image's from the first tile's.
    pub fn push(
        &mut self,
        image: ArrayView2<'_, f32>,
        map: Option<ArrayView2<'_, f32>>,
    ) -> Result<()> {
        let (h, w) = image.dim();
        let bad = |msg: String| Error::InvalidInput {
            what: "OverlayGrid",
            msg,
        };
        if *self.tile.get_or_insert((h, w)) != (h, w) {
            return Err(bad(format!(
                "tile {h}x{w} differs from the first tile {:?}",
                self.tile
            )));
        }
        if let Some(m) = &map
            && m.dim() != (h, w)
        {
            return Err(bad(format!("map {:?} over an image {h}x{w}", m.dim())));
        }
        let gi = unit(&image);
        let gm = map.as_ref().map(unit);
        let mut rgb = Vec::with_capacity(3 * h * w);
        for ((y, x), &v) in image.indexed_iter() {
            let g = gi(v);
            let px = match (&map, &gm) {
                (Some(m), Some(f)) => {
                    let t = f(m[[y, x]]);
                    let c = heat(t);
                    let alpha = 0.7 * t;
                    [0, 1, 2].map(|k| g * (1.0 - alpha) + c[k] * alpha)
                }
                _ => [g, g, g],
            };
            rgb.extend(px.map(|c| (255.0 * c).round() as u8));
        }
        self.tiles.push(rgb);
        Ok(())
    }

    /// Writes the grid (2-pixel white gaps) as an RGB PNG.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty grid; [`Error::Io`] when the
    /// file cannot be written.
    pub fn write_png(&self, path: impl AsRef<Path>) -> Result<()> {
        let Some((h, w)) = self.tile else {
            return Err(Error::InvalidInput {
                what: "OverlayGrid",
                msg: "no tiles".into(),
            });
        };
        let (gap, cols) = (2, self.cols.min(self.tiles.len()));
        let rows = self.tiles.len().div_ceil(cols);
        let (iw, ih) = (cols * (w + gap) - gap, rows * (h + gap) - gap);
        let mut img = vec![255u8; 3 * iw * ih];
        for (i, t) in self.tiles.iter().enumerate() {
            let (ox, oy) = ((i % cols) * (w + gap), (i / cols) * (h + gap));
            for y in 0..h {
                let dst = 3 * ((oy + y) * iw + ox);
                img[dst..dst + 3 * w].copy_from_slice(&t[3 * y * w..3 * (y + 1) * w]);
            }
        }
        let p = path.as_ref();
        let io = |e: std::io::Error| Error::Io {
            path: p.display().to_string(),
            source: e,
        };
        let file = std::fs::File::create(p).map_err(io)?;
        let mut enc = png::Encoder::new(std::io::BufWriter::new(file), iw as u32, ih as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let to_io = |e: png::EncodingError| io(std::io::Error::other(e.to_string()));
        enc.write_header()
            .map_err(to_io)?
            .write_image_data(&img)
            .map_err(to_io)
    }
}
