//! The workspace's LeNet (150 x 150 inputs, `LeNetConfig::default()`)
//! against zennit 0.4.6 and zennit-crp 0.6.0:
//! `fixtures/explain/zennit_lenet.safetensors`, made by
//! `fixtures/explain/make_zennit_lenet_fixture.py` from the weights and
//! first image of `fixtures/lenet_deterministic.safetensors`. Epsilon-rule
//! LRP of both classes, and the relevance of class 1 conditioned on two
//! conv4 channels and summed over all 32, equal within 1e-4 (absolute) and
//! within 1e-3 of each map's largest value (float32 against float64; the
//! worst measured is 3.4e-4). This test found that our ReLU and pooling
//! steps applied the epsilon stabiliser (2.8 % of the largest value here).

use fanaroff_attention::{LrpConfig, conditional_relevance, lrp};
use fanaroff_nn::models::{LeNetConfig, lenet};
use fanaroff_nn::{ModuleExt, TensorFile, load_from};
use fanaroff_tensor::Tensor;
use ndarray::{ArrayD, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn file(name: &str) -> TensorFile {
    let path = format!("{}/../../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    TensorFile::read(path).unwrap()
}

fn assert_close(what: &str, ours: &ArrayD<f32>, theirs: &ArrayD<f32>) {
    assert_eq!(ours.shape(), theirs.shape(), "{what}");
    let scale = theirs.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let worst = ours
        .iter()
        .zip(theirs.iter())
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(scale > 0.0, "{what}: an all-zero reference");
    eprintln!(
        "{what}: worst {worst:.2e}, {:.2e} of the largest value {scale:.2e}",
        worst / scale
    );
    assert!(
        worst <= 1e-4 && worst <= 1e-3 * scale,
        "{what}: worst {worst}, scale {scale}"
    );
}

#[test]
fn lenet_lrp_and_crp_equal_zennit() {
    let weights = file("lenet_deterministic.safetensors");
    let reference = file("explain/zennit_lenet.safetensors");
    let mut net = lenet(&LeNetConfig::default(), &mut StdRng::seed_from_u64(0)).unwrap();
    load_from(&mut net, &weights, false).unwrap();
    net.eval();
    let input = weights.f32("input").unwrap();
    let x = Tensor::new(input.index_axis(Axis(0), 0).insert_axis(Axis(0)).to_owned());
    let cfg = LrpConfig::default();
    for class in [0, 1] {
        let ours = lrp(&mut net, &x, &[class], &cfg).unwrap();
        assert_close(
            &format!("lrp class {class}"),
            &ours,
            &reference.f32(&format!("lrp.class{class}")).unwrap(),
        );
    }
    let mut sum = ArrayD::<f32>::zeros(ndarray::IxDyn(&[1, 150, 150]));
    for c in 0..32 {
        let map = conditional_relevance(&mut net, &x, &[1], "conv4", &[c], &cfg)
            .unwrap()
            .sum_axis(Axis(1));
        if [7, 31].contains(&c) {
            let theirs = reference.f32(&format!("crp.conv4.c{c}")).unwrap();
            assert_close(&format!("crp conv4 channel {c}"), &map, &theirs);
        }
        sum += &map;
    }
    assert_close(
        "crp conv4 summed",
        &sum,
        &reference.f32("crp.conv4.sum").unwrap(),
    );
}
