//! Parameters of the synthetic FRI/FRII generator.

use crate::error::{Error, Result};

/// Parameters of the synthetic radio-galaxy generator.
///
/// | name | default | meaning | valid range |
/// |---|---|---|---|
/// | `seed` | 0 | seed of all random draws | any |
/// | `image_size` | 150 | output side in pixels (1.8″/px like FIRST) | 32 … 512 |
/// | `size_range` | (5, 45) | half-extent of the source in pixels, drawn log-uniformly | 2 ≤ min ≤ max ≤ image_size/2 |
/// | `snr_range` | (6, 300) | peak signal-to-noise ratio, drawn log-uniformly | 1 ≤ min ≤ max |
/// | `beam_fwhm` | 2.78 | restoring beam FWHM in pixels (5″ at 1.8″/px) | 0.5 … 10 |
/// | `frii_fraction` | 0.5 | fraction of FRII images (exact count, rounded) | 0 … 1 |
/// | `bent_fraction` | 0.3 | probability of a bent / wide-angle-tail source | 0 … 1 |
/// | `max_flux_ratio` | 3 | largest brightness ratio between the two sides | ≥ 1 |
/// | `ambiguity` | 0.4 | overlap of the classes' morphologies (0 = textbook, 1 = heavy overlap) | 0 … 1 |
///
/// Lower `snr_range`, smaller `size_range` and larger `ambiguity` make the
/// task harder.
///
/// # Example
/// ```
/// use fanaroff_data::SyntheticConfig;
/// let cfg = SyntheticConfig::default().with_seed(7).with_snr_range(20.0, 100.0);
/// let ds = cfg.generate(4)?;
/// assert_eq!(ds.images().shape(), &[4, 1, 150, 150]);
/// assert_eq!(ds.class_names(), ["FRI", "FRII"]);
/// # Ok::<(), fanaroff_data::Error>(())
/// ```
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticConfig {
    pub(crate) seed: u64,
    pub(crate) image_size: usize,
    pub(crate) size_range: (f32, f32),
    pub(crate) snr_range: (f32, f32),
    pub(crate) beam_fwhm: f32,
    pub(crate) frii_fraction: f64,
    pub(crate) bent_fraction: f32,
    pub(crate) max_flux_ratio: f32,
    pub(crate) ambiguity: f32,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            seed: 0,
            image_size: 150,
            size_range: (5.0, 45.0),
            snr_range: (6.0, 300.0),
            beam_fwhm: 2.78,
            frii_fraction: 0.5,
            bent_fraction: 0.3,
            max_flux_ratio: 3.0,
            ambiguity: 0.4,
        }
    }
}

impl SyntheticConfig {
    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the output side length.
    pub fn with_image_size(mut self, side: usize) -> Self {
        self.image_size = side;
        self
    }

    /// Sets the range of source half-extents in pixels.
    pub fn with_size_range(mut self, min: f32, max: f32) -> Self {
        self.size_range = (min, max);
        self
    }

    /// Sets the range of peak signal-to-noise ratios.
    pub fn with_snr_range(mut self, min: f32, max: f32) -> Self {
        self.snr_range = (min, max);
        self
    }

    /// Sets the beam FWHM in pixels.
    pub fn with_beam_fwhm(mut self, fwhm: f32) -> Self {
        self.beam_fwhm = fwhm;
        self
    }

    /// Sets the fraction of FRII images.
    pub fn with_frii_fraction(mut self, f: f64) -> Self {
        self.frii_fraction = f;
        self
    }

    /// Sets the probability of bent sources.
    pub fn with_bent_fraction(mut self, p: f32) -> Self {
        self.bent_fraction = p;
        self
    }

    /// Sets the largest brightness ratio between the two sides.
    pub fn with_max_flux_ratio(mut self, r: f32) -> Self {
        self.max_flux_ratio = r;
        self
    }

    /// Sets the class-overlap knob (0 textbook … 1 heavy overlap).
    pub fn with_ambiguity(mut self, a: f32) -> Self {
        self.ambiguity = a;
        self
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The output side length.
    pub fn image_size(&self) -> usize {
        self.image_size
    }

    /// Validates all parameters against the table above.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first bad parameter.
    pub fn check(self) -> Result<Self> {
        let (lo, hi) = self.size_range;
        if !(32..=512).contains(&self.image_size) {
            return Err(Error::param(
                "image_size",
                format!("{}; must be 32..=512", self.image_size),
            ));
        }
        if !(lo.is_finite()
            && hi.is_finite()
            && lo >= 2.0
            && lo <= hi
            && hi <= self.image_size as f32 / 2.0)
        {
            return Err(Error::param(
                "size_range",
                format!("({lo}, {hi}); need 2 <= min <= max <= image_size/2"),
            ));
        }
        let (slo, shi) = self.snr_range;
        if !(slo.is_finite() && shi.is_finite() && slo >= 1.0 && slo <= shi) {
            return Err(Error::param(
                "snr_range",
                format!("({slo}, {shi}); need 1 <= min <= max"),
            ));
        }
        if !(0.5..=10.0).contains(&self.beam_fwhm) {
            return Err(Error::param(
                "beam_fwhm",
                format!("{}; must be 0.5..=10", self.beam_fwhm),
            ));
        }
        if !(0.0..=1.0).contains(&self.frii_fraction) {
            return Err(Error::param(
                "frii_fraction",
                format!("{}; must be in [0, 1]", self.frii_fraction),
            ));
        }
        if !(0.0..=1.0).contains(&self.bent_fraction) {
            return Err(Error::param(
                "bent_fraction",
                format!("{}; must be in [0, 1]", self.bent_fraction),
            ));
        }
        if !(self.max_flux_ratio.is_finite() && self.max_flux_ratio >= 1.0) {
            return Err(Error::param(
                "max_flux_ratio",
                format!("{}; must be >= 1", self.max_flux_ratio),
            ));
        }
        if !(0.0..=1.0).contains(&self.ambiguity) {
            return Err(Error::param(
                "ambiguity",
                format!("{}; must be in [0, 1]", self.ambiguity),
            ));
        }
        Ok(self)
    }
}
