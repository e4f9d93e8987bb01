//! The generic loop against a hand-written one, and its bad-input rules.

mod common;

use fanaroff::nn::models::{LeNetConfig, lenet};
use fanaroff::nn::{
    AdamConfig, Linear, LinearConfig, Module, Optimizer, Reduction, Sequential, cross_entropy,
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
            let loss =
                cross_entropy(&hand.forward(&xb, &mut rng).unwrap(), &yb, Reduction::Mean).unwrap();
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
