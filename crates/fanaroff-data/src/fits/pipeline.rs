//! The MiraBest image recipe: sigma clipping, 3σ threshold, crop, 8-bit scaling.

use ndarray::{Array2, ArrayView2, s};

use crate::error::{Error, Result};

/// Result of iterative sigma clipping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipStats {
    /// Median of the surviving pixels.
    pub median: f64,
    /// Population standard deviation (ddof = 0) of the surviving pixels.
    pub std: f64,
    /// Number of surviving pixels.
    pub kept: usize,
    /// Clipping passes performed.
    pub iterations: usize,
}

/// Maps an `f32` to a `u32` whose unsigned order is `f32::total_cmp` order.
fn order_key(x: f32) -> u32 {
    let b = x.to_bits();
    if b & 0x8000_0000 != 0 {
        !b
    } else {
        b | 0x8000_0000
    }
}

/// Inverse of [`order_key`].
fn from_order_key(k: u32) -> f32 {
    f32::from_bits(if k & 0x8000_0000 != 0 {
        k & 0x7fff_ffff
    } else {
        !k
    })
}

/// LSD radix sort of `u32` keys, one byte per pass; passes in which every
/// key has the same byte are skipped.
fn radix_sort(keys: &mut Vec<u32>) {
    let mut buf = vec![0u32; keys.len()];
    for shift in [0u32, 8, 16, 24] {
        let mut counts = [0usize; 256];
        for &k in keys.iter() {
            counts[((k >> shift) & 0xff) as usize] += 1;
        }
        if counts.contains(&keys.len()) {
            continue;
        }
        let mut start = [0usize; 256];
        let mut acc = 0;
        for (s, &c) in start.iter_mut().zip(&counts) {
            *s = acc;
            acc += c;
        }
        for &k in keys.iter() {
            let d = ((k >> shift) & 0xff) as usize;
            buf[start[d]] = k;
            start[d] += 1;
        }
        std::mem::swap(keys, &mut buf);
    }
}

/// Median of a non-empty ascending slice; mean of the two middle values
/// for even lengths, as numpy does.
fn median_sorted(v: &[f32]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        f64::from(v[n / 2])
    } else {
        (f64::from(v[n / 2 - 1]) + f64::from(v[n / 2])) / 2.0
    }
}

/// Median of a non-empty slice (sorts a copy).
#[cfg(test)]
fn median_in_place(v: &mut [f32]) -> f64 {
    v.sort_unstable_by(f32::total_cmp);
    median_sorted(v)
}

fn std_of(v: &[f32]) -> f64 {
    let n = v.len() as f64;
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    (v.iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt()
}

/// Iterative sigma clipping of the finite values of `pixels`.
///
/// ```text
/// repeat at most max_iters times:
///     m = median(kept), s = std(kept)            (ddof = 0)
///     kept = { x in kept : m - k s <= x <= m + k s }
///     stop if nothing was rejected
/// return median and std of the final kept set
/// ```
/// This is what `astropy.stats.sigma_clipped_stats(data, sigma=k, maxiters=…)`
/// returns for the median and standard deviation. NaN and ±inf are ignored.
/// Returns `None` when no pixel is finite.
pub fn sigma_clip(
    pixels: impl IntoIterator<Item = f32>,
    k: f64,
    max_iters: usize,
) -> Option<ClipStats> {
    let (sorted, iterations) = clip_survivors(pixels, k, max_iters)?;
    Some(ClipStats {
        median: median_sorted(&sorted),
        std: std_of(&sorted),
        kept: sorted.len(),
        iterations,
    })
}

/// The surviving pixels of iterative clipping, in ascending order, and the
/// number of passes.
///
/// Clipping by value bounds always keeps a contiguous run of the sorted
/// values, so the data are sorted once and each pass only moves the ends of
/// that run (binary search); the median is read off the middle.
fn clip_survivors(
    pixels: impl IntoIterator<Item = f32>,
    k: f64,
    max_iters: usize,
) -> Option<(Vec<f32>, usize)> {
    let mut keys: Vec<u32> = pixels
        .into_iter()
        .filter(|x| x.is_finite())
        .map(order_key)
        .collect();
    if keys.is_empty() {
        return None;
    }
    radix_sort(&mut keys);
    let vals: Vec<f32> = keys.into_iter().map(from_order_key).collect();
    let (mut a, mut b) = (0, vals.len());
    let mut iterations = 0;
    while iterations < max_iters {
        iterations += 1;
        let run = &vals[a..b];
        let m = median_sorted(run);
        let sd = std_of(run);
        let (lo, hi) = (m - k * sd, m + k * sd);
        let na = a + run.partition_point(|&x| f64::from(x) < lo);
        let nb = a + run.partition_point(|&x| f64::from(x) <= hi);
        if na >= nb {
            return None;
        }
        if (na, nb) == (a, b) {
            break;
        }
        (a, b) = (na, nb);
    }
    Some((vals[a..b].to_vec(), iterations))
}

/// Parameters of the MiraBest recipe.
///
/// | name | default | meaning | valid range |
/// |---|---|---|---|
/// | `clip_sigma` | 3 | rejection radius of sigma clipping, in σ | > 0 |
/// | `max_iters` | 5 | maximum clipping passes | ≥ 1 |
/// | `threshold_sigma` | 3 | pixels ≤ this × σ are set to 0 | ≥ 0 |
/// | `crop` | 150 | side of the centre crop | ≥ 1, ≤ image side |
///
/// ```text
/// 1. σ = sigma-clipped std of all finite pixels (whole input image)
/// 2. x <= threshold_sigma * σ  ->  0;  NaN -> 0
/// 3. centre crop: rows/cols (H - crop)/2 .. + crop   (300 -> 75..225)
/// 4. y = (x - min) / (max - min) * 255 in f32 (constant crop -> 0)
/// 5. u8 = truncate(y); no flip
/// ```
///
/// With the defaults this reproduces the full MiraBest release bit for bit
/// from 300 × 300 FIRST cut-outs.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recipe {
    clip_sigma: f64,
    max_iters: usize,
    threshold_sigma: f64,
    crop: usize,
}

impl Default for Recipe {
    fn default() -> Self {
        Recipe {
            clip_sigma: 3.0,
            max_iters: 5,
            threshold_sigma: 3.0,
            crop: 150,
        }
    }
}

impl Recipe {
    /// Sets the clipping radius (σ).
    pub fn with_clip_sigma(mut self, k: f64) -> Self {
        self.clip_sigma = k;
        self
    }

    /// Sets the maximum number of clipping passes.
    pub fn with_max_iters(mut self, n: usize) -> Self {
        self.max_iters = n;
        self
    }

    /// Sets the threshold (σ) below which pixels are zeroed.
    pub fn with_threshold_sigma(mut self, k: f64) -> Self {
        self.threshold_sigma = k;
        self
    }

    /// Sets the side of the centre crop.
    pub fn with_crop(mut self, side: usize) -> Self {
        self.crop = side;
        self
    }

    /// Side of the centre crop.
    pub fn crop(&self) -> usize {
        self.crop
    }

    /// Validates the parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a value outside the table's range.
    pub fn check(self) -> Result<Self> {
        if !(self.clip_sigma.is_finite() && self.clip_sigma > 0.0) {
            return Err(Error::param(
                "clip_sigma",
                format!("{}; must be > 0", self.clip_sigma),
            ));
        }
        if self.max_iters == 0 {
            return Err(Error::param("max_iters", "0; must be >= 1"));
        }
        if !(self.threshold_sigma.is_finite() && self.threshold_sigma >= 0.0) {
            return Err(Error::param(
                "threshold_sigma",
                format!("{}; must be >= 0", self.threshold_sigma),
            ));
        }
        if self.crop == 0 {
            return Err(Error::param("crop", "0; must be >= 1"));
        }
        Ok(self)
    }

    /// Applies the recipe; `name` identifies the image in errors.
    ///
    /// # Errors
    /// [`Error::NoFinitePixels`] for an all-NaN image, [`Error::Shape`] if the
    /// image is smaller than the crop, [`Error::InvalidParameter`] for bad
    /// parameters.
    pub fn apply(&self, image: ArrayView2<'_, f32>, name: &str) -> Result<Array2<u8>> {
        let r = self.check()?;
        let (h, w) = image.dim();
        if h < r.crop || w < r.crop {
            return Err(Error::Shape(format!(
                "{name}: image is {h} x {w}, smaller than the {0} x {0} crop",
                r.crop
            )));
        }
        let (kept, _) = clip_survivors(image.iter().copied(), r.clip_sigma, r.max_iters)
            .ok_or_else(|| Error::NoFinitePixels {
                file: name.to_string(),
            })?;
        let thresh = r.threshold_sigma * std_of(&kept);
        let (r0, c0) = ((h - r.crop) / 2, (w - r.crop) / 2);
        let crop = image.slice(s![r0..r0 + r.crop, c0..c0 + r.crop]);
        let cleaned = crop.mapv(|x| {
            if x.is_nan() || f64::from(x) <= thresh {
                0.0
            } else {
                x
            }
        });
        Ok(scale_to_u8(cleaned.view()))
    }
}

/// Min-max scaling to 0…255 in `f32` with truncation, as numpy's
/// `((x - min) / (max - min) * 255).astype(np.uint8)`; constant input gives zeros.
pub fn scale_to_u8(x: ArrayView2<'_, f32>) -> Array2<u8> {
    let mn = x.iter().copied().fold(f32::INFINITY, f32::min);
    let mx = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if mx <= mn || !mn.is_finite() || !mx.is_finite() {
        return Array2::zeros(x.raw_dim());
    }
    let range = mx - mn;
    x.mapv(|v| ((v - mn) / range * 255.0) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_sort_sorts() {
        let mut v: Vec<u32> = (0..5000u32)
            .map(|i| i.wrapping_mul(2_654_435_761) ^ (i << 3))
            .collect();
        let mut w = v.clone();
        radix_sort(&mut v);
        w.sort_unstable();
        assert_eq!(v, w);
    }

    #[test]
    fn order_keys_sort_like_floats() {
        let xs = [-f32::INFINITY, -2.5, -0.0, 0.0, 1e-30, 3.0, f32::INFINITY];
        for w in xs.windows(2) {
            assert!(order_key(w[0]) < order_key(w[1]), "{w:?}");
        }
        for x in xs {
            assert_eq!(from_order_key(order_key(x)).to_bits(), x.to_bits());
        }
    }

    #[test]
    fn median_matches_numpy_convention() {
        let mut v = vec![4.0f32, 1.0, 3.0, 2.0];
        assert_eq!(median_in_place(&mut v), 2.5);
        let mut v = vec![5.0f32, 1.0, 3.0];
        assert_eq!(median_in_place(&mut v), 3.0);
    }

    #[test]
    fn clipping_rejects_outlier() {
        // numpy: x = [0]*20 + [1]*20 + [100]; one pass removes 100, the next nothing.
        let mut v = vec![0.0f32; 20];
        v.extend(vec![1.0; 20]);
        v.push(100.0);
        let s = sigma_clip(v, 3.0, 5).unwrap();
        assert_eq!(s.kept, 40);
        assert_eq!(s.std, 0.5);
        assert_eq!(s.median, 0.5);
        assert_eq!(s.iterations, 2);
    }

    #[test]
    fn all_nan_is_an_error() {
        let img = Array2::from_elem((200, 200), f32::NAN);
        let e = Recipe::default().apply(img.view(), "x.fits").unwrap_err();
        assert!(e.to_string().contains("x.fits"), "{e}");
    }
}
