//! Geometric operations on single `[H, W]` images (bilinear, zero fill).

use ndarray::{Array2, ArrayView2, s};

use crate::error::{Error, Result};

/// A similarity transform about the image centre, applied in this order:
/// optional flips, rotation by `angle_deg` (counter-clockwise as displayed
/// with row 0 at the top), scaling by `scale`, then a shift by
/// `(dx, dy)` pixels (`dx` along columns, `dy` along rows, down positive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// Rotation in degrees, counter-clockwise.
    pub angle_deg: f32,
    /// Zoom factor (> 1 enlarges).
    pub scale: f32,
    /// Shift along columns, pixels.
    pub dx: f32,
    /// Shift along rows, pixels.
    pub dy: f32,
    /// Mirror left-right before rotating.
    pub flip_horizontal: bool,
    /// Mirror top-bottom before rotating.
    pub flip_vertical: bool,
}

impl Default for Affine {
    fn default() -> Self {
        Affine {
            angle_deg: 0.0,
            scale: 1.0,
            dx: 0.0,
            dy: 0.0,
            flip_horizontal: false,
            flip_vertical: false,
        }
    }
}

impl Affine {
    /// Applies the transform by inverse mapping with bilinear interpolation;
    /// pixels that map outside the input become 0.
    ///
    /// ```text
    /// q   = (p - centre - (dx, dy)) / scale
    /// q'  = R(-angle) q ;  mirror q' for the flips
    /// out(p) = bilinear(in, centre + q')
    /// ```
    pub fn apply(&self, img: ArrayView2<'_, f32>) -> Array2<f32> {
        let (h, w) = img.dim();
        let (cy, cx) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
        let theta = self.angle_deg.to_radians();
        let (sin, cos) = theta.sin_cos();
        let inv_s = if self.scale != 0.0 {
            1.0 / self.scale
        } else {
            0.0
        };
        let mut out = Array2::<f32>::zeros((h, w));
        for r in 0..h {
            for c in 0..w {
                let qx = (c as f32 - cx - self.dx) * inv_s;
                let qy = (r as f32 - cy - self.dy) * inv_s;
                let mut sx = qx * cos - qy * sin;
                let mut sy = qx * sin + qy * cos;
                if self.flip_horizontal {
                    sx = -sx;
                }
                if self.flip_vertical {
                    sy = -sy;
                }
                out[[r, c]] = bilinear(&img, sy + cy, sx + cx);
            }
        }
        out
    }
}

/// Bilinear sample at fractional `(row, col)`; 0 outside the image.
fn bilinear(img: &ArrayView2<'_, f32>, y: f32, x: f32) -> f32 {
    let (h, w) = img.dim();
    if !(y > -1.0 && x > -1.0 && y < h as f32 && x < w as f32) {
        return 0.0;
    }
    let (y0, x0) = (y.floor(), x.floor());
    let (fy, fx) = (y - y0, x - x0);
    let (y0, x0) = (y0 as isize, x0 as isize);
    let get = |r: isize, c: isize| -> f32 {
        if r >= 0 && c >= 0 && (r as usize) < h && (c as usize) < w {
            img[[r as usize, c as usize]]
        } else {
            0.0
        }
    };
    let top = get(y0, x0) * (1.0 - fx) + get(y0, x0 + 1) * fx;
    let bottom = get(y0 + 1, x0) * (1.0 - fx) + get(y0 + 1, x0 + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// Rotates by `angle_deg` (counter-clockwise) about the centre, bilinear.
pub fn rotate(img: ArrayView2<'_, f32>, angle_deg: f32) -> Array2<f32> {
    Affine {
        angle_deg,
        ..Affine::default()
    }
    .apply(img)
}

/// Mirrors left-right (exact, no interpolation).
pub fn flip_horizontal(img: ArrayView2<'_, f32>) -> Array2<f32> {
    img.slice(s![.., ..;-1]).to_owned()
}

/// Mirrors top-bottom (exact, no interpolation).
pub fn flip_vertical(img: ArrayView2<'_, f32>) -> Array2<f32> {
    img.slice(s![..;-1, ..]).to_owned()
}

/// Shifts by `(dx, dy)` pixels (columns, rows), bilinear for fractions.
pub fn shift(img: ArrayView2<'_, f32>, dx: f32, dy: f32) -> Array2<f32> {
    Affine {
        dx,
        dy,
        ..Affine::default()
    }
    .apply(img)
}

/// Zooms about the centre by `factor` (> 1 enlarges), bilinear.
pub fn zoom(img: ArrayView2<'_, f32>, factor: f32) -> Array2<f32> {
    Affine {
        scale: factor,
        ..Affine::default()
    }
    .apply(img)
}

/// The centre `size × size` crop (rows/cols `(H - size)/2 ..`).
///
/// # Errors
/// [`Error::Shape`] if `size` is 0 or larger than the image.
pub fn center_crop<T: Clone>(img: ArrayView2<'_, T>, size: usize) -> Result<Array2<T>> {
    let (h, w) = img.dim();
    if size == 0 || size > h || size > w {
        return Err(Error::Shape(format!(
            "cannot crop {size} x {size} from {h} x {w}"
        )));
    }
    let (r0, c0) = ((h - size) / 2, (w - size) / 2);
    Ok(img.slice(s![r0..r0 + size, c0..c0 + size]).to_owned())
}

/// Sets to 0 every pixel farther than `radius` from the image centre.
pub fn circular_mask(img: ArrayView2<'_, f32>, radius: f32) -> Array2<f32> {
    let (h, w) = img.dim();
    let (cy, cx) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
    let r2 = radius * radius;
    let mut out = img.to_owned();
    for ((r, c), v) in out.indexed_iter_mut() {
        let (dy, dx) = (r as f32 - cy, c as f32 - cx);
        if dy * dy + dx * dx > r2 {
            *v = 0.0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    fn probe() -> Array2<f32> {
        let mut a = Array2::<f32>::zeros((5, 5));
        a[[2, 4]] = 1.0; // right of centre
        a
    }

    #[test]
    fn rotation_is_counter_clockwise() {
        let r = rotate(probe().view(), 90.0);
        // Right of centre -> above centre.
        assert_abs_diff_eq!(r[[0, 2]], 1.0, epsilon = 1e-5);
        assert_abs_diff_eq!(r.sum(), 1.0, epsilon = 1e-5);
        let back = rotate(r.view(), -90.0);
        assert_abs_diff_eq!(back[[2, 4]], 1.0, epsilon = 1e-5);
    }

    #[test]
    fn flips_shift_crop_mask() {
        let p = probe();
        assert_eq!(flip_horizontal(p.view())[[2, 0]], 1.0);
        assert_eq!(flip_vertical(p.view())[[2, 4]], 1.0);
        let a = Affine {
            flip_horizontal: true,
            ..Affine::default()
        }
        .apply(p.view());
        assert_eq!(a, flip_horizontal(p.view()));
        let sh = shift(p.view(), -1.0, 1.0);
        assert_abs_diff_eq!(sh[[3, 3]], 1.0, epsilon = 1e-6);
        let half = shift(p.view(), -0.5, 0.0);
        assert_abs_diff_eq!(half[[2, 3]], 0.5, epsilon = 1e-6);
        assert_abs_diff_eq!(half[[2, 4]], 0.5, epsilon = 1e-6);
        assert_eq!(center_crop(p.view(), 3).unwrap().dim(), (3, 3));
        assert!(center_crop(p.view(), 6).is_err());
        assert_eq!(circular_mask(p.view(), 1.5).sum(), 0.0);
        assert_eq!(circular_mask(p.view(), 2.0).sum(), 1.0);
        let z = zoom(p.view(), 1.0);
        assert_eq!(z, p);
    }
}
