//! Model selection on augmented copies of the validation images, as the
//! attention-gating study's code selects its model: the validation loss
//! averaged over many random affine copies rather than measured on the
//! images as they are.

use crate::array_loader::ArrayLoader;
use crate::error::{Result, config};
use crate::loader::mix_seed;
use crate::predict::PredictConfig;
use crate::tta::predict_augmented;
use crate::validation::{EvalInfo, Evaluate, probability_ce};
use fanaroff_nn::{Module, ModuleExt};
use std::collections::BTreeMap;

/// `val_nll`, `val_acc`, `val_err` and `val_prob_ce` (the cross-entropy of
/// the probabilities taken as logits, the study code's validation loss)
/// averaged over `reps` augmented copies of the validation images (one
/// forward pass per copy; a
/// stochastic model draws once per copy). Copy `r` of epoch `e` draws its
/// augmentation from `mix(mix(seed ^ "augval", e), r)`, so every epoch
/// sees new copies and a rerun sees the same ones.
pub struct AugmentedValidation<'a, T> {
    loader: &'a ArrayLoader<T>,
    reps: usize,
}

impl<'a, T> AugmentedValidation<'a, T>
where
    T: Copy + Into<f32> + Send + Sync,
{
    /// Validation on `reps` augmented copies of `loader`'s images (its own
    /// augmentation).
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for zero
    /// `reps` or a loader without augmentation.
    pub fn new(loader: &'a ArrayLoader<T>, reps: usize) -> Result<Self> {
        if reps == 0 {
            return Err(config("AugmentedValidation", "reps must be >= 1"));
        }
        if !loader.is_augmented() {
            return Err(config(
                "AugmentedValidation",
                "the validation loader has no augmentation (use with_augment)",
            ));
        }
        Ok(AugmentedValidation { loader, reps })
    }
}

impl<M, T> Evaluate<M> for AugmentedValidation<'_, T>
where
    M: Module,
    T: Copy + Into<f32> + Send + Sync,
{
    fn evaluate(&mut self, model: &mut M, info: &EvalInfo) -> Result<BTreeMap<String, f64>> {
        let seed = mix_seed(info.seed ^ 0x6175_6776_616c, info.epoch as u64);
        let cfg = PredictConfig::with_samples(1)
            .batch_size(info.batch_size)
            .seed(seed);
        model.eval();
        let p = predict_augmented(&*model, self.loader, self.reps, &cfg);
        model.train();
        let p = p?;
        let y = self.loader.labels();
        let (mut nll, mut wrong, mut prob_ce) = (0.0f64, 0usize, 0.0f64);
        for pass in p.outer_iter() {
            prob_ce += probability_ce(pass, y) * y.len() as f64;
            for (row, &c) in pass.outer_iter().zip(y) {
                nll -= (row[c].max(1e-12) as f64).ln();
                let best = (0..row.len())
                    .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                    .unwrap_or(0);
                wrong += usize::from(best != c);
            }
        }
        let n = (self.reps * y.len()).max(1) as f64;
        let err = wrong as f64 / n;
        Ok(BTreeMap::from([
            ("val_nll".to_string(), nll / n),
            ("val_acc".to_string(), 1.0 - err),
            ("val_err".to_string(), err),
            ("val_prob_ce".to_string(), prob_ce / n),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanaroff_data::transform::Augment;
    use fanaroff_nn::{Flatten, Linear, LinearConfig, Sequential};
    use ndarray::{ArrayD, IxDyn};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn setup() -> (ArrayLoader<f32>, Sequential) {
        let x = ArrayD::from_shape_fn(IxDyn(&[4, 1, 6, 6]), |i| {
            ((i[0] * 7 + i[2] * 3 + i[3]) % 11) as f32 / 11.0
        });
        let loader = ArrayLoader::new(x, vec![0, 1, 0, 1], 2).unwrap();
        let mut rng = StdRng::seed_from_u64(0);
        let model = Sequential::new().push("flat", Flatten).push(
            "fc",
            Linear::new(LinearConfig::new(36, 2), &mut rng).unwrap(),
        );
        (loader, model)
    }

    #[test]
    fn averages_over_copies_and_changes_with_the_epoch() {
        let (plain, mut model) = setup();
        assert!(AugmentedValidation::new(&plain, 3).is_err());
        let aug = plain.with_augment(Augment::default().with_rotation(180.0));
        assert!(AugmentedValidation::new(&aug, 0).is_err());
        let mut v = AugmentedValidation::new(&aug, 3).unwrap();
        let info = |epoch| EvalInfo {
            epoch,
            seed: 1,
            batch_size: 2,
        };
        let a = v.evaluate(&mut model, &info(0)).unwrap();
        assert_eq!(a, v.evaluate(&mut model, &info(0)).unwrap());
        assert_ne!(
            a["val_nll"],
            v.evaluate(&mut model, &info(1)).unwrap()["val_nll"]
        );
        assert!((a["val_acc"] + a["val_err"] - 1.0).abs() < 1e-12);
        // by hand: the mean NLL over the three copies of predict_augmented
        let cfg = PredictConfig::with_samples(1)
            .batch_size(2)
            .seed(mix_seed(1 ^ 0x6175_6776_616c, 0));
        let p = predict_augmented(&model, &aug, 3, &cfg).unwrap();
        let want: f64 = p
            .outer_iter()
            .flat_map(|pass| {
                pass.outer_iter()
                    .zip(aug.labels())
                    .map(|(row, &c)| -(row[c] as f64).ln())
                    .collect::<Vec<_>>()
            })
            .sum::<f64>()
            / 12.0;
        assert!((a["val_nll"] - want).abs() < 1e-9);
        // the study code's loss: ln(e^p0 + e^p1) - p_y per image and copy
        let want: f64 = p
            .outer_iter()
            .flat_map(|pass| {
                pass.outer_iter()
                    .zip(aug.labels())
                    .map(|(row, &c)| {
                        let (p0, p1) = (row[0] as f64, row[1] as f64);
                        (p0.exp() + p1.exp()).ln() - row[c] as f64
                    })
                    .collect::<Vec<_>>()
            })
            .sum::<f64>()
            / 12.0;
        assert!((a["val_prob_ce"] - want).abs() < 1e-9);
        let bounds = (1.0 + (-1.0f64).exp()).ln()..=(1.0 + 1.0f64.exp()).ln();
        assert!(bounds.contains(&a["val_prob_ce"]), "{}", a["val_prob_ce"]);
    }
}
