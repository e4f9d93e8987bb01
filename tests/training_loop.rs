//! The generic loop against a hand-written one, and its bad-input rules.

mod common;

use fanaroff::nn::models::{LeNetConfig, lenet};
use fanaroff::nn::{
    AdamConfig, Linear, LinearConfig, Module, ModuleExt, Optimizer, Reduction, Sequential,
    cross_entropy,
};
use fanaroff::tensor::Tensor;
use fanaroff::train::{ArrayLoader, Loader, Monitor, TrainConfig, Trainer, Validation, mix_seed};
use ndarray::{ArrayD, Axis, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

fn quiet(epochs: usize) -> TrainConfig {
    TrainConfig::default()
        .epochs(epochs)
        .batch_size(8)
        .adam(1e-2)
        .schedule(None)
        .progress(false)
        .log_epochs(false)
}

fn linear(seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    Sequential::new().push(
        "fc",
        Linear::new(LinearConfig::new(4, 2), &mut rng).unwrap(),
    )
}

/// With the same RNG protocol (epoch `e` shuffles with `mix_seed(seed, e)`),
/// a plain Adam + cross-entropy loop written by hand gives exactly the
/// loop's per-epoch losses and final weights.
#[test]
fn the_loop_equals_a_hand_written_loop() {
    let data = common::blobs(30, 4, 0, 1.0);
    let x = data.inputs();
    let mut hand = linear(3);
    let mut adam = AdamConfig::with_lr(1e-2).build().unwrap();
    let mut hand_losses = Vec::new();
    for epoch in 0..3u64 {
        let mut rng = StdRng::seed_from_u64(mix_seed(5, epoch));
        let mut order: Vec<usize> = (0..30).collect();
        order.shuffle(&mut rng);
        let mut sum = 0.0;
        for idx in order.chunks(8) {
            let xb = Tensor::new(x.select(Axis(0), idx));
            let yb: Vec<usize> = idx.iter().map(|&i| data.labels()[i]).collect();
            let loss = cross_entropy(
                &hand.forward_rng(&xb, &mut rng).unwrap(),
                &yb,
                Reduction::Mean,
            )
            .unwrap();
            sum += loss.item().unwrap() as f64 * idx.len() as f64;
            adam.step(&mut hand, &loss.backward().unwrap()).unwrap();
        }
        hand_losses.push(sum / 30.0);
    }
    let mut model = linear(3);
    let h = Trainer::new(quiet(3).seed(5))
        .unwrap()
        .fit(&mut model, &data)
        .unwrap();
    let losses: Vec<f64> = h.series("loss").into_iter().map(Option::unwrap).collect();
    assert_eq!(losses, hand_losses);
    assert_eq!(common::state(&model), common::state(&hand));
}

#[test]
fn bad_inputs_give_errors_that_name_the_problem() {
    // empty data set
    let e = ArrayLoader::new(ArrayD::<f32>::zeros(IxDyn(&[0, 4])), vec![], 2).unwrap_err();
    assert!(e.to_string().contains("non-empty"), "{e}");
    // label out of range for the data set
    let e = ArrayLoader::new(ArrayD::<f32>::zeros(IxDyn(&[2, 4])), vec![0, 5], 2).unwrap_err();
    assert!(e.to_string().contains("label 5"), "{e}");
    // label count
    assert!(ArrayLoader::new(ArrayD::<f32>::zeros(IxDyn(&[2, 4])), vec![0], 2).is_err());
    // NaN input
    let e = ArrayLoader::new(ArrayD::from_elem(IxDyn(&[1, 4]), f32::NAN), vec![0], 2).unwrap_err();
    assert!(e.to_string().contains("NaN"), "{e}");
    // index out of range, empty batch
    let data = common::blobs(10, 4, 0, 1.0);
    assert!(data.batch(&[10], 0, false).is_err());
    assert!(data.batch(&[], 0, false).is_err());

    // a label the model cannot output: 3 classes in the data, 2 outputs
    let three = ArrayLoader::new(
        ArrayD::from_shape_fn(IxDyn(&[6, 4]), |i| i[0] as f32),
        vec![0, 1, 2, 0, 1, 2],
        3,
    )
    .unwrap();
    let e = Trainer::new(quiet(1))
        .unwrap()
        .fit(&mut linear(0), &three)
        .unwrap_err();
    assert!(e.to_string().contains("label 2 out of range"), "{e}");

    // wrong channel count: 3-channel images into a 1-channel LeNet
    let images = common::images(4, 3, 150, 0);
    let mut net = lenet(&LeNetConfig::default(), &mut StdRng::seed_from_u64(0)).unwrap();
    let e = Trainer::new(quiet(1))
        .unwrap()
        .fit(&mut net, &images)
        .unwrap_err();
    assert!(e.to_string().contains("channel"), "{e}");

    // a monitored metric nobody produces
    let e = Trainer::new(quiet(1).monitor(Some(Monitor::min("val_uce"))))
        .unwrap()
        .validation(Validation::new(&data))
        .fit(&mut linear(0), &data)
        .unwrap_err();
    assert!(e.to_string().contains("val_uce"), "{e}");

    // settings
    assert!(quiet(0).check().is_err());
    assert!(quiet(1).batch_size(0).check().is_err());
    assert!(quiet(1).adam(-1.0).check().is_err());
    assert!(quiet(1).resume(true).check().is_err());
    assert!(quiet(1).early_stopping(Some(0)).check().is_err());
    let e = serde_json::from_str::<TrainConfig>(r#"{"epocs": 3}"#).unwrap_err();
    assert!(e.to_string().contains("epocs"), "{e}");
    assert!(Validation::new(&data).samples(0).is_err());
}

#[test]
fn early_stopping_and_best_restore() {
    let train = common::blobs(40, 4, 0, 3.0);
    let val = common::blobs(20, 4, 1, 3.0);
    let mut model = linear(1);
    // a rate so large that validation gets worse: early stopping ends the run,
    // and the model ends with the best epoch's weights
    let cfg = quiet(40).adam(3.0).early_stopping(Some(2));
    let h = Trainer::new(cfg)
        .unwrap()
        .validation(Validation::new(&val))
        .fit(&mut model, &train)
        .unwrap();
    assert!(
        h.stopped_early && h.records.len() < 40,
        "{} epochs",
        h.records.len()
    );
    let best = h.best_epoch.unwrap();
    let best_nll = h.records[best - 1].get("val_nll").unwrap();
    assert!(
        h.records
            .iter()
            .all(|r| r.get("val_nll").unwrap() >= best_nll)
    );
    let mut v = Validation::new(&val);
    let now = fanaroff::train::Evaluate::evaluate(
        &mut v,
        &mut model,
        &fanaroff::train::EvalInfo {
            epoch: best - 1,
            seed: 0,
            batch_size: 8,
        },
    )
    .unwrap();
    assert_eq!(now["val_nll"], best_nll, "the best weights were restored");
}

/// Records the model's parameters and buffers at the end of every epoch
/// (user callbacks run after the built-in ones).
type State = Vec<(String, Vec<f32>)>;

struct Snapshots(std::sync::Arc<std::sync::Mutex<Vec<State>>>);

impl<M: Module> fanaroff::train::Callback<M> for Snapshots {
    fn name(&self) -> String {
        "snapshots".into()
    }
    fn on_epoch_end(
        &mut self,
        ctx: &mut fanaroff::train::EpochContext<'_, M>,
    ) -> fanaroff::train::Result<()> {
        self.0.lock().unwrap().push(common::state(&*ctx.model));
        Ok(())
    }
}

#[test]
fn restoring_the_best_epoch_restores_batchnorm_statistics_too() {
    use fanaroff::nn::{Activation, BatchNorm2d, Conv2d, Conv2dConfig, Flatten};
    let (train, val) = (common::images(32, 1, 6, 0), common::images(16, 1, 6, 1));
    let mut rng = StdRng::seed_from_u64(3);
    let mut net = Sequential::new()
        .push(
            "conv",
            Conv2d::new(Conv2dConfig::new(1, 2, 3).padding(1), &mut rng).unwrap(),
        )
        .push("bn", BatchNorm2d::new(2).unwrap())
        .push("relu", Activation::Relu)
        .push("flatten", Flatten)
        .push(
            "fc",
            Linear::new(LinearConfig::new(72, 2), &mut rng).unwrap(),
        );
    let snaps = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    // a large rate makes validation jump around, so the best epoch is not the last
    let h = Trainer::new(quiet(8).adam(0.5))
        .unwrap()
        .validation(Validation::new(&val))
        .callback(Snapshots(std::sync::Arc::clone(&snaps)))
        .fit(&mut net, &train)
        .unwrap();
    let best = h.best_epoch.unwrap();
    let snaps = snaps.lock().unwrap();
    assert_eq!(
        common::state(&net),
        snaps[best - 1],
        "best epoch {best} not restored"
    );
    let names: Vec<&str> = snaps[0].iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"bn.running_mean") && names.contains(&"bn.running_var"));
    if best < h.records.len() {
        assert_ne!(snaps[best - 1], snaps[h.records.len() - 1]);
    }
}

#[test]
fn configs_are_data() {
    use fanaroff::bayes::{Elbo, Estimator, PriorSpec, VariationalConfig};
    use fanaroff::nn::Conv2dConfig;
    let train = TrainConfig::default()
        .epochs(7)
        .adam(3e-4)
        .early_stopping(Some(4));
    let back: TrainConfig = serde_json::from_str(&serde_json::to_string(&train).unwrap()).unwrap();
    assert_eq!(back, train);
    let v = VariationalConfig::default()
        .prior_spec(PriorSpec::Laplace { b: 0.5 })
        .estimator(Estimator::LocalReparam);
    let vb: VariationalConfig = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
    assert_eq!(
        (vb.spec_of_prior(), vb.estimator),
        (v.spec_of_prior(), v.estimator)
    );
    // a bad prior in a file is an error, not a silent default
    assert!(
        serde_json::from_str::<VariationalConfig>(r#"{"prior": {"Gaussian": {"s": -1.0}}}"#)
            .is_err()
    );
    let e = Elbo::default().temperature(0.5);
    assert_eq!(
        serde_json::from_str::<Elbo>(&serde_json::to_string(&e).unwrap()).unwrap(),
        e
    );
    let l = LeNetConfig {
        image_size: 64,
        ..LeNetConfig::default()
    };
    assert_eq!(
        serde_json::from_str::<LeNetConfig>(&serde_json::to_string(&l).unwrap()).unwrap(),
        l
    );
    assert!(
        LeNetConfig {
            image_size: 10,
            ..LeNetConfig::default()
        }
        .check()
        .is_err()
    );
    let c = Conv2dConfig::new(1, 6, 5).padding(1);
    assert_eq!(
        serde_json::from_str::<Conv2dConfig>(&serde_json::to_string(&c).unwrap()).unwrap(),
        c
    );
}
