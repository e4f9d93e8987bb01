//! PNG export of single images and grids.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use ndarray::{Array2, ArrayView2, ArrayView4, Axis, s};

use crate::error::{Error, Result};

/// Writes an 8-bit greyscale PNG (row 0 at the top), creating parent folders.
///
/// # Errors
/// [`Error::Io`] if the file cannot be created, [`Error::Png`] if encoding fails.
pub fn save_png(path: impl AsRef<Path>, image: ArrayView2<'_, u8>) -> Result<()> {
    let path = path.as_ref();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(fanaroff_core::io(parent))?;
    }
    let (h, w) = image.dim();
    let file = File::create(path).map_err(fanaroff_core::io(path))?;
    let mut enc = png::Encoder::new(BufWriter::new(file), w as u32, h as u32);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let png_err = |e: png::EncodingError| Error::Png {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut writer = enc.write_header().map_err(png_err)?;
    let data: Vec<u8> = image.iter().copied().collect();
    writer.write_image_data(&data).map_err(png_err)?;
    writer.finish().map_err(png_err)
}

/// Tiles images `[N, 1, H, W]` into one grid image, `cols` per row, with
/// `pad` pixels of grey (64) between tiles.
///
/// # Errors
/// [`Error::InvalidParameter`] if `cols` is 0 or there are no images.
pub fn grid(images: ArrayView4<'_, u8>, cols: usize, pad: usize) -> Result<Array2<u8>> {
    let n = images.len_of(Axis(0));
    if cols == 0 || n == 0 {
        return Err(Error::param(
            "cols",
            "need at least one image and one column",
        ));
    }
    let (h, w) = (images.shape()[2], images.shape()[3]);
    let rows = n.div_ceil(cols);
    let cols = cols.min(n);
    let mut out = Array2::from_elem(
        (rows * h + (rows + 1) * pad, cols * w + (cols + 1) * pad),
        64u8,
    );
    for i in 0..n {
        let (r, c) = (i / cols, i % cols);
        let (y, x) = (pad + r * (h + pad), pad + c * (w + pad));
        out.slice_mut(s![y..y + h, x..x + w])
            .assign(&images.slice(s![i, 0, .., ..]));
    }
    Ok(out)
}

/// Writes a grid of images (see [`grid`]) as a PNG.
///
/// # Errors
/// Those of [`grid`] and [`save_png`].
pub fn save_grid(path: impl AsRef<Path>, images: ArrayView4<'_, u8>, cols: usize) -> Result<()> {
    let g = grid(images, cols, 2)?;
    save_png(path, g.view())
}
