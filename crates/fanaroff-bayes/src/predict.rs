//! Monte Carlo predictive distributions: the generic ones live in
//! `fanaroff-train` (re-exported here); the deep ensemble's is here.

use crate::error::{Result, config};
use crate::model::Ensemble;
use fanaroff_nn::Module;
use fanaroff_train::{
    Classifier, ModuleClassifier, PredictConfig, Result as TrainResult, mix_seed,
};
use ndarray::{Array2, Array3, ArrayViewD, Axis};
use rayon::prelude::*;

/// The deep-ensemble predictive: member `s` gives slice `s` of the
/// `[members, N, K]` output (each member run with RNG seed `mix(seed, s)`).
///
/// # Errors
/// As [`predict_samples`](crate::predict_samples).
pub fn predict_ensemble<M: Module + Sync>(
    ensemble: &Ensemble<M>,
    x: ArrayViewD<'_, f32>,
    batch_size: usize,
    seed: u64,
) -> Result<Array3<f32>> {
    if batch_size == 0 {
        return Err(config("predict_ensemble", "batch_size must be >= 1"));
    }
    let cfg = PredictConfig::default().batch_size(batch_size).seed(seed);
    Ok(Classifier::predict(ensemble, x, &cfg)?)
}

/// A deep ensemble as a [`Classifier`]: draw `seed` is member `seed mod
/// members`, and [`predict`](Classifier::predict) gives one sample per
/// member, whatever `cfg.samples` (see [`predict_ensemble`]).
impl<M: Module + Sync> Classifier for Ensemble<M> {
    fn probabilities(&self, x: ArrayViewD<'_, f32>, seed: u64) -> TrainResult<Array2<f32>> {
        let member = &self.members[(seed % self.members.len() as u64) as usize];
        ModuleClassifier::new(member, false).probabilities(x, seed)
    }

    fn stochastic(&self) -> bool {
        self.members.len() > 1
    }

    fn predict(&self, x: ArrayViewD<'_, f32>, cfg: &PredictConfig) -> TrainResult<Array3<f32>> {
        fanaroff_train::check_input(&x)?;
        let one = cfg.check()?;
        let draws: Vec<Array2<f32>> = self
            .members
            .par_iter()
            .enumerate()
            .map(|(s, m)| fanaroff_train::one_draw(m, &x, &one, mix_seed(cfg.seed, s as u64)))
            .collect::<TrainResult<_>>()?;
        let views: Vec<_> = draws.iter().map(|d| d.view()).collect();
        ndarray::stack(Axis(0), &views)
            .map_err(|e| fanaroff_core::input("predict_ensemble", e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use crate::{BayesLinear, Estimator, VariationalConfig};
    use fanaroff_nn::{Dropout, Linear, LinearConfig, Module, ModuleExt, Sequential};
    use fanaroff_train::{PredictConfig, per_sample_error, predict_samples};
    use ndarray::{ArrayD, Axis, IxDyn, s};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn deterministic_for_a_seed_and_rows_sum_to_one() {
        let fc = BayesLinear::new(
            LinearConfig::new(3, 2),
            &VariationalConfig::default().rho_init(-1.0, -0.5),
            &mut StdRng::seed_from_u64(0),
        )
        .unwrap();
        let x = ArrayD::from_shape_fn(IxDyn(&[7, 3]), |i| (i[0] as f32 - 3.0) * 0.5 + i[1] as f32);
        let cfg = PredictConfig::with_samples(6).batch_size(3).seed(9);
        let a = predict_samples(&fc, x.view(), &cfg).unwrap();
        let b = predict_samples(&fc, x.view(), &cfg).unwrap();
        assert_eq!(a, b);
        for row in a.lanes(Axis(2)) {
            assert!((row.sum() - 1.0).abs() < 1e-5);
        }
        // draws differ from each other, and batching does not change a draw
        assert_ne!(a.slice(s![0, .., ..]), a.slice(s![1, .., ..]));
        let c = predict_samples(&fc, x.view(), &cfg.batch_size(7)).unwrap();
        for (u, v) in a.iter().zip(c.iter()) {
            assert!((u - v).abs() < 1e-5);
        }
        assert!(predict_samples(&fc, x.view(), &PredictConfig::with_samples(0)).is_err());
        let mut bad = x.clone();
        bad[[0, 0]] = f32::NAN;
        assert!(predict_samples(&fc, bad.view(), &cfg).is_err());
        let empty = ArrayD::<f32>::zeros(IxDyn(&[0, 3]));
        assert!(predict_samples(&fc, empty.view(), &cfg).is_err());
        let wrong = ArrayD::<f32>::zeros(IxDyn(&[2, 4]));
        assert!(predict_samples(&fc, wrong.view(), &cfg).is_err());
        let errs = per_sample_error(a.view(), &[0, 0, 0, 1, 1, 1, 1]).unwrap();
        assert_eq!(errs.len(), 6);
        assert!(per_sample_error(a.view(), &[0]).is_err());
    }

    fn layer(estimator: Estimator) -> BayesLinear {
        let cfg = VariationalConfig::default()
            .rho_init(-1.0, -0.5)
            .estimator(estimator);
        BayesLinear::new(LinearConfig::new(4, 3), &cfg, &mut StdRng::seed_from_u64(1)).unwrap()
    }

    /// Draws `[S, 6, K]` of six identical rows in batches of three: rows 0
    /// and 3 sit at the same position of different batches.
    fn same_rows<M: Module>(m: &M, cfg: PredictConfig) -> ndarray::Array3<f32> {
        let x = ArrayD::from_shape_fn(IxDyn(&[6, 4]), |i| 0.3 * i[1] as f32 - 0.4);
        let a = predict_samples(m, x.view(), &cfg).unwrap();
        assert_eq!(a, predict_samples(m, x.view(), &cfg).unwrap(), "seeded");
        a
    }

    fn differ(a: &ndarray::Array3<f32>, i: usize, j: usize) -> bool {
        (0..a.shape()[0]).all(|s| a.slice(s![s, i, ..]) != a.slice(s![s, j, ..]))
    }

    /// MC dropout in front of a linear layer: noise per example only.
    fn mc_dropout_net() -> Sequential {
        let mut rng = StdRng::seed_from_u64(2);
        Sequential::new()
            .push("drop", Dropout::new(0.5).unwrap().monte_carlo(true))
            .push(
                "fc",
                Linear::new(LinearConfig::new(4, 3), &mut rng).unwrap(),
            )
    }

    #[test]
    fn per_example_noise_is_independent_across_batches() {
        let cfg = PredictConfig::with_samples(4).batch_size(3).seed(5);
        let per_example = cfg.weight_sampling(false);
        for est in [Estimator::LocalReparam, Estimator::Flipout] {
            let a = same_rows(&layer(est), per_example);
            assert!(differ(&a, 0, 3) && differ(&a, 0, 1), "{est:?}");
        }
        let dropout = mc_dropout_net();
        let a = same_rows(&dropout, cfg);
        assert!(differ(&a, 0, 3), "dropout masks repeat across batches");
    }

    #[test]
    fn weight_draws_are_one_network_per_draw_whatever_the_estimator() {
        let cfg = PredictConfig::with_samples(4).batch_size(3).seed(5);
        for est in [
            Estimator::Reparam,
            Estimator::LocalReparam,
            Estimator::Flipout,
        ] {
            let a = same_rows(&layer(est), cfg);
            for r in 1..6 {
                assert_eq!(a.slice(s![.., 0, ..]), a.slice(s![.., r, ..]), "{est:?}");
            }
            assert_ne!(a.slice(s![0, .., ..]), a.slice(s![1, .., ..]));
        }
        // a layer with a fixed seed keeps it inside a prediction pass
        let mut fixed = layer(Estimator::Reparam);
        fixed.set_sample_mode(fanaroff_nn::SampleMode::Fixed(3));
        let a = same_rows(&fixed, cfg);
        assert_eq!(a.slice(s![0, .., ..]), a.slice(s![1, .., ..]));
    }

    fn small_bbb_lenet(estimator: Estimator) -> Sequential {
        let cfg = fanaroff_nn::models::LeNetConfig {
            image_size: 64,
            channels: [3, 4, 4, 4],
            hidden: [8, 8],
            ..Default::default()
        };
        let v = VariationalConfig::default()
            .rho_init(-2.0, -1.5)
            .estimator(estimator);
        crate::bbb_lenet(&cfg, &v, &mut StdRng::seed_from_u64(3)).unwrap()
    }

    fn images(n: usize) -> ArrayD<f32> {
        ArrayD::from_shape_fn(IxDyn(&[n, 1, 64, 64]), |i| {
            ((i[0] * 13 + i[2] * 7 + i[3] * 3) % 17) as f32 / 8.0 - 1.0
        })
    }

    #[test]
    fn several_draws_per_pass_give_the_same_samples() {
        let x = images(7);
        for est in [Estimator::Reparam, Estimator::LocalReparam] {
            let net = small_bbb_lenet(est);
            let cfg = PredictConfig::with_samples(7).batch_size(3).seed(4);
            let one = predict_samples(&net, x.view(), &cfg).unwrap();
            assert_ne!(one.slice(s![0, .., ..]), one.slice(s![1, .., ..]));
            for g in [2, 3, 7, 10] {
                let grouped = predict_samples(&net, x.view(), &cfg.draws_per_pass(g)).unwrap();
                assert_eq!(grouped.shape(), one.shape());
                let worst = one
                    .iter()
                    .zip(grouped.iter())
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert!(worst < 1e-5, "{est:?}, {g} per pass: off by {worst}");
            }
        }
        assert!(
            PredictConfig::with_samples(3)
                .draws_per_pass(0)
                .check()
                .is_err()
        );
    }

    #[test]
    fn groups_leave_per_example_noise_models_unchanged() {
        let dropout = mc_dropout_net();
        let x = ArrayD::from_shape_fn(IxDyn(&[5, 4]), |i| 0.3 * i[1] as f32 - 0.4 + i[0] as f32);
        let cfg = PredictConfig::with_samples(5).batch_size(2).seed(1);
        let one = predict_samples(&dropout, x.view(), &cfg).unwrap();
        let grouped = predict_samples(&dropout, x.view(), &cfg.draws_per_pass(4)).unwrap();
        assert_eq!(one, grouped, "each draw keeps its own dropout masks");
        assert_ne!(one.slice(s![0, .., ..]), one.slice(s![1, .., ..]));
    }

    #[test]
    fn a_group_refuses_to_record_a_graph() {
        let net = small_bbb_lenet(Estimator::Reparam);
        let x = fanaroff_tensor::Tensor::new(images(2));
        let mut rng = StdRng::seed_from_u64(0);
        let mut pass = fanaroff_nn::Pass::new(&mut rng).with_group(&[1, 2], 2);
        let err = net.forward(&x, &mut pass).unwrap_err();
        assert!(err.to_string().contains("prediction"), "{err}");
    }

    #[test]
    fn an_ensemble_is_a_classifier_with_one_draw_per_member() {
        use crate::{Ensemble, predict_ensemble};
        use fanaroff_train::{Classifier, ModuleClassifier};
        let members: Vec<Linear> = (0..3)
            .map(|k| Linear::new(LinearConfig::new(3, 2), &mut StdRng::seed_from_u64(k)).unwrap())
            .collect();
        let ens = Ensemble::new(members).unwrap();
        let x = ArrayD::from_shape_fn(IxDyn(&[5, 3]), |i| i[0] as f32 - 0.5 * i[1] as f32);
        // one sample per member, whatever the asked number
        let cfg = PredictConfig::with_samples(50).batch_size(2).seed(4);
        let p = ens.predict(x.view(), &cfg).unwrap();
        assert_eq!(p.shape(), &[3, 5, 2]);
        assert_eq!(p, predict_ensemble(&ens, x.view(), 2, 4).unwrap());
        // draw `seed` is member `seed mod 3`
        for seed in [0u64, 4, 8] {
            let member = &ens.members[(seed % 3) as usize];
            let want = ModuleClassifier::new(member, false)
                .probabilities(x.view(), 0)
                .unwrap();
            assert_eq!(ens.probabilities(x.view(), seed).unwrap(), want);
            assert_eq!(p.index_axis(Axis(0), (seed % 3) as usize), want);
        }
        assert!(ens.stochastic());
    }
}
