//! One face for every attack, so that code that attacks (adversarial
//! training, robustness studies) takes any of them.

use super::{Fgsm, OnePixel, Pgd};
use crate::classifier::GradientClassifier;
use crate::error::{Result, input};
use ndarray::{Array4, ArrayView4, Axis};

/// An attack on a batch: the attacked copies of `x [N, C, H, W]` for their
/// `labels`, seeded by `seed`.
///
/// ```
/// use fanaroff_perturb::attack::{Attack, Bounds, Fgsm, Norm, Pgd};
/// let b = Bounds::new(-1.0, 1.0).unwrap();
/// let attacks: Vec<Box<dyn Attack>> = vec![
///     Box::new(Fgsm::new(0.1, b).unwrap()),
///     Box::new(Pgd::new(Norm::LInf, 0.1, b).unwrap()),
/// ];
/// assert_eq!(attacks.iter().map(|a| a.name()).collect::<Vec<_>>(), ["fgsm", "pgd"]);
/// ```
pub trait Attack: Send + Sync + std::fmt::Debug {
    /// A short name for tables.
    fn name(&self) -> &'static str;

    /// The attacked batch.
    ///
    /// # Errors
    /// Invalid input (shapes, labels); model failures.
    fn attack_batch(
        &self,
        model: &dyn GradientClassifier,
        x: ArrayView4<'_, f32>,
        labels: &[usize],
        seed: u64,
    ) -> Result<Array4<f32>>;
}

/// The gradient attacks already attack a batch.
macro_rules! batch_attack {
    ($t:ty, $name:literal) => {
        impl Attack for $t {
            fn name(&self) -> &'static str {
                $name
            }
            fn attack_batch(
                &self,
                model: &dyn GradientClassifier,
                x: ArrayView4<'_, f32>,
                labels: &[usize],
                seed: u64,
            ) -> Result<Array4<f32>> {
                self.attack(model, x, labels, seed)
            }
        }
    };
}

batch_attack!(Fgsm, "fgsm");
batch_attack!(Pgd, "pgd");

/// Image `i` is attacked alone with seed `seed + i`; the best image found
/// replaces it, whether or not the goal was reached.
impl Attack for OnePixel {
    fn name(&self) -> &'static str {
        "one_pixel"
    }
    fn attack_batch(
        &self,
        model: &dyn GradientClassifier,
        x: ArrayView4<'_, f32>,
        labels: &[usize],
        seed: u64,
    ) -> Result<Array4<f32>> {
        if labels.len() != x.shape()[0] {
            let msg = format!("{} labels for {} images", labels.len(), x.shape()[0]);
            return Err(input("OnePixel", msg));
        }
        let mut out = x.to_owned();
        for (i, &y) in labels.iter().enumerate() {
            let r = self.attack(model, x.index_axis(Axis(0), i), y, seed + i as u64)?;
            out.index_axis_mut(Axis(0), i).assign(&r.image);
        }
        Ok(out)
    }
}
