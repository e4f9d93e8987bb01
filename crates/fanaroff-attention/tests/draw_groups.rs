//! Several posterior draws per forward pass through the gated network:
//! the deterministic backbone runs once for all draws of a group, and the
//! samples equal those of one draw per pass.

use fanaroff_attention::{Aggregation, AttentionNetConfig, Normalisation, Parts};
use fanaroff_bayes::{BayesLayers, VariationalConfig};
use fanaroff_nn::models::PlainLayers;
use fanaroff_nn::{Module, ModuleExt};
use fanaroff_train::{PredictConfig, predict_samples};
use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn net(agg: Aggregation, norm: Normalisation, bayes_head: bool) -> Box<dyn Module> {
    let cfg = AttentionNetConfig {
        blocks: vec![vec![2], vec![3], vec![4]],
        inter_channels: 5,
        aggregation: agg,
        normalisation: norm,
        gate_bias: true,
        // not saturated: a sigmoid gate at psi bias 10 is 1 for every draw
        psi_bias: 0.0,
        ..AttentionNetConfig::default()
    };
    let vcfg = VariationalConfig::default().rho_init(-1.0, -0.5);
    let (mut r1, mut r2, mut r3) = (
        StdRng::seed_from_u64(1),
        StdRng::seed_from_u64(2),
        StdRng::seed_from_u64(3),
    );
    let mut plain = PlainLayers::new(&mut r1);
    let mut gates = BayesLayers::new(&vcfg, &mut r2).unwrap();
    let mut m = if bayes_head {
        let mut head = BayesLayers::new(&vcfg, &mut r3).unwrap();
        let parts = Parts {
            backbone: &mut plain,
            gates: &mut gates,
            head: &mut head,
        };
        cfg.build_parts(parts).unwrap()
    } else {
        let mut head = PlainLayers::new(&mut r3);
        let parts = Parts {
            backbone: &mut plain,
            gates: &mut gates,
            head: &mut head,
        };
        cfg.build_parts(parts).unwrap()
    };
    m.eval();
    Box::new(m)
}

#[test]
fn grouped_draws_equal_single_draws_for_bayesian_gates() {
    let x = ArrayD::from_shape_fn(IxDyn(&[5, 1, 16, 16]), |i| {
        ((i[0] * 7 + i[2] * 3 + i[3]) % 13) as f32 / 6.0 - 1.0
    });
    // range_batch: each draw's block is normalised over its own batch
    for (agg, norm, bayes_head) in [
        (Aggregation::Concat, Normalisation::Softmax, false),
        (Aggregation::Concat, Normalisation::RangeBatch, false),
        (Aggregation::Mean, Normalisation::Sigmoid, false),
        (Aggregation::Mean, Normalisation::Softmax, true),
    ] {
        let m = net(agg, norm, bayes_head);
        let cfg = PredictConfig::with_samples(6).batch_size(2).seed(9);
        let one = predict_samples(m.as_ref(), x.view(), &cfg).unwrap();
        for g in [2, 3, 6] {
            let grouped = predict_samples(m.as_ref(), x.view(), &cfg.draws_per_pass(g)).unwrap();
            assert_eq!(grouped.shape(), one.shape());
            let close = one
                .iter()
                .zip(grouped.iter())
                .all(|(a, b)| (a - b).abs() < 1e-5);
            assert!(close, "{agg:?} {norm:?}, head {bayes_head}, {g} per pass");
        }
        let spread = (0..5).any(|n| (one[[0, n, 0]] - one[[1, n, 0]]).abs() > 1e-4);
        assert!(spread, "draws differ");
    }
}
