//! Pixel scaling from `u8` to `f32`.

use ndarray::{Array4, ArrayView4, Zip};

use crate::error::{Error, Result};

/// Mean and standard deviation for standardisation, after dividing by 255.
///
/// ```text
/// x = (p / 255 - mean) / std
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standardize {
    mean: f32,
    std: f32,
}

impl Standardize {
    /// The values used for MiraBest in the literature: mean 0.0031, std 0.0350.
    pub const MIRABEST: Standardize = Standardize {
        mean: 0.0031,
        std: 0.0350,
    };

    /// Checked constructor.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `mean` is finite and `std` is
    /// finite and positive.
    pub fn new(mean: f32, std: f32) -> Result<Self> {
        if !mean.is_finite() {
            return Err(Error::param("mean", format!("{mean}; must be finite")));
        }
        if !(std.is_finite() && std > 0.0) {
            return Err(Error::param(
                "std",
                format!("{std}; must be finite and > 0"),
            ));
        }
        Ok(Standardize { mean, std })
    }

    /// The mean.
    pub fn mean(&self) -> f32 {
        self.mean
    }

    /// The standard deviation.
    pub fn std(&self) -> f32 {
        self.std
    }
}

/// How `u8` pixels become `f32`.
///
/// | variant | formula | range |
/// |---|---|---|
/// | `Raw` | `p` | 0 … 255 |
/// | `Unit` | `p / 255` | 0 … 1 |
/// | `Symmetric` | `p / 127.5 - 1` | −1 … 1 |
/// | `Standardize(s)` | `(p / 255 - s.mean) / s.std` | MiraBest: −0.089 … 28.5 |
///
/// # Example
/// ```
/// use fanaroff_data::{Scaling, Standardize};
/// use approx::assert_abs_diff_eq;
/// assert_abs_diff_eq!(Scaling::Unit.apply_pixel(255), 1.0);
/// assert_abs_diff_eq!(Scaling::Symmetric.apply_pixel(0), -1.0);
/// let s = Scaling::Standardize(Standardize::MIRABEST);
/// assert_abs_diff_eq!(s.apply_pixel(0), -0.0031 / 0.0350, epsilon = 1e-6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Scaling {
    /// Pixel values unchanged (0 … 255).
    Raw,
    /// Divide by 255.
    #[default]
    Unit,
    /// Map to [−1, 1].
    Symmetric,
    /// Divide by 255, then standardise.
    Standardize(Standardize),
}

impl Scaling {
    /// Scales one pixel.
    pub fn apply_pixel(&self, p: u8) -> f32 {
        let x = f32::from(p);
        match self {
            Scaling::Raw => x,
            Scaling::Unit => x / 255.0,
            Scaling::Symmetric => x / 127.5 - 1.0,
            Scaling::Standardize(s) => (x / 255.0 - s.mean) / s.std,
        }
    }

    /// Scales a value already in 0 … 255 (e.g. after augmentation).
    pub fn apply_value(&self, x: f32) -> f32 {
        match self {
            Scaling::Raw => x,
            Scaling::Unit => x / 255.0,
            Scaling::Symmetric => x / 127.5 - 1.0,
            Scaling::Standardize(s) => (x / 255.0 - s.mean) / s.std,
        }
    }

    /// Scales a whole `[N, C, H, W]` array (parallel).
    pub fn apply(&self, images: ArrayView4<'_, u8>) -> Array4<f32> {
        let mut lut = [0f32; 256];
        for (p, v) in lut.iter_mut().enumerate() {
            *v = self.apply_pixel(p as u8);
        }
        let mut out = Array4::<f32>::zeros(images.raw_dim());
        Zip::from(&mut out)
            .and(&images)
            .par_for_each(|o, &p| *o = lut[usize::from(p)]);
        out
    }
}
