//! MBFRConfident as the examples load it: a named release is required to
//! exist; without one, the default path or synthetic images with a notice.

use fanaroff::data::{Dataset, MiraBest, Subset, SyntheticConfig};
use rand::rngs::StdRng;
use std::path::Path;

/// Where the examples look for the MiraBest release by default.
pub const DEFAULT_DATA: &str = "../shared/data/mirabest/MiraBest_full_batches.tar.gz";

/// MBFRConfident's training and test sets, split into train and validation
/// by `val_fraction` (stratified, from `rng`).
pub struct Confident {
    /// What the data is (for reports).
    pub source: String,
    /// Training examples.
    pub train: Dataset,
    /// Validation examples.
    pub val: Dataset,
    /// The release's test examples.
    pub test: Dataset,
}

/// Loads MBFRConfident: `synthetic = Some(n)` generates `n` galaxies
/// (seeded by `seed`; 12.5 % as test set); a `data` path must be a readable
/// release (an error otherwise); with neither, the default path, or 832
/// synthetic galaxies with a notice when it is absent.
///
/// # Errors
/// An unreadable named release; data errors.
pub fn load_confident(
    data: Option<&Path>,
    synthetic: Option<usize>,
    seed: u64,
    val_fraction: f64,
    rng: &mut StdRng,
) -> Result<Confident, Box<dyn std::error::Error>> {
    let (source, trainval, test) = match (synthetic, data) {
        (Some(n), _) => generated(n, seed, rng)?,
        (None, Some(p)) => release(p)?,
        (None, None) if Path::new(DEFAULT_DATA).exists() => release(Path::new(DEFAULT_DATA))?,
        (None, None) => {
            eprintln!("notice: {DEFAULT_DATA} not found; using 832 synthetic galaxies");
            generated(832, seed, rng)?
        }
    };
    let (train, val) = trainval.stratified_split(val_fraction, rng)?;
    Ok(Confident {
        source,
        train,
        val,
        test,
    })
}

type Split = (String, Dataset, Dataset);

fn release(p: &Path) -> Result<Split, Box<dyn std::error::Error>> {
    let mb = MiraBest::open(p).map_err(|e| format!("--data {}: {e}", p.display()))?;
    Ok((
        format!("MiraBest MBFRConfident ({})", p.display()),
        mb.train().subset(Subset::MbFrConfident)?,
        mb.test().subset(Subset::MbFrConfident)?,
    ))
}

fn generated(n: usize, seed: u64, rng: &mut StdRng) -> Result<Split, Box<dyn std::error::Error>> {
    let all = SyntheticConfig::default().with_seed(seed).generate(n)?;
    let (trainval, test) = all.stratified_split(0.125, rng)?;
    Ok((format!("synthetic ({n} images)"), trainval, test))
}

/// The augmentation of Bowles et al. 2021 (attention-gated CNNs): random
/// rotations of up to 180 degrees, shifts of up to 2 px, scaling 0.9-1.1.
pub fn bowles_augment() -> fanaroff::data::transform::Augment {
    fanaroff::data::transform::Augment::default()
        .with_rotation(180.0)
        .with_shift(2.0)
        .with_scale(0.9, 1.1)
}
