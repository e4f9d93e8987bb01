//! The data section of an experiment: which images, how they are split,
//! scaled and augmented.

use crate::error::{Result, invalid};
use fanaroff_data::transform::Augment;
use fanaroff_data::{Dataset, MiraBest, Scaling, Standardize, Subset, SyntheticConfig};
use fanaroff_train::ArrayLoader;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How pixel values (0 … 255) become network inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScalingSpec {
    /// `(p / 255 - mean) / std` with MiraBest's mean and std (the BBB study).
    #[default]
    Standardize,
    /// `p / 127.5 - 1`, range -1 … 1 (the attention study).
    Symmetric,
    /// `p / 255`.
    Unit,
}

impl ScalingSpec {
    /// The data crate's [`Scaling`].
    pub fn scaling(self) -> Scaling {
        match self {
            ScalingSpec::Standardize => Scaling::Standardize(Standardize::MIRABEST),
            ScalingSpec::Symmetric => Scaling::Symmetric,
            ScalingSpec::Unit => Scaling::Unit,
        }
    }
}

/// The data section of an [`Experiment`](crate::Experiment).
///
/// | key | default | meaning |
/// |---|---|---|
/// | `mirabest` | none | path of a MiraBest release (`.tar.gz` or folder); must exist |
/// | `synthetic` | none | number of synthetic FRI/FRII galaxies instead (12.5 % test) |
/// | `val_fraction` | 0.2 | stratified validation share of the training images |
/// | `split_seed` | the experiment's `seed` | seeds the validation split (and synthetic images) alone, so the split and the initialisation can be varied separately |
/// | `scaling` | `standardize` | `standardize`, `symmetric` or `unit` |
/// | `augment` | rotations ±180° | an [`Augment`] table applied to training batches; `{}` for none (the only augmentation setting) |
/// | `train_snr` | none | peak SNR of Gaussian noise put once on every training and validation image (rounded to 0-255), seeded by the split seed: a model trained and selected on the noisy domain with its labels, the oracle of domain adaptation. Test images stay clean (studies add their own noise) |
///
/// Exactly one of `mirabest` and `synthetic` must be given: there is no
/// silent fall-back from a missing release to synthetic images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSpec {
    /// A MiraBest release.
    pub mirabest: Option<PathBuf>,
    /// Synthetic galaxies instead.
    pub synthetic: Option<usize>,
    /// Validation share of the training images.
    pub val_fraction: f64,
    /// Seed of the split; `None` uses the experiment's seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_seed: Option<u64>,
    /// Input scaling.
    pub scaling: ScalingSpec,
    /// Training-time augmentation.
    pub augment: Augment,
    /// Noise on the training and validation images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_snr: Option<f64>,
}

impl Default for DataSpec {
    fn default() -> Self {
        DataSpec {
            mirabest: None,
            synthetic: None,
            val_fraction: 0.2,
            split_seed: None,
            scaling: ScalingSpec::Standardize,
            augment: Augment::default().with_rotation(180.0),
            train_snr: None,
        }
    }
}

/// The images of a run: MBFRConfident train / validation / test and the
/// MBFRUncertain images (for synthetic data: a differently seeded draw,
/// which is *not* a set of hard cases).
#[derive(Debug, Clone)]
pub struct RunData {
    /// What the images are, for records and tables.
    pub source: String,
    /// Training images.
    pub train: Dataset,
    /// Validation images (model selection).
    pub val: Dataset,
    /// The validation images without the `train_snr` noise (the same as
    /// `val` when it is unset): studies that add noise of their own start
    /// from these.
    pub clean_val: Dataset,
    /// Test images.
    pub test: Dataset,
    /// Images the MiraBest labellers were unsure of.
    pub uncertain: Dataset,
}

impl DataSpec {
    /// Checks the section.
    ///
    /// # Errors
    /// Neither or both sources, an empty synthetic set, a validation share
    /// outside (0, 1), invalid augmentation.
    pub fn check(&self) -> Result<()> {
        match (&self.mirabest, self.synthetic) {
            (None, None) => Err(invalid(
                "data",
                "name a source: `mirabest = PATH` or `synthetic = N`",
            )),
            (Some(_), Some(_)) => Err(invalid(
                "data",
                "`mirabest` and `synthetic` exclude each other",
            )),
            (None, Some(n)) if n < 16 => {
                Err(invalid("data.synthetic", format!("{n} images; need >= 16")))
            }
            _ if !(self.val_fraction > 0.0 && self.val_fraction < 1.0) => Err(invalid(
                "data.val_fraction",
                format!("{} is outside (0, 1)", self.val_fraction),
            )),
            _ if self.train_snr.is_some_and(|s| !(s.is_finite() && s > 0.0)) => Err(invalid(
                "data.train_snr",
                format!("{:?}; must be > 0", self.train_snr),
            )),
            _ => {
                self.augment.clone().check()?;
                Ok(())
            }
        }
    }

    /// Reads or generates the images and splits them, seeded by
    /// `split_seed` when it is set and by `seed` otherwise.
    ///
    /// # Errors
    /// An invalid section; a release that is missing or unreadable.
    pub fn load(&self, seed: u64) -> Result<RunData> {
        self.check()?;
        let seed = self.split_seed.unwrap_or(seed);
        let mut rng = StdRng::seed_from_u64(seed);
        let (source, trainval, test, uncertain) = match (&self.mirabest, self.synthetic) {
            (Some(path), _) => {
                let mb =
                    MiraBest::open(path).map_err(|e| invalid("data.mirabest", e.to_string()))?;
                let uncertain = Dataset::concat(&[
                    &mb.train().subset(Subset::MbFrUncertain)?,
                    &mb.test().subset(Subset::MbFrUncertain)?,
                ])?;
                (
                    format!("MiraBest MBFRConfident ({})", path.display()),
                    mb.train().subset(Subset::MbFrConfident)?,
                    mb.test().subset(Subset::MbFrConfident)?,
                    uncertain,
                )
            }
            (None, Some(n)) => {
                let all = SyntheticConfig::default().with_seed(seed).generate(n)?;
                let (trainval, test) = all.stratified_split(0.125, &mut rng)?;
                let other = SyntheticConfig::default()
                    .with_seed(seed + 1)
                    .generate(n / 2)?;
                (format!("synthetic ({n} images)"), trainval, test, other)
            }
            (None, None) => unreachable!("checked above"),
        };
        let (mut train, mut val) = trainval.stratified_split(self.val_fraction, &mut rng)?;
        let mut source = source;
        let clean_val = val.clone();
        if let Some(snr) = self.train_snr {
            train = noisy(&train, snr, seed ^ 0x7a17)?;
            val = noisy(&val, snr, seed ^ 0x7a1d)?;
            source = format!("{source}, training and validation images at peak SNR {snr}");
        }
        Ok(RunData {
            source,
            train,
            val,
            clean_val,
            test,
            uncertain,
        })
    }

    /// A loader of `ds` with this section's scaling (no augmentation).
    ///
    /// # Errors
    /// An empty data set.
    pub fn loader(&self, ds: &Dataset) -> Result<ArrayLoader<u8>> {
        Ok(ArrayLoader::from_dataset(ds, self.scaling.scaling())?)
    }

    /// The training loader: scaling and augmentation (none when `augment`
    /// is empty, `{}`). This is the one place an experiment sets its
    /// augmentation.
    ///
    /// # Errors
    /// An empty data set; invalid augmentation.
    pub fn train_loader(&self, ds: &Dataset) -> Result<ArrayLoader<u8>> {
        let augment = self.augment.clone().check()?;
        let loader = self.loader(ds)?;
        Ok(if augment.is_identity() {
            loader
        } else {
            loader.with_augment(augment)
        })
    }
}

/// `ds` with seeded Gaussian noise at peak SNR `snr`, rounded back to bytes.
/// A copy of `ds` with Gaussian noise at peak signal-to-noise ratio `snr`,
/// rounded back to 8 bits.
pub(crate) fn noisy(ds: &Dataset, snr: f64, seed: u64) -> Result<Dataset> {
    let raw = ds.images().mapv(f32::from);
    let noise = fanaroff_perturb::GaussianSnr::new(snr)?;
    let out = fanaroff_perturb::perturb_batch(&noise, raw.view(), seed)?;
    let (_, labels, names, samples) = ds.clone().into_parts();
    Ok(Dataset::with_samples(
        out.mapv(|v| v.round().clamp(0.0, 255.0) as u8),
        labels,
        names,
        samples,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_must_be_named_and_must_exist() {
        let none = DataSpec::default();
        assert!(
            none.check()
                .unwrap_err()
                .to_string()
                .contains("name a source")
        );
        let missing = DataSpec {
            mirabest: Some("/nonexistent/MiraBest.tar.gz".into()),
            ..DataSpec::default()
        };
        let e = missing.load(0).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/MiraBest.tar.gz"), "{e}");
        let both = DataSpec {
            synthetic: Some(64),
            ..missing
        };
        assert!(both.check().is_err());
    }

    #[test]
    fn synthetic_splits_are_seeded() {
        let d = DataSpec {
            synthetic: Some(64),
            ..DataSpec::default()
        };
        let (a, b) = (d.load(3).unwrap(), d.load(3).unwrap());
        assert_eq!(a.train.labels(), b.train.labels());
        assert_eq!(a.train.len() + a.val.len() + a.test.len(), 64);
        assert!(a.source.contains("synthetic"));
        let bad = DataSpec {
            val_fraction: 1.0,
            ..d
        };
        assert!(bad.check().is_err());
    }

    #[test]
    fn train_snr_puts_seeded_noise_on_training_and_validation_images_only() {
        let clean = DataSpec {
            synthetic: Some(64),
            ..DataSpec::default()
        };
        let noisy = DataSpec {
            train_snr: Some(5.0),
            ..clean.clone()
        };
        let (c, n) = (clean.load(3).unwrap(), noisy.load(3).unwrap());
        assert_eq!(c.train.labels(), n.train.labels());
        assert_ne!(c.train.images(), n.train.images());
        assert_ne!(c.val.images(), n.val.images());
        assert_eq!(c.test.images(), n.test.images());
        // the clean copy of the validation images is kept for the studies
        assert_eq!(n.clean_val.images(), c.val.images());
        assert_eq!(c.clean_val.images(), c.val.images());
        assert_eq!(n.train.images(), noisy.load(3).unwrap().train.images());
        assert!(n.source.contains("peak SNR 5"));
        for bad in [0.0, -1.0, f64::NAN] {
            let d = DataSpec {
                train_snr: Some(bad),
                ..clean.clone()
            };
            assert!(d.check().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_split_seed_overrides_the_run_seed() {
        let d = DataSpec {
            synthetic: Some(64),
            ..DataSpec::default()
        };
        let fixed = DataSpec {
            split_seed: Some(5),
            ..d.clone()
        };
        let (a, b) = (fixed.load(0).unwrap(), fixed.load(1).unwrap());
        assert_eq!(a.train.images(), b.train.images());
        assert_eq!(a.val.images(), d.load(5).unwrap().val.images());
        assert_ne!(a.val.images(), d.load(0).unwrap().val.images());
    }
}
