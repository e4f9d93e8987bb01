//! Small pointing errors: random shifts and rotations.

use crate::error::{Result, config};
use crate::perturbation::{Perturbation, clip};
use fanaroff_data::transform::{rotate, shift};
use ndarray::{Array2, ArrayView2};
use rand::Rng;
use rand::rngs::StdRng;

/// A shift by `(dx, dy)`, each drawn uniformly from `±max_px` (bilinear
/// for fractions; sky 0 enters at the edges).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift {
    max_px: f32,
}

impl Shift {
    /// Shifts of up to `max_px` pixels per axis.
    ///
    /// # Errors
    /// `max_px` not finite or negative.
    pub fn new(max_px: f32) -> Result<Self> {
        if !(max_px.is_finite() && max_px >= 0.0) {
            return Err(config(
                "Shift",
                format!("max_px {max_px} must be finite and >= 0"),
            ));
        }
        Ok(Shift { max_px })
    }
}

impl Perturbation for Shift {
    fn name(&self) -> String {
        format!("shift({})", self.max_px)
    }

    fn apply(&self, image: ArrayView2<'_, f32>, rng: &mut StdRng) -> Array2<f32> {
        let (dx, dy) = (
            rng.random_range(-1.0..=1.0) * self.max_px,
            rng.random_range(-1.0..=1.0) * self.max_px,
        );
        shift(image, dx, dy).mapv(clip)
    }
}

/// A rotation about the image centre by an angle drawn uniformly from
/// `±max_deg` (bilinear).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rotation {
    max_deg: f32,
}

impl Rotation {
    /// Rotations of up to `max_deg` degrees either way.
    ///
    /// # Errors
    /// `max_deg` not finite or negative.
    pub fn new(max_deg: f32) -> Result<Self> {
        if !(max_deg.is_finite() && max_deg >= 0.0) {
            return Err(config(
                "Rotation",
                format!("max_deg {max_deg} must be finite and >= 0"),
            ));
        }
        Ok(Rotation { max_deg })
    }
}

impl Perturbation for Rotation {
    fn name(&self) -> String {
        format!("rotation({})", self.max_deg)
    }

    fn apply(&self, image: ArrayView2<'_, f32>, rng: &mut StdRng) -> Array2<f32> {
        rotate(image, rng.random_range(-1.0..=1.0) * self.max_deg).mapv(clip)
    }
}
