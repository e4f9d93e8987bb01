//! Our epsilon-rule LRP against zennit 0.4.6: `fixtures/explain/zennit_lrp.json`
//! (made by `fixtures/explain/make_zennit_fixture.py`). A small CNN (two
//! conv layers with ReLU and max pooling, two linear layers) with fixed
//! weights, three 16 x 16 images, the input relevance of each class: equal
//! within 1e-4, and within 2.5e-4 of the map's largest value (float32
//! against zennit's float64). The fixture also holds
//! zennit-crp's relevances conditioned on each conv2 channel, whose sum is
//! the unconditional map (checked here on the fixture itself).

use fanaroff_attention::{
    InputRule, LrpConfig, concept_relevance, conditional_relevance, lrp, reference_images,
};
use fanaroff_nn::{
    Activation, Conv2d, Conv2dConfig, Flatten, Linear, LinearConfig, MaxPool2d, Module, ModuleExt,
    Sequential,
};
use fanaroff_tensor::Tensor;
use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/explain/zennit_lrp.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn array(v: &Value) -> ArrayD<f32> {
    fn walk(v: &Value, shape: &mut Vec<usize>, out: &mut Vec<f32>, depth: usize) {
        match v {
            Value::Array(a) => {
                if shape.len() == depth {
                    shape.push(a.len());
                }
                a.iter().for_each(|x| walk(x, shape, out, depth + 1));
            }
            x => out.push(x.as_f64().unwrap() as f32),
        }
    }
    let (mut shape, mut data) = (Vec::new(), Vec::new());
    walk(v, &mut shape, &mut data, 0);
    ArrayD::from_shape_vec(IxDyn(&shape), data).unwrap()
}

fn model(params: &Value) -> Sequential {
    let mut rng = StdRng::seed_from_u64(0);
    let conv =
        |i, o, rng: &mut StdRng| Conv2d::new(Conv2dConfig::new(i, o, 3).padding(1), rng).unwrap();
    let mut m = Sequential::new()
        .push("conv1", conv(1, 4, &mut rng))
        .push("relu1", Activation::Relu)
        .push("pool1", MaxPool2d::new(2, 2).unwrap())
        .push("conv2", conv(4, 6, &mut rng))
        .push("relu2", Activation::Relu)
        .push("pool2", MaxPool2d::new(2, 2).unwrap())
        .push("flatten", Flatten)
        .push(
            "fc1",
            Linear::new(LinearConfig::new(96, 10), &mut rng).unwrap(),
        )
        .push("relu3", Activation::Relu)
        .push(
            "fc2",
            Linear::new(LinearConfig::new(10, 2), &mut rng).unwrap(),
        );
    let mut set = 0;
    m.visit_params_mut("", &mut |name, t| {
        let v = array(&params[name]);
        t.data_mut().unwrap().assign(&v);
        set += 1;
    });
    assert_eq!(set, 8);
    m.eval();
    m
}

#[test]
fn epsilon_lrp_equals_zennit() {
    let f = fixture();
    let mut net = model(&f["params"]);
    let x = Tensor::new(array(&f["x"]));
    let logits = net.forward_rng(&x, &mut StdRng::seed_from_u64(0)).unwrap();
    let want = array(&f["logits"]);
    assert!(
        (logits.data() - &want).iter().all(|d| d.abs() < 1e-5),
        "forward pass differs"
    );
    let cfg = LrpConfig {
        epsilon: f["epsilon"].as_f64().unwrap() as f32,
        input_rule: InputRule::Epsilon,
    };
    for class in [0usize, 1] {
        let ours = lrp(&mut net, &x, &[class; 3], &cfg).unwrap();
        let theirs = array(&f["lrp"][class.to_string()]);
        let scale = theirs.iter().fold(0f32, |a, v| a.max(v.abs()));
        let err = (&ours - &theirs).iter().fold(0f32, |a, v| a.max(v.abs()));
        println!("class {class}: max |ours - zennit| = {err:.2e}, largest relevance {scale:.2e}");
        // within 1e-4 absolutely, and within 2.5e-4 of the largest value:
        // we compute in float32, zennit in float64
        assert!(
            err <= 1e-4 && err <= 2.5e-4 * scale,
            "class {class}: {err} against {scale}"
        );
    }
}

#[test]
fn zennit_crp_conditional_maps_sum_to_the_map() {
    let f = fixture();
    let crp = array(&f["crp_conv2"]); // [channel, image, 16, 16]
    let total = array(&f["lrp"]["1"]); // [image, 1, 16, 16]
    let sum = crp.sum_axis(ndarray::Axis(0));
    let err = (&sum - &total.index_axis(ndarray::Axis(1), 0))
        .iter()
        .fold(0f32, |a, v| a.max(v.abs()));
    assert!(err < 1e-7, "{err}");
}

#[test]
fn conditional_relevance_equals_zennit_crp_and_is_conserved() {
    let f = fixture();
    let mut net = model(&f["params"]);
    let x = Tensor::new(array(&f["x"]));
    let cfg = LrpConfig {
        epsilon: f["epsilon"].as_f64().unwrap() as f32,
        input_rule: InputRule::Epsilon,
    };
    let crp = array(&f["crp_conv2"]);
    let full = lrp(&mut net, &x, &[1; 3], &cfg).unwrap();
    let mut sum = ArrayD::<f32>::zeros(full.raw_dim());
    for c in 0..6 {
        let ours = conditional_relevance(&mut net, &x, &[1; 3], "conv2", &[c], &cfg).unwrap();
        let theirs = crp
            .index_axis(ndarray::Axis(0), c)
            .insert_axis(ndarray::Axis(1))
            .to_owned();
        // float32 rounding of the whole map: relative to its largest value
        let scale = full.iter().fold(0f32, |a, v| a.max(v.abs()));
        let err = (&ours - &theirs).iter().fold(0f32, |a, v| a.max(v.abs()));
        println!("conv2 channel {c}: max |ours - zennit-crp| = {err:.2e}");
        assert!(
            err <= 1e-4 && err <= 3e-4 * scale,
            "channel {c}: {err} against {scale}"
        );
        sum += &ours;
    }
    let gap = (&sum - &full).iter().fold(0f32, |a, v| a.max(v.abs()));
    assert!(gap < 1e-7, "the conditional maps sum to the map: {gap}");
    // concept relevance: per image and channel; the channels' sum is the
    // relevance that reaches conv2's output
    let concepts = concept_relevance(&mut net, &x, &[1; 3], "conv2", &cfg).unwrap();
    assert_eq!(concepts.dim(), (3, 6));
    for c in 0..6 {
        let cond = conditional_relevance(&mut net, &x, &[1; 3], "conv2", &[c], &cfg).unwrap();
        for n in 0..3 {
            // what flows through channel c reaches the input, less what conv1 and
            // conv2's biases absorb, so the signs agree where it is large
            if concepts[[n, c]].abs() > 1e-3 {
                let s: f32 = cond.index_axis(ndarray::Axis(0), n).sum();
                assert_eq!(
                    s.signum(),
                    concepts[[n, c]].signum(),
                    "image {n}, channel {c}"
                );
            }
        }
    }
    let top = reference_images(&mut net, &x, &[1; 3], "conv2", 2, 2, &cfg).unwrap();
    assert_eq!(top.len(), 2);
    assert!(concepts[[top[0], 2]] >= concepts[[top[1], 2]]);
    let e = conditional_relevance(&mut net, &x, &[1; 3], "conv9", &[0], &cfg).unwrap_err();
    assert!(e.to_string().contains("no layer `conv9`"), "{e}");
    let e = conditional_relevance(&mut net, &x, &[1; 3], "conv2", &[6], &cfg).unwrap_err();
    assert!(e.to_string().contains("has 6"), "{e}");
}
