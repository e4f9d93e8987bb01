//! Blurring by a Gaussian beam (point-spread function).

use crate::error::{Result, config};
use crate::perturbation::{Perturbation, clip};
use ndarray::{Array2, ArrayView2};
use rand::rngs::StdRng;

/// Convolution with a circular Gaussian beam of full width at half maximum
/// `fwhm` pixels (sigma = fwhm / 2.3548), truncated at 3 sigma and
/// normalised to unit sum; the sky beyond the image edge counts as 0.
/// Flux is conserved away from the edges; values stay in `[0, 255]`.
/// Deterministic (the RNG is not used).
#[derive(Debug, Clone, PartialEq)]
pub struct PsfBlur {
    fwhm: f64,
    kernel: Vec<f32>,
}

impl PsfBlur {
    /// A Gaussian beam of `fwhm` pixels.
    ///
    /// # Errors
    /// `fwhm` not finite and > 0.
    pub fn new(fwhm: f64) -> Result<Self> {
        if !(fwhm.is_finite() && fwhm > 0.0) {
            return Err(config(
                "PsfBlur",
                format!("fwhm {fwhm} must be finite and > 0"),
            ));
        }
        let sigma = fwhm / (8.0 * 2f64.ln()).sqrt();
        let r = (3.0 * sigma).ceil() as i64;
        let w: Vec<f64> = (-r..=r)
            .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
            .collect();
        let s: f64 = w.iter().sum();
        Ok(PsfBlur {
            fwhm,
            kernel: w.iter().map(|v| (v / s) as f32).collect(),
        })
    }

    /// The 1-D kernel (the beam is its outer product with itself).
    pub fn kernel(&self) -> &[f32] {
        &self.kernel
    }
}

/// Convolves the rows (`along_rows`) or the columns with `k`, zero outside.
fn convolve(img: &Array2<f32>, k: &[f32], along_rows: bool) -> Array2<f32> {
    let (h, w) = img.dim();
    let r = (k.len() / 2) as i64;
    Array2::from_shape_fn((h, w), |(y, x)| {
        k.iter()
            .enumerate()
            .map(|(j, kv)| {
                let d = j as i64 - r;
                let (yy, xx) = if along_rows {
                    (y as i64, x as i64 + d)
                } else {
                    (y as i64 + d, x as i64)
                };
                if yy < 0 || xx < 0 || yy >= h as i64 || xx >= w as i64 {
                    0.0
                } else {
                    kv * img[[yy as usize, xx as usize]]
                }
            })
            .sum()
    })
}

impl Perturbation for PsfBlur {
    fn name(&self) -> String {
        format!("psf_fwhm({})", self.fwhm)
    }

    fn apply(&self, image: ArrayView2<'_, f32>, _rng: &mut StdRng) -> Array2<f32> {
        let once = convolve(&image.to_owned(), &self.kernel, true);
        convolve(&once, &self.kernel, false).mapv(clip)
    }
}
