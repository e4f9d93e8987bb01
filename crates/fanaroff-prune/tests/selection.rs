//! Layer sets, per-layer vs global counts, thresholds, repeated pruning and
//! bad input.

use fanaroff_nn::{
    Conv2d, Conv2dConfig, Flatten, Linear, LinearConfig, ModuleExt, Sequential, WeightView,
};
use fanaroff_prune::{
    Criterion, Error, LayerSet, Magnitude, PruneConfig, Snr, prune, sparsity_by_layer,
};
use ndarray::ArrayD;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// conv (2x1x3x3 = 18 weights), fc1 (10x10 = 100 weights, |w| in 0.01..1),
/// fc2 (2x10 = 20 weights, |w| in 2..3): every fc2 weight outranks fc1's.
fn model() -> Sequential {
    let mut rng = StdRng::seed_from_u64(1);
    let conv = Conv2d::new(Conv2dConfig::new(1, 2, 3), &mut rng).unwrap();
    let mut fc1 = Linear::new(LinearConfig::new(10, 10), &mut rng).unwrap();
    let mut fc2 = Linear::new(LinearConfig::new(10, 2), &mut rng).unwrap();
    let n1 = fc1.weight.len();
    fc1.weight
        .data_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = 0.01 + i as f32 / n1 as f32);
    fc2.weight
        .data_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = -2.0 - i as f32 / 20.0);
    Sequential::new()
        .push("conv", conv)
        .push("flat", Flatten)
        .push("fc1", fc1)
        .push("fc2", fc2)
}

fn kept(m: &Sequential) -> Vec<(String, usize)> {
    sparsity_by_layer(m)
        .into_iter()
        .map(|l| (l.layer, l.kept))
        .collect()
}

fn k(v: &[(&str, usize)]) -> Vec<(String, usize)> {
    v.iter().map(|(a, b)| (a.to_string(), *b)).collect()
}

#[test]
fn per_layer_fraction_counts() {
    let mut m = model();
    let r = prune(&mut m, &mut Magnitude, &PruneConfig::fraction(0.3)).unwrap();
    assert_eq!(kept(&m), k(&[("conv", 18), ("fc1", 70), ("fc2", 14)]));
    assert!((r.sparsity() - 36.0 / 120.0).abs() < 1e-12);
    assert_eq!(r.layers.len(), 2, "the report lists the selected layers");
}

#[test]
fn global_fraction_takes_from_the_weakest_layer() {
    let mut m = model();
    prune(&mut m, &mut Magnitude, &PruneConfig::fraction(0.5).global()).unwrap();
    // 60 of 120 FC weights, all from fc1 (its weights are all smaller)
    assert_eq!(kept(&m), k(&[("conv", 18), ("fc1", 40), ("fc2", 20)]));
    let mut m = model();
    prune(&mut m, &mut Magnitude, &PruneConfig::fraction(0.9).global()).unwrap();
    assert_eq!(kept(&m), k(&[("conv", 18), ("fc1", 0), ("fc2", 12)]));
}

#[test]
fn layer_sets_choose_layers() {
    let mut m = model();
    prune(
        &mut m,
        &mut Magnitude,
        &PruneConfig::fraction(0.5).layers(LayerSet::Convolutional),
    )
    .unwrap();
    assert_eq!(kept(&m), k(&[("conv", 9), ("fc1", 100), ("fc2", 20)]));
    let mut m = model();
    prune(
        &mut m,
        &mut Magnitude,
        &PruneConfig::fraction(0.5).layers(LayerSet::names(&["fc2"])),
    )
    .unwrap();
    assert_eq!(kept(&m), k(&[("conv", 18), ("fc1", 100), ("fc2", 10)]));
    let mut m = model();
    prune(
        &mut m,
        &mut Magnitude,
        &PruneConfig::fraction(0.25).layers(LayerSet::All),
    )
    .unwrap();
    // 0.25 x 18 = 4.5 rounds to 5
    assert_eq!(kept(&m), k(&[("conv", 13), ("fc1", 75), ("fc2", 15)]));
}

#[test]
fn threshold_prunes_below_the_value() {
    let mut m = model();
    // fc1 |w| = 0.01 + i / 100: below 0.205 are i = 0..=19 (20 weights)
    prune(&mut m, &mut Magnitude, &PruneConfig::threshold(0.205)).unwrap();
    assert_eq!(kept(&m), k(&[("conv", 18), ("fc1", 80), ("fc2", 20)]));
}

#[test]
fn pruning_again_keeps_earlier_pruning_and_counts_it() {
    let mut m = model();
    prune(&mut m, &mut Magnitude, &PruneConfig::fraction(0.3)).unwrap();
    let first = m.named_masks();
    prune(&mut m, &mut Magnitude, &PruneConfig::fraction(0.5)).unwrap();
    assert_eq!(kept(&m), k(&[("conv", 18), ("fc1", 50), ("fc2", 10)]));
    for ((_, a), (_, b)) in first.iter().zip(m.named_masks()) {
        assert!(
            a.iter().zip(b.iter()).all(|(x, y)| *x == 1.0 || *y == 0.0),
            "a pruned weight came back"
        );
    }
    // a smaller fraction afterwards restores nothing
    prune(&mut m, &mut Magnitude, &PruneConfig::fraction(0.1)).unwrap();
    assert_eq!(kept(&m), k(&[("conv", 18), ("fc1", 50), ("fc2", 10)]));
    // pruned weights are exactly zero in the stored parameters
    let w = &m
        .named_parameters()
        .into_iter()
        .find(|(n, _)| n == "fc1.weight")
        .unwrap()
        .1;
    assert_eq!(w.to_vec().iter().filter(|&&v| v == 0.0).count(), 50);
}

fn assert_config_error(r: Result<fanaroff_prune::PruneReport, Error>) {
    assert!(r.as_ref().is_err_and(Error::is_invalid_config), "{r:?}");
}

fn assert_input_error(r: Result<fanaroff_prune::PruneReport, Error>, needle: &str) {
    match r {
        Err(e) if e.is_invalid_input() => assert!(e.to_string().contains(needle), "{e}"),
        other => panic!("expected an input error mentioning {needle:?}, got {other:?}"),
    }
}

#[test]
fn bad_input_is_an_error_and_leaves_the_model_alone() {
    let mut m = model();
    assert_config_error(prune(&mut m, &mut Magnitude, &PruneConfig::fraction(1.5)));
    assert_config_error(prune(&mut m, &mut Magnitude, &PruneConfig::fraction(-0.1)));
    assert_config_error(prune(
        &mut m,
        &mut Magnitude,
        &PruneConfig::fraction(f64::NAN),
    ));
    assert_config_error(prune(
        &mut m,
        &mut Magnitude,
        &PruneConfig::threshold(f64::NAN),
    ));
    let unknown = PruneConfig::fraction(0.3).layers(LayerSet::names(&["fc3"]));
    assert_input_error(prune(&mut m, &mut Magnitude, &unknown), "fc3");
    // SNR needs variational layers
    assert_input_error(
        prune(&mut m, &mut Snr::ratio(), &PruneConfig::fraction(0.3)),
        "deterministic",
    );
    // a model without fully connected layers
    let mut rng = StdRng::seed_from_u64(0);
    let mut convs = Sequential::new().push(
        "conv",
        Conv2d::new(Conv2dConfig::new(1, 2, 3), &mut rng).unwrap(),
    );
    assert_input_error(
        prune(&mut convs, &mut Magnitude, &PruneConfig::fraction(0.3)),
        "fully connected",
    );
    // NaN scores from a user's criterion
    struct Nan;
    impl Criterion for Nan {
        fn name(&self) -> String {
            "nan".into()
        }
        fn scores(&mut self, _: &str, w: &WeightView<'_>) -> fanaroff_prune::Result<ArrayD<f32>> {
            Ok(w.mean.mapv(|_| f32::NAN))
        }
    }
    assert_input_error(prune(&mut m, &mut Nan, &PruneConfig::fraction(0.3)), "NaN");
    assert!(m.named_masks().is_empty(), "no mask was written");
    // fractions 0 and 1 are valid
    prune(&mut m, &mut Magnitude, &PruneConfig::fraction(0.0)).unwrap();
    assert_eq!(kept(&m), k(&[("conv", 18), ("fc1", 100), ("fc2", 20)]));
    prune(&mut m, &mut Magnitude, &PruneConfig::fraction(1.0)).unwrap();
    assert_eq!(kept(&m), k(&[("conv", 18), ("fc1", 0), ("fc2", 0)]));
}

#[test]
fn config_reads_from_json() {
    let c: PruneConfig = serde_json::from_str(
        r#"{"layers": {"names": ["fc1"]}, "scope": "global", "amount": {"fraction": 0.3}}"#,
    )
    .unwrap();
    assert_eq!(
        c,
        PruneConfig::fraction(0.3)
            .global()
            .layers(LayerSet::names(&["fc1"]))
    );
    assert!(
        serde_json::from_str::<PruneConfig>(r#"{"amount": {"fraction": 0.3}, "scop": "global"}"#)
            .is_err()
    );
}
