//! Seeded random augmentation.

use ndarray::{Array2, Array4, ArrayView2, ArrayView4, Axis};
use rand::Rng;
use rayon::prelude::*;

use super::geometry::{Affine, center_crop, circular_mask};
use crate::error::{Error, Result};

/// Random augmentation of single-channel images; identity by default.
///
/// | name | default | meaning | valid range |
/// |---|---|---|---|
/// | `max_rotation` | 0 | rotation drawn from ±max degrees (180 = any angle) | 0 … 180 |
/// | `hflip` | 0 | probability of a left-right mirror | 0 … 1 |
/// | `vflip` | 0 | probability of a top-bottom mirror | 0 … 1 |
/// | `max_shift` | 0 | shift drawn from ±max pixels on each axis | ≥ 0 |
/// | `scale_range` | (1, 1) | zoom drawn log-uniformly from the range | 0 < min ≤ max |
/// | `crop` | none | centre crop after the geometric step | ≥ 1 |
/// | `mask_radius` | none | zero pixels beyond this radius (after cropping) | > 0 |
///
/// Per image the draws happen in a fixed order (angle, scale, shift x,
/// shift y, h-flip, v-flip), so a seeded RNG gives reproducible output.
/// Apply it to raw 0 … 255 values (background 0) and scale afterwards.
///
/// # Example
/// ```
/// use fanaroff_data::transform::Augment;
/// use ndarray::Array2;
/// use rand::SeedableRng;
/// let aug = Augment::default().with_rotation(180.0).with_flips(0.5, 0.5).with_center_crop(100).check()?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(3);
/// let out = aug.apply(Array2::<f32>::zeros((150, 150)).view(), &mut rng);
/// assert_eq!(out.dim(), (100, 100));
/// # Ok::<(), fanaroff_data::Error>(())
/// ```
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[derive(Debug, Clone, PartialEq)]
pub struct Augment {
    max_rotation: f32,
    hflip: f64,
    vflip: f64,
    max_shift: f32,
    scale_range: (f32, f32),
    crop: Option<usize>,
    mask_radius: Option<f32>,
}

impl Default for Augment {
    fn default() -> Self {
        Augment {
            max_rotation: 0.0,
            hflip: 0.0,
            vflip: 0.0,
            max_shift: 0.0,
            scale_range: (1.0, 1.0),
            crop: None,
            mask_radius: None,
        }
    }
}

impl Augment {
    /// Rotation drawn uniformly from `±max_deg` (180 = any angle).
    pub fn with_rotation(mut self, max_deg: f32) -> Self {
        self.max_rotation = max_deg;
        self
    }

    /// Probabilities of horizontal and vertical mirroring.
    pub fn with_flips(mut self, horizontal: f64, vertical: f64) -> Self {
        self.hflip = horizontal;
        self.vflip = vertical;
        self
    }

    /// Shift drawn uniformly from `±max_px` on each axis.
    pub fn with_shift(mut self, max_px: f32) -> Self {
        self.max_shift = max_px;
        self
    }

    /// Zoom drawn log-uniformly from `[min, max]`.
    pub fn with_scale(mut self, min: f32, max: f32) -> Self {
        self.scale_range = (min, max);
        self
    }

    /// Centre crop to `size × size` after the geometric step.
    pub fn with_center_crop(mut self, size: usize) -> Self {
        self.crop = Some(size);
        self
    }

    /// Zero everything farther than `radius` from the centre (after cropping).
    pub fn with_circular_mask(mut self, radius: f32) -> Self {
        self.mask_radius = Some(radius);
        self
    }

    /// Validates the parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first value outside its range.
    pub fn check(self) -> Result<Self> {
        if !(0.0..=180.0).contains(&self.max_rotation) {
            return Err(Error::param(
                "max_rotation",
                format!("{}; must be 0..=180", self.max_rotation),
            ));
        }
        for (name, p) in [("hflip", self.hflip), ("vflip", self.vflip)] {
            if !(0.0..=1.0).contains(&p) {
                return Err(Error::param(name, format!("{p}; must be a probability")));
            }
        }
        if !(self.max_shift.is_finite() && self.max_shift >= 0.0) {
            return Err(Error::param(
                "max_shift",
                format!("{}; must be >= 0", self.max_shift),
            ));
        }
        let (lo, hi) = self.scale_range;
        if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && lo <= hi) {
            return Err(Error::param(
                "scale_range",
                format!("({lo}, {hi}); need 0 < min <= max"),
            ));
        }
        if self.crop == Some(0) {
            return Err(Error::param("crop", "0; must be >= 1"));
        }
        if let Some(r) = self.mask_radius
            && !(r.is_finite() && r > 0.0)
        {
            return Err(Error::param("mask_radius", format!("{r}; must be > 0")));
        }
        Ok(self)
    }

    /// Whether the augmentation leaves every image as it is (no rotation,
    /// flip, shift, scaling, crop or mask), as `Augment::default()` does.
    ///
    /// ```
    /// use fanaroff_data::transform::Augment;
    /// assert!(Augment::default().is_identity());
    /// assert!(!Augment::default().with_rotation(180.0).is_identity());
    /// ```
    pub fn is_identity(&self) -> bool {
        self.max_rotation == 0.0
            && self.hflip == 0.0
            && self.vflip == 0.0
            && self.max_shift == 0.0
            && self.scale_range == (1.0, 1.0)
            && self.crop.is_none()
            && self.mask_radius.is_none()
    }

    /// Output size for an input of `h × w`: the crop side capped at the
    /// smaller image side, or the input size without a crop.
    pub fn output_size(&self, h: usize, w: usize) -> (usize, usize) {
        match self.crop {
            Some(c) => {
                let side = c.min(h).min(w);
                (side, side)
            }
            None => (h, w),
        }
    }

    /// Draws the random transform for one image.
    ///
    /// Uses only unit-interval draws, so even unchecked parameters never
    /// panic (validate with [`Augment::check`] to catch mistakes).
    pub fn draw(&self, rng: &mut impl Rng) -> Affine {
        let mut sym = |max: f32| -> f32 {
            if max > 0.0 {
                (rng.random::<f32>() * 2.0 - 1.0) * max
            } else {
                0.0
            }
        };
        let angle_deg = sym(self.max_rotation);
        let (lo, hi) = self.scale_range;
        let u: f32 = rng.random();
        let scale = if hi > lo && lo > 0.0 {
            lo * (u * (hi / lo).ln()).exp()
        } else {
            lo
        };
        let (dx, dy) = if self.max_shift > 0.0 {
            let dx = (rng.random::<f32>() * 2.0 - 1.0) * self.max_shift;
            let dy = (rng.random::<f32>() * 2.0 - 1.0) * self.max_shift;
            (dx, dy)
        } else {
            (0.0, 0.0)
        };
        let flip_horizontal = self.hflip > 0.0 && rng.random::<f64>() < self.hflip;
        let flip_vertical = self.vflip > 0.0 && rng.random::<f64>() < self.vflip;
        Affine {
            angle_deg,
            scale,
            dx,
            dy,
            flip_horizontal,
            flip_vertical,
        }
    }

    /// Applies a drawn transform, then the crop and mask.
    pub fn apply_drawn(&self, img: ArrayView2<'_, f32>, t: &Affine) -> Array2<f32> {
        let mut out = if *t == Affine::default() {
            img.to_owned()
        } else {
            t.apply(img)
        };
        if let Some(c) = self.crop {
            let (h, w) = out.dim();
            // Never larger than the image, matching `output_size`.
            if let Ok(cropped) = center_crop(out.view(), c.min(h).min(w)) {
                out = cropped;
            }
        }
        if let Some(r) = self.mask_radius {
            out = circular_mask(out.view(), r);
        }
        out
    }

    /// Draws and applies a random transform to one `[H, W]` image.
    pub fn apply(&self, img: ArrayView2<'_, f32>, rng: &mut impl Rng) -> Array2<f32> {
        let t = self.draw(rng);
        self.apply_drawn(img, &t)
    }

    /// Augments a batch `[N, 1, H, W]`: transforms are drawn sequentially from
    /// `rng` (deterministic), then applied in parallel.
    pub fn apply_batch(&self, images: ArrayView4<'_, f32>, rng: &mut impl Rng) -> Array4<f32> {
        let n = images.len_of(Axis(0));
        let (h, w) = (images.shape()[2], images.shape()[3]);
        let (oh, ow) = self.output_size(h, w);
        let draws: Vec<Affine> = (0..n).map(|_| self.draw(rng)).collect();
        let mut out = Array4::<f32>::zeros((n, 1, oh, ow));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(draws.par_iter())
            .enumerate()
            .for_each(|(i, (mut o, t))| {
                let img = images.index_axis(Axis(0), i);
                let res = self.apply_drawn(img.index_axis(Axis(0), 0), t);
                o.index_axis_mut(Axis(0), 0).assign(&res);
            });
        out
    }
}
