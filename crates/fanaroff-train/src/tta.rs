//! Test-time augmentation: predictions over random augmentations of each
//! example, the evaluation protocol of e.g. the attention-gating study's
//! code (accuracy over 360 random affine copies of the test set).

use crate::array_loader::ArrayLoader;
use crate::error::{Error, Result, config};
use crate::loader::mix_seed;
use crate::predict::{PredictConfig, predict_samples, predictive_mean};
use fanaroff_nn::Module;
use ndarray::{Array2, Array3, Axis};

/// Predictive probabilities of `model` on `reps` augmented copies of every
/// example of `loader` (its own augmentation; copy `r` draws from
/// `mix(cfg.seed, r)`), each the mean of `cfg.samples` draws, stacked as
/// `[reps, N, K]` like Monte Carlo samples.
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for zero `reps`
/// or a loader without augmentation; prediction errors.
pub fn predict_augmented<T, M>(
    model: &M,
    loader: &ArrayLoader<T>,
    reps: usize,
    cfg: &PredictConfig,
) -> Result<Array3<f32>>
where
    T: Copy + Into<f32> + Send + Sync,
    M: Module + ?Sized,
{
    if reps == 0 {
        return Err(config("predict_augmented", "reps must be >= 1"));
    }
    let passes: Vec<Array2<f32>> = (0..reps)
        .map(|r| {
            let seed = mix_seed(cfg.seed, r as u64);
            let x = loader.augmented_inputs(seed)?.ok_or_else(|| {
                config::<Error>("predict_augmented", "the loader has no augmentation")
            })?;
            let s = predict_samples(model, x.view(), &cfg.seed(seed))?;
            Ok(predictive_mean(s.view()))
        })
        .collect::<Result<_>>()?;
    let views: Vec<_> = passes.iter().map(|p| p.view()).collect();
    ndarray::stack(Axis(0), &views).map_err(|e| config("predict_augmented", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanaroff_data::transform::Augment;
    use fanaroff_nn::{Linear, LinearConfig, Sequential};
    use ndarray::ArrayD;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn copies_differ_by_draw_and_repeat_by_seed() {
        let x = ArrayD::from_shape_fn(ndarray::IxDyn(&[3, 1, 6, 6]), |i| {
            (i[0] * 7 + i[2] * 3 + i[3]) as f32
        });
        let plain = ArrayLoader::new(x, vec![0, 1, 0], 2).unwrap();
        let loader = plain
            .clone()
            .with_augment(Augment::default().with_rotation(180.0));
        let mut rng = StdRng::seed_from_u64(0);
        let model = Sequential::new().push("flat", fanaroff_nn::Flatten).push(
            "fc",
            Linear::new(LinearConfig::new(36, 2), &mut rng).unwrap(),
        );
        let cfg = PredictConfig::with_samples(1).seed(4);
        let a = predict_augmented(&model, &loader, 3, &cfg).unwrap();
        assert_eq!(a.shape(), &[3, 3, 2]);
        assert_eq!(a, predict_augmented(&model, &loader, 3, &cfg).unwrap());
        assert_ne!(a.index_axis(Axis(0), 0), a.index_axis(Axis(0), 1));
        assert!(predict_augmented(&model, &loader, 0, &cfg).is_err());
        assert!(predict_augmented(&model, &plain, 2, &cfg).is_err());
    }
}
