//! Gradient saliency and LRP: hand-computed values, conservation of
//! relevance as epsilon -> 0 without biases, winner-take-all through max
//! pooling, the flat and z^B input rules, and errors.

use approx::assert_abs_diff_eq;
use fanaroff_attention::{InputRule, LrpConfig, gradient, gradient_x_input, lrp, per_pixel};
use fanaroff_bayes::{VariationalConfig, bbb_lenet};
use fanaroff_nn::models::LeNetConfig;
use fanaroff_nn::{
    Activation, Conv2d, Conv2dConfig, Flatten, Linear, LinearConfig, MaxPool2d, ModuleExt,
    SampleMode, Sequential,
};
use fanaroff_tensor::Tensor;
use ndarray::{ArrayD, IxDyn, array};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn hand_linear() -> Sequential {
    let mut rng = StdRng::seed_from_u64(0);
    let mut fc = Linear::new(LinearConfig::new(2, 2).bias(false), &mut rng).unwrap();
    fc.weight
        .data_mut()
        .unwrap()
        .assign(&array![[1.0f32, 2.0], [3.0, -1.0]].into_dyn());
    Sequential::new().push("fc", fc)
}

#[test]
fn linear_model_by_hand() {
    let mut m = hand_linear();
    let x = Tensor::new(array![[1.0f32, 1.0]].into_dyn());
    // logits [3, 2]; class 0: gradient = W[0] = [1, 2], relevance x_i w_0i = [1, 2]
    assert_eq!(
        gradient(&m, &x, &[0], 0)
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [1.0, 2.0]
    );
    assert_eq!(
        gradient_x_input(&m, &x, &[1], 0)
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [3.0, -1.0]
    );
    let r = lrp(&mut m, &x, &[0], &LrpConfig::default()).unwrap();
    assert_abs_diff_eq!(r[[0, 0]], 1.0, epsilon = 1e-5);
    assert_abs_diff_eq!(r[[0, 1]], 2.0, epsilon = 1e-5);
}

/// conv 3x3 (no bias) - ReLU - max pool - flatten - fc (no bias) - ReLU - fc (no bias).
fn bias_free_cnn(seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    Sequential::new()
        .push(
            "conv",
            Conv2d::new(Conv2dConfig::new(1, 3, 3).padding(1).bias(false), &mut rng).unwrap(),
        )
        .push("relu1", Activation::Relu)
        .push("pool", MaxPool2d::new(2, 2).unwrap())
        .push("flat", Flatten)
        .push(
            "fc1",
            Linear::new(LinearConfig::new(48, 6).bias(false), &mut rng).unwrap(),
        )
        .push("relu2", Activation::Relu)
        .push(
            "fc2",
            Linear::new(LinearConfig::new(6, 2).bias(false), &mut rng).unwrap(),
        )
}

fn images(n: usize, seed: u64) -> Tensor {
    let mut rng = StdRng::seed_from_u64(seed);
    Tensor::new(ArrayD::from_shape_fn(IxDyn(&[n, 1, 8, 8]), |_| {
        rng.random_range(0.0f32..1.0)
    }))
}

/// Largest |sum of relevance - explained logit| over the batch.
fn conservation_error(m: &mut Sequential, x: &Tensor, classes: &[usize], cfg: &LrpConfig) -> f32 {
    let logits = m.forward_rng(x, &mut StdRng::seed_from_u64(0)).unwrap();
    let r = lrp(m, x, classes, cfg).unwrap();
    assert_eq!(r.shape(), x.shape());
    (0..classes.len())
        .map(|n| (r.index_axis(ndarray::Axis(0), n).sum() - logits.data()[[n, classes[n]]]).abs())
        .fold(0.0, f32::max)
}

#[test]
fn relevance_is_conserved_as_epsilon_goes_to_zero() {
    let mut m = bias_free_cnn(1);
    let x = images(4, 2);
    let classes = [0, 1, 1, 0];
    let tight = conservation_error(
        &mut m,
        &x,
        &classes,
        &LrpConfig {
            epsilon: 1e-7,
            ..LrpConfig::default()
        },
    );
    let loose = conservation_error(
        &mut m,
        &x,
        &classes,
        &LrpConfig {
            epsilon: 1.0,
            ..LrpConfig::default()
        },
    );
    assert!(tight < 1e-4, "sum of relevance misses the logit by {tight}");
    assert!(
        loose > 10.0 * tight,
        "a large epsilon absorbs relevance ({loose} vs {tight})"
    );
    for rule in [
        InputRule::Flat,
        InputRule::ZBox {
            low: 0.0,
            high: 1.0,
        },
    ] {
        let e = conservation_error(
            &mut m,
            &x,
            &classes,
            &LrpConfig {
                epsilon: 1e-7,
                input_rule: rule,
            },
        );
        assert!(e < 1e-4, "{rule:?}: conservation error {e}");
    }
}

#[test]
fn max_pooling_gives_relevance_to_the_winner_only() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut fc = Linear::new(LinearConfig::new(16, 1).bias(false), &mut rng).unwrap();
    fc.weight.data_mut().unwrap().fill(1.0);
    let mut m = Sequential::new()
        .push("pool", MaxPool2d::new(2, 2).unwrap())
        .push("flat", Flatten)
        .push("fc", fc);
    let x = images(1, 4);
    let r = lrp(&mut m, &x, &[0], &LrpConfig::default()).unwrap();
    let xs = x.data();
    for wy in 0..4 {
        for wx in 0..4 {
            let cells: Vec<(usize, usize)> = (0..2)
                .flat_map(|dy| (0..2).map(move |dx| (2 * wy + dy, 2 * wx + dx)))
                .collect();
            let win = *cells
                .iter()
                .max_by(|a, b| xs[[0, 0, a.0, a.1]].total_cmp(&xs[[0, 0, b.0, b.1]]))
                .unwrap();
            for &(y, xx) in &cells {
                let v = r[[0, 0, y, xx]];
                if (y, xx) == win {
                    assert_abs_diff_eq!(v, xs[[0, 0, y, xx]], epsilon = 1e-5);
                } else {
                    assert_eq!(v, 0.0);
                }
            }
        }
    }
}

#[test]
fn flat_rule_spreads_evenly_and_weights_are_restored() {
    let mut m = bias_free_cnn(5);
    let before = m
        .named_parameters()
        .iter()
        .map(|(_, t)| t.to_vec())
        .collect::<Vec<_>>();
    let x = images(1, 6);
    let r = lrp(
        &mut m,
        &x,
        &[1],
        &LrpConfig {
            input_rule: InputRule::Flat,
            ..LrpConfig::default()
        },
    )
    .unwrap();
    assert_eq!(
        m.named_parameters()
            .iter()
            .map(|(_, t)| t.to_vec())
            .collect::<Vec<_>>(),
        before
    );
    // the flat rule ignores the input values: a constant relevance per
    // receptive field, so it does not change when x is scaled
    let x2 = Tensor::new(x.data() * 2.0);
    let r_first = per_pixel(&r);
    let upper = lrp(
        &mut m,
        &x2,
        &[1],
        &LrpConfig {
            input_rule: InputRule::Flat,
            ..LrpConfig::default()
        },
    )
    .unwrap();
    let logits = m
        .forward_rng(&x, &mut StdRng::seed_from_u64(0))
        .unwrap()
        .data()[[0, 1]];
    assert_abs_diff_eq!(r_first.sum(), logits, epsilon = 1e-3);
    assert_abs_diff_eq!(upper.sum(), 2.0 * logits, epsilon = 1e-3);
}

#[test]
fn bayesian_lenet_needs_the_posterior_mean() {
    let cfg = LeNetConfig {
        image_size: 54,
        ..LeNetConfig::default()
    };
    let mut m = bbb_lenet(
        &cfg,
        &VariationalConfig::default(),
        &mut StdRng::seed_from_u64(0),
    )
    .unwrap();
    let x = Tensor::randn(&[2, 1, 54, 54], &mut StdRng::seed_from_u64(1));
    assert!(
        lrp(&mut m, &x, &[0, 1], &LrpConfig::default()).is_err(),
        "sampling model"
    );
    m.set_sample_mode(SampleMode::Mean);
    let r = lrp(
        &mut m,
        &x,
        &[0, 1],
        &LrpConfig {
            input_rule: InputRule::ZBox {
                low: -3.0,
                high: 3.0,
            },
            ..LrpConfig::default()
        },
    )
    .unwrap();
    assert_eq!(r.shape(), &[2, 1, 54, 54]);
    assert!(r.iter().all(|v| v.is_finite()));
    assert!(
        lrp(&mut m, &x, &[0, 2], &LrpConfig::default()).is_err(),
        "class out of range"
    );
    assert!(
        gradient(&m, &x, &[0], 0).is_err(),
        "one class for two images"
    );
}
