//! The shifted image sets of the uncertainty study, from near to far:
//! MBFRUncertain (sources the MiraBest labellers were unsure of), the
//! hybrid sources, synthetic galaxies and noisy copies of the test images.

use crate::data::{RunData, noisy};
use crate::error::{Result, invalid};
use crate::experiment::Experiment;
use fanaroff_data::{Dataset, MiraBest, Subset, SyntheticConfig};

/// A named set of images that are not the test distribution.
pub(crate) struct ShiftedSet {
    /// `uncertain`, `hybrid`, `synthetic` or `noisy`.
    pub name: &'static str,
    /// The images (labels unused).
    pub images: Dataset,
}

/// The shifted sets an experiment has: with MiraBest all four (hybrid
/// and synthetic when present and asked for); with synthetic training data
/// only the noisy copies (the other draws are not shifted).
///
/// # Errors
/// An unreadable release, a failed generator or noise model.
pub(crate) fn shifted_sets(
    exp: &Experiment,
    data: &RunData,
    synthetic: usize,
    snr: f64,
) -> Result<Vec<ShiftedSet>> {
    let mut sets = Vec::new();
    if let Some(path) = &exp.data.mirabest {
        sets.push(ShiftedSet {
            name: "uncertain",
            images: data.uncertain.clone(),
        });
        let mb = MiraBest::open(path).map_err(|e| invalid("data.mirabest", e.to_string()))?;
        let hybrid = Dataset::concat(&[
            &mb.train().subset(Subset::MbHybrid)?,
            &mb.test().subset(Subset::MbHybrid)?,
        ])?;
        if !hybrid.is_empty() {
            sets.push(ShiftedSet {
                name: "hybrid",
                images: hybrid,
            });
        }
        if synthetic > 0 {
            let images = SyntheticConfig::default()
                .with_seed(exp.seed ^ 0x5717)
                .generate(synthetic)?;
            sets.push(ShiftedSet {
                name: "synthetic",
                images,
            });
        }
    }
    sets.push(ShiftedSet {
        name: "noisy",
        images: noisy(&data.test, snr, exp.seed ^ 0x0157)?,
    });
    Ok(sets)
}
