//! Made-up FRI/FRII probabilities for synthetic radio galaxies, scored with
//! calibration metrics: a small program written against `fanaroff-data` and
//! `fanaroff-calibrate` as a project outside their workspace would write it.
//!
//! The "classifier" is one hand-made feature, no training: an FRII source
//! is edge-brightened (its brightest emission is in the hotspots at the ends
//! of the lobes), an FRI source is brightest near its core. So the distance
//! of the brightest pixel from the flux centroid, over the radius around the
//! centroid that holds 95 % of the flux, is large for FRII and small for
//! FRI (medians about 0.5 and 0.13 on these settings); a logistic function
//! centred at 0.25 turns it into a probability.

use fanaroff_calibrate::{Binning, accuracy, brier, ece, nll};
use fanaroff_data::{Dataset, SyntheticConfig};
use ndarray::{Array2, ArrayView2};

/// `n` synthetic galaxies, half FRI (label 0), half FRII (label 1): bright
/// (peak SNR 50-300), resolved (15-45 pixels) and without the generator's
/// deliberately ambiguous sources.
///
/// # Errors
/// The generator's errors (none for these settings).
pub fn galaxies(n: usize, seed: u64) -> fanaroff_data::Result<Dataset> {
    SyntheticConfig::default()
        .with_seed(seed)
        .with_ambiguity(0.0)
        .with_snr_range(50.0, 300.0)
        .with_size_range(15.0, 45.0)
        .generate(n)
}

/// Distance of the brightest pixel from the flux centroid over the radius
/// around the centroid that holds 95 % of the flux (`0.0` for an empty
/// image).
pub fn edge_brightening(image: ArrayView2<'_, u8>) -> f64 {
    let pixels: Vec<(f64, f64, f64)> = image
        .indexed_iter()
        .filter(|&(_, &v)| v > 0)
        .map(|((y, x), &v)| (y as f64, x as f64, f64::from(v)))
        .collect();
    let total: f64 = pixels.iter().map(|p| p.2).sum();
    if total == 0.0 {
        return 0.0;
    }
    let cy = pixels.iter().map(|p| p.0 * p.2).sum::<f64>() / total;
    let cx = pixels.iter().map(|p| p.1 * p.2).sum::<f64>() / total;
    let dist = |p: &(f64, f64, f64)| (p.0 - cy).hypot(p.1 - cx);
    let brightest = pixels
        .iter()
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .map_or(0.0, dist);
    let mut by_radius: Vec<(f64, f64)> = pixels.iter().map(|p| (dist(p), p.2)).collect();
    by_radius.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut flux = 0.0;
    let r95 = by_radius
        .iter()
        .find(|&&(_, v)| {
            flux += v;
            flux >= 0.95 * total
        })
        .map_or(0.0, |&(r, _)| r);
    if r95 > 0.0 { brightest / r95 } else { 0.0 }
}

/// Probabilities `[N, 2]` (FRI, FRII) from [`edge_brightening`], kept
/// within `[0.02, 0.98]`.
pub fn made_up_probabilities(data: &Dataset) -> Array2<f64> {
    let mut p = Array2::zeros((data.len(), 2));
    for i in 0..data.len() {
        let r = edge_brightening(data.image(i));
        let fr2 = (1.0 / (1.0 + (-20.0 * (r - 0.25)).exp())).clamp(0.02, 0.98);
        p[[i, 0]] = 1.0 - fr2;
        p[[i, 1]] = fr2;
    }
    p
}

/// What the program prints.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Fraction of argmax predictions that are right.
    pub accuracy: f64,
    /// Expected calibration error, 10 equal-width bins.
    pub ece: f64,
    /// Mean negative log-likelihood (natural log).
    pub nll: f64,
    /// Brier score summed over the two classes.
    pub brier: f64,
}

/// Scores probabilities `[N, K]` against labels.
///
/// # Errors
/// `fanaroff_calibrate`'s errors: shapes that disagree, rows that are not
/// probabilities, labels out of range.
pub fn score(p: ArrayView2<'_, f64>, labels: &[usize]) -> fanaroff_calibrate::Result<Scores> {
    Ok(Scores {
        accuracy: accuracy(p, labels)?,
        ece: ece(p, labels, Binning::new(10)?)?,
        nll: nll(p, labels)?,
        brier: brier(p, labels)?,
    })
}
