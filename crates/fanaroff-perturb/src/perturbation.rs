//! The perturbation trait and its seeded application to a batch.

use crate::error::{Result, check_images};
use ndarray::{Array2, Array4, ArrayView2, ArrayView4, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;

/// An image degradation. Images are raw single-channel values on the
/// 0 … 255 scale of MiraBest (sky background 0); every perturbation
/// returns values clipped to `[0, 255]`, so the result is again a valid
/// image for the same scaling.
pub trait Perturbation: Sync {
    /// A short label for tables (`poisson(10)`, `gaussian_snr(5)` ...).
    fn name(&self) -> String;

    /// Perturbs one `[H, W]` image with draws from `rng`.
    fn apply(&self, image: ArrayView2<'_, f32>, rng: &mut StdRng) -> Array2<f32>;
}

/// A seed for example `i` of a batch seeded by `seed`: the SplitMix64
/// finaliser ([`fanaroff_core::mix64`]) of `seed ^ i * GOLDEN_GAMMA`.
pub fn example_seed(seed: u64, i: u64) -> u64 {
    fanaroff_core::mix64(seed ^ i.wrapping_mul(fanaroff_core::GOLDEN_GAMMA))
}

/// Applies `p` to every channel of every image of `[N, C, H, W]` raw
/// images, in parallel; image `i` draws from its own RNG seeded by
/// `(seed, i)`, so the result does not depend on the thread count.
///
/// # Errors
/// An empty batch or non-finite values.
pub fn perturb_batch(
    p: &dyn Perturbation,
    images: ArrayView4<'_, f32>,
    seed: u64,
) -> Result<Array4<f32>> {
    check_images("perturb_batch", &images)?;
    let mut out = images.to_owned();
    out.axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .for_each(|(i, mut img)| {
            let mut rng = StdRng::seed_from_u64(example_seed(seed, i as u64));
            for mut ch in img.axis_iter_mut(Axis(0)) {
                let new = p.apply(ch.view(), &mut rng);
                ch.assign(&new);
            }
        });
    Ok(out)
}

/// Clips to the valid pixel range.
pub(crate) fn clip(x: f32) -> f32 {
    x.clamp(0.0, 255.0)
}
