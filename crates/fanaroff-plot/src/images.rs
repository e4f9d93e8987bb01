//! Grids of radio images, each optionally with a map (attention,
//! saliency) laid over it and a caption under it.

use crate::error::{Error, Result, draw_err};
use crate::figure::Figure;
use crate::font::FAMILY;
use ndarray::ArrayView2;
use plotters::backend::RGBPixel;
use plotters::coord::Shift;
use plotters::prelude::*;

const PAD: u32 = 6;
const CAPTION: u32 = 18;
const TITLE: u32 = 28;

#[derive(Debug, Clone, PartialEq)]
struct Tile {
    rgb: Vec<u8>,
    caption: String,
}

/// A grid of tiles: each a radio image in grey (min-max scaled on its own),
/// optionally with a map blended over it from red (low) to yellow (high)
/// whose opacity grows with the map value, so unattended pixels stay grey.
///
/// ```no_run
/// use fanaroff_plot::{Figure, ImageGrid};
/// use ndarray::Array2;
/// let img = Array2::<f32>::zeros((150, 150));
/// let map = Array2::<f32>::ones((150, 150));
/// let mut grid = ImageGrid::new(2).title("attention");
/// grid.push(img.view(), None).unwrap();
/// grid.push_captioned(img.view(), Some(map.view()), "FRII, H = 0.12").unwrap();
/// grid.save("maps.svg").unwrap();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ImageGrid {
    cols: u32,
    scale: u32,
    title: String,
    tile: Option<(u32, u32)>,
    tiles: Vec<Tile>,
}

impl ImageGrid {
    /// An empty grid with `cols` tiles per row.
    pub fn new(cols: usize) -> Self {
        ImageGrid {
            cols: cols.max(1) as u32,
            scale: 1,
            title: String::new(),
            tile: None,
            tiles: Vec::new(),
        }
    }

    /// Draws every pixel as a `scale` x `scale` block (nearest neighbour).
    pub fn scale(mut self, scale: u32) -> Self {
        self.scale = scale.clamp(1, 16);
        self
    }

    /// A title above the grid.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Number of tiles so far.
    pub fn len(&self) -> usize {
        self.tiles.len()
    }

    /// Whether the grid has no tiles.
    pub fn is_empty(&self) -> bool {
        self.tiles.is_empty()
    }

    /// Adds a tile without caption.
    ///
    /// # Errors
    /// As [`push_captioned`](Self::push_captioned).
    pub fn push(
        &mut self,
        image: ArrayView2<'_, f32>,
        map: Option<ArrayView2<'_, f32>>,
    ) -> Result<()> {
        self.push_captioned(image, map, "")
    }

    /// Adds a tile with a caption under it.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty image, a map whose shape
    /// differs from the image's, or an image whose shape differs from the
    /// first tile's.
    pub fn push_captioned(
        &mut self,
        image: ArrayView2<'_, f32>,
        map: Option<ArrayView2<'_, f32>>,
        caption: impl Into<String>,
    ) -> Result<()> {
        let (h, w) = image.dim();
        if h == 0 || w == 0 {
            return Err(Error::InvalidInput("empty image".into()));
        }
        if let Some(m) = &map
            && m.dim() != image.dim()
        {
            return Err(Error::InvalidInput(format!(
                "map {:?} but image {:?}",
                m.dim(),
                image.dim()
            )));
        }
        let shape = (w as u32, h as u32);
        if *self.tile.get_or_insert(shape) != shape {
            return Err(Error::InvalidInput(format!(
                "tile {h}x{w} but the grid's tiles are {}x{}",
                shape.1, shape.0
            )));
        }
        self.tiles.push(Tile {
            rgb: tile_rgb(&image, map.as_ref(), self.scale),
            caption: caption.into(),
        });
        Ok(())
    }

    fn cell(&self) -> (u32, u32) {
        let (w, h) = self.tile.unwrap_or((100, 100));
        let caption = if self.tiles.iter().any(|t| !t.caption.is_empty()) {
            CAPTION
        } else {
            0
        };
        (w * self.scale + PAD, h * self.scale + caption + PAD)
    }

    fn top(&self) -> u32 {
        if self.title.is_empty() { 0 } else { TITLE }
    }
}

/// Min-max scaling to [0, 1] (all zeros for a constant or non-finite array).
fn unit(a: &ArrayView2<'_, f32>) -> impl Fn(f32) -> f32 {
    let finite = a.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    let span = if hi > lo { hi - lo } else { f32::INFINITY };
    move |v| {
        if v.is_finite() {
            ((v - lo) / span).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

/// One tile's RGB pixels, upscaled by `scale`.
fn tile_rgb(image: &ArrayView2<'_, f32>, map: Option<&ArrayView2<'_, f32>>, scale: u32) -> Vec<u8> {
    let (h, w) = image.dim();
    let s = scale as usize;
    let (gi, gm) = (unit(image), map.map(unit));
    let mut out = vec![0u8; 3 * h * w * s * s];
    for ((r, c), &v) in image.indexed_iter() {
        let g = gi(v);
        let px = match (&gm, map) {
            (Some(f), Some(m)) => {
                let t = f(m[[r, c]]);
                let a = 0.75 * t;
                [g * (1.0 - a) + a, g * (1.0 - a) + a * t, g * (1.0 - a)]
            }
            _ => [g, g, g],
        };
        let px = px.map(|x| (x * 255.0).round() as u8);
        for dy in 0..s {
            let row = (r * s + dy) * w * s;
            for dx in 0..s {
                let i = 3 * (row + c * s + dx);
                out[i..i + 3].copy_from_slice(&px);
            }
        }
    }
    out
}

impl Figure for ImageGrid {
    fn dimensions(&self) -> (u32, u32) {
        let (cw, ch) = self.cell();
        let rows = (self.tiles.len() as u32).div_ceil(self.cols).max(1);
        let cols = self.cols.min(self.tiles.len() as u32).max(1);
        (cols * cw + PAD, self.top() + rows * ch + PAD)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let Some((w, h)) = self.tile else {
            return Err(Error::InvalidInput(
                "an image grid needs at least one tile".into(),
            ));
        };
        area.fill(&WHITE).map_err(draw_err)?;
        if !self.title.is_empty() {
            let t = Text::new(self.title.as_str(), (PAD as i32, 6), (FAMILY, 16));
            area.draw(&t).map_err(draw_err)?;
        }
        let (cw, ch) = self.cell();
        let (tw, th) = (w * self.scale, h * self.scale);
        for (i, tile) in self.tiles.iter().enumerate() {
            let (col, row) = (i as u32 % self.cols, i as u32 / self.cols);
            let (x, y) = (
                (PAD + col * cw) as i32,
                (self.top() + PAD + row * ch) as i32,
            );
            let bitmap =
                BitMapElement::<_, RGBPixel>::with_owned_buffer((x, y), (tw, th), tile.rgb.clone())
                    .ok_or_else(|| Error::Draw("tile buffer too small".into()))?;
            area.draw(&bitmap).map_err(draw_err)?;
            if !tile.caption.is_empty() {
                let t = Text::new(tile.caption.as_str(), (x, y + th as i32 + 2), (FAMILY, 12));
                area.draw(&t).map_err(draw_err)?;
            }
        }
        Ok(())
    }
}
