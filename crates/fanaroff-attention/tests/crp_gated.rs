//! Concept relevance through the attention-gated network: conservation
//! (the conditional maps of all channels of a block-0 layer sum to the
//! unconditional LRP map), linearity over channel sets in a higher block,
//! and concept relevances that rank the reference images.

use fanaroff_attention::{
    Aggregation, AttentionNet, AttentionNetConfig, GatedLayer, LrpConfig, concept_relevance_gated,
    conditional_relevance_gated, lrp_attention,
};
use fanaroff_nn::ModuleExt;
use fanaroff_nn::models::PlainLayers;
use fanaroff_tensor::Tensor;
use ndarray::{ArrayD, IxDyn};
use rand::{Rng, SeedableRng, rngs::StdRng};

fn net(aggregation: Aggregation) -> AttentionNet {
    let cfg = AttentionNetConfig {
        blocks: vec![vec![4], vec![6], vec![8]],
        inter_channels: 4,
        aggregation,
        ..Default::default()
    };
    let mut net = cfg
        .build(&mut PlainLayers::new(&mut StdRng::seed_from_u64(3)))
        .unwrap();
    net.eval();
    net
}

fn images() -> Tensor {
    let mut rng = StdRng::seed_from_u64(9);
    let x = ArrayD::from_shape_fn(IxDyn(&[3, 1, 24, 24]), |_| rng.random_range(-1.0f32..1.0));
    Tensor::from_array(x)
}

fn first_conv(net: &AttentionNet, block: usize) -> String {
    net.block_layers(block)
        .expect("a gated block")
        .into_iter()
        .find(|n| n.starts_with('c'))
        .expect("a conv layer (c0, c1, ...)")
}

fn max_abs_diff(a: &ArrayD<f32>, b: &ArrayD<f32>) -> f32 {
    (a - b).iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

#[test]
fn block_zero_concepts_sum_to_the_lrp_map() {
    for agg in [
        Aggregation::Concat,
        Aggregation::Mean,
        Aggregation::MeanWithConcat,
    ] {
        let mut n = net(agg);
        let x = images();
        let classes = [0, 1, 1];
        let cfg = LrpConfig::default();
        let full = lrp_attention(&mut n, &x, &classes, &cfg).unwrap();
        let layer = first_conv(&n, 0);
        let at = GatedLayer {
            block: 0,
            layer: &layer,
        };
        let mut sum = ArrayD::<f32>::zeros(full.raw_dim());
        for c in 0..4 {
            sum += &conditional_relevance_gated(&mut n, &x, &classes, at, &[c], &cfg).unwrap();
        }
        let scale = full.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(scale > 0.0);
        assert!(max_abs_diff(&sum, &full) <= 1e-5 * scale, "{agg:?}");
        // all channels at once is the unconditional map itself
        let all =
            conditional_relevance_gated(&mut n, &x, &classes, at, &[0, 1, 2, 3], &cfg).unwrap();
        assert!(max_abs_diff(&all, &full) <= 1e-6 * scale);
    }
}

#[test]
fn higher_block_concepts_add_up_and_rank_references() {
    let mut n = net(Aggregation::Concat);
    let x = images();
    let classes = [1, 0, 1];
    let cfg = LrpConfig::default();
    let layer = first_conv(&n, 1);
    let at = GatedLayer {
        block: 1,
        layer: &layer,
    };
    let a = conditional_relevance_gated(&mut n, &x, &classes, at, &[0, 2], &cfg).unwrap();
    let b = conditional_relevance_gated(&mut n, &x, &classes, at, &[1, 3, 4, 5], &cfg).unwrap();
    let ab =
        conditional_relevance_gated(&mut n, &x, &classes, at, &[0, 1, 2, 3, 4, 5], &cfg).unwrap();
    let scale = ab.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(max_abs_diff(&(&a + &b), &ab) <= 1e-5 * scale);
    // block 1 carries only part of the map: gate 0's share enters below it
    let full = lrp_attention(&mut n, &x, &classes, &cfg).unwrap();
    assert!(max_abs_diff(&ab, &full) > 1e-4 * scale);
    let rel = concept_relevance_gated(&mut n, &x, &classes, at, &cfg).unwrap();
    assert_eq!(rel.dim(), (3, 6));
    assert!(rel.iter().all(|v| v.is_finite()));
}

#[test]
fn bad_layers_and_channels_are_errors() {
    let mut n = net(Aggregation::Concat);
    let x = images();
    let cfg = LrpConfig::default();
    let layer = first_conv(&n, 0);
    let bad_block = GatedLayer {
        block: 5,
        layer: &layer,
    };
    let err =
        conditional_relevance_gated(&mut n, &x, &[0, 0, 0], bad_block, &[0], &cfg).unwrap_err();
    assert!(err.to_string().contains("gated blocks"), "{err}");
    let bad_layer = GatedLayer {
        block: 0,
        layer: "nope",
    };
    let err = concept_relevance_gated(&mut n, &x, &[0, 0, 0], bad_layer, &cfg).unwrap_err();
    assert!(err.to_string().contains("layers:"), "{err}");
    let at = GatedLayer {
        block: 0,
        layer: &layer,
    };
    let err = conditional_relevance_gated(&mut n, &x, &[0, 0, 0], at, &[4], &cfg).unwrap_err();
    assert!(err.to_string().contains("has 4"), "{err}");
    n.train();
    assert!(conditional_relevance_gated(&mut n, &x, &[0, 0, 0], at, &[0], &cfg).is_err());
}
