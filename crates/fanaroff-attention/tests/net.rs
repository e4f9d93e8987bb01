//! The gated network: parameter count, shapes of every aggregation, a
//! gradient check, deep supervision, fine-tuning, Bayesian attention maps.

use fanaroff_attention::{
    Aggregation, AttentionNetConfig, BlockOrder, DeepSupervisionStep, Normalisation, Parts,
    attention_map_stats, attention_maps, source_mass,
};
use fanaroff_bayes::{BayesLayers, VariationalConfig};
use fanaroff_nn::models::{LeNetConfig, PlainLayers, lenet};
use fanaroff_nn::{Module, ModuleExt, Pass, is_stochastic};
use fanaroff_tensor::Tensor;
use fanaroff_tensor::gradcheck::{GradCheck, GradCheckReport, check_gradients};
use fanaroff_train::{ArrayLoader, TrainConfig, Trainer};
use ndarray::{Array4, ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Three blocks on 16 x 16 images: gates on 2 channels at 16 x 16 and
/// 3 channels at 8 x 8, gated by 4 channels at 4 x 4.
fn small(agg: Aggregation, norm: Normalisation) -> AttentionNetConfig {
    AttentionNetConfig {
        blocks: vec![vec![2], vec![3], vec![4]],
        inter_channels: 5,
        aggregation: agg,
        normalisation: norm,
        ..AttentionNetConfig::default()
    }
}

#[test]
fn the_papers_network_has_about_101k_parameters() {
    let mut rng = StdRng::seed_from_u64(0);
    let net = AttentionNetConfig::default()
        .build(&mut PlainLayers::new(&mut rng))
        .unwrap();
    // convs 84,800 + batch norm 580 + gates 15,939 + classifier 54 x 2 + 2
    assert_eq!(net.num_parameters(), 101_429);
    let plain = lenet(&LeNetConfig::default(), &mut rng).unwrap();
    println!(
        "attention-gated CNN: {} parameters; the plain LeNet of section 1: {}",
        net.num_parameters(),
        plain.num_parameters()
    );
    assert!(2 * net.num_parameters() < plain.num_parameters());
    assert_eq!(net.num_gates(), 3);
}

#[test]
fn every_aggregation_gives_logits_heads_and_maps() {
    let x = Tensor::randn(&[3, 1, 16, 16], &mut StdRng::seed_from_u64(1));
    for agg in Aggregation::ALL {
        let mut rng = StdRng::seed_from_u64(2);
        let mut net = small(agg, Normalisation::Softmax)
            .build(&mut PlainLayers::new(&mut rng))
            .unwrap();
        net.eval();
        let out = net.forward_all(&x, &mut Pass::new(&mut rng)).unwrap();
        assert_eq!(out.logits.shape(), &[3, 2]);
        assert_eq!(
            out.head_logits.len(),
            match agg {
                Aggregation::Concat => 0,
                Aggregation::MeanWithConcat => 3,
                _ => 2,
            },
            "{agg:?}"
        );
        assert_eq!(out.maps[0].shape(), &[3, 1, 16, 16]);
        assert_eq!(out.maps[1].shape(), &[3, 1, 8, 8]);
        let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"gate2.phi.weight".to_string()), "{names:?}");
        assert_eq!(
            names.iter().any(|n| n.starts_with("combine")),
            matches!(agg, Aggregation::FineTuned | Aggregation::StudyFineTuned)
        );
    }
}

#[test]
fn the_network_passes_a_gradient_check() {
    for (norm, order) in Normalisation::ALL
        .into_iter()
        .flat_map(|n| ORDERS.map(|o| (n, o)))
    {
        let mut rng = StdRng::seed_from_u64(3);
        // psi bias 0: a sigmoid saturated by the default bias 10 has
        // gradients below the finite-difference noise
        let cfg = AttentionNetConfig {
            psi_bias: 0.0,
            block_order: order,
            ..small(Aggregation::Mean, norm)
        };
        let mut net = cfg.build(&mut PlainLayers::new(&mut rng)).unwrap();
        net.eval(); // dropout off, batch norm with its running statistics
        let x = Tensor::randn(&[2, 1, 16, 16], &mut rng).data().clone();
        let rep = gradient_check(&net, &x);
        assert!(rep.passed(), "{norm:?} {order:?}: {rep:?}");
    }
}

const ORDERS: [BlockOrder; 2] = [BlockOrder::ConvBnRelu, BlockOrder::ConvReluBn];

/// The study code's order (conv, ReLU, batch norm) gates zero-mean maps, so
/// with a range normalisation the summed features, and the logits at
/// initialisation, are far smaller than with ReLU outputs; the parameters
/// and their names do not change.
#[test]
fn the_study_block_order_keeps_range_logits_small() {
    let x = Tensor::randn(&[8, 1, 32, 32], &mut StdRng::seed_from_u64(4));
    let mut scale = Vec::new();
    let mut names = Vec::new();
    for order in ORDERS {
        let mut rng = StdRng::seed_from_u64(5);
        let cfg = AttentionNetConfig {
            block_order: order,
            dropout: 0.0,
            ..small(Aggregation::Concat, Normalisation::RangeBatch)
        };
        let net = cfg.build(&mut PlainLayers::new(&mut rng)).unwrap();
        let logits = net.forward_rng(&x, &mut rng).unwrap(); // training mode
        scale.push(logits.data().mapv(f32::abs).mean().unwrap());
        names.push(
            net.named_parameters()
                .into_iter()
                .map(|(n, _)| n)
                .collect::<Vec<_>>(),
        );
    }
    println!("mean |logit| at initialisation, conv-BN-ReLU and conv-ReLU-BN: {scale:?}");
    assert_eq!(names[0], names[1]);
    assert!(scale[1] < 0.25 * scale[0], "mean |logit| {scale:?}");
}

/// Gradient check of the logits with respect to the input `x`, with a
/// small step and twice the default tolerances: ReLU and max-pool kinks are
/// dense in a CNN (the gate alone passes the defaults); a wrong sign or
/// factor still fails.
fn gradient_check(net: &dyn Module, x: &ArrayD<f32>) -> GradCheckReport {
    check_gradients(
        |t| {
            net.forward_rng(&t[0], &mut StdRng::seed_from_u64(0))
                .map_err(|_| unreachable!())
        },
        std::slice::from_ref(x),
        &GradCheck {
            eps: 1e-3,
            atol: 2e-3,
            rtol: 2e-2,
            ..GradCheck::default()
        },
    )
    .unwrap()
}

fn bright_half(n: usize) -> ArrayLoader<f32> {
    let y: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let x = ArrayD::from_shape_fn(IxDyn(&[n, 1, 16, 16]), |i| {
        let left = i[3] < 8;
        if (y[i[0]] == 1) == left { 1.0 } else { 0.0 }
    });
    ArrayLoader::new(x, y, 2).unwrap()
}

#[test]
fn deep_supervision_learns_and_fine_tuning_freezes_all_but_the_combination() {
    let data = bright_half(32);
    let mut rng = StdRng::seed_from_u64(4);
    let mut net = small(Aggregation::FineTuned, Normalisation::Softmax)
        .build(&mut PlainLayers::new(&mut rng))
        .unwrap();
    let cfg = TrainConfig::default()
        .epochs(15)
        .batch_size(8)
        .adam(2e-2)
        .progress(false)
        .log_epochs(false);
    let h = Trainer::new(cfg.clone())
        .unwrap()
        .step(DeepSupervisionStep)
        .fit(&mut net, &data)
        .unwrap();
    let loss = h.series("loss");
    assert!(
        loss.last().unwrap().unwrap() < 0.5 * loss[0].unwrap(),
        "{loss:?}"
    );
    net.freeze_for_fine_tuning().unwrap();
    let trainable: Vec<String> = net
        .named_parameters()
        .into_iter()
        .filter(|(_, t)| t.is_requires_grad())
        .map(|(n, _)| n)
        .collect();
    assert_eq!(trainable, ["combine.weight", "combine.bias"]);
    let before = net.named_parameters()[0].1.to_vec();
    Trainer::new(cfg.epochs(2))
        .unwrap()
        .fit(&mut net, &data)
        .unwrap();
    assert_eq!(
        net.named_parameters()[0].1.to_vec(),
        before,
        "frozen backbone moved"
    );
    let mut concat = small(Aggregation::Concat, Normalisation::Softmax)
        .build(&mut PlainLayers::new(&mut rng))
        .unwrap();
    assert!(concat.freeze_for_fine_tuning().is_err());
}

#[test]
fn bayesian_gates_give_maps_with_a_spread() {
    let mut rng = StdRng::seed_from_u64(5);
    let x = Tensor::randn(&[2, 1, 16, 16], &mut StdRng::seed_from_u64(6));
    let cfg = AttentionNetConfig {
        gate_bias: true,
        ..small(Aggregation::Concat, Normalisation::Softmax)
    };
    let vcfg = VariationalConfig::default().rho_init(-1.0, -0.5);
    let (mut r7, mut r8) = (StdRng::seed_from_u64(7), StdRng::seed_from_u64(8));
    let mut plain = PlainLayers::new(&mut rng);
    let mut bayes = BayesLayers::new(&vcfg, &mut r7).unwrap();
    let mut head = PlainLayers::new(&mut r8);
    let mut net = cfg
        .build_parts(Parts {
            backbone: &mut plain,
            gates: &mut bayes,
            head: &mut head,
        })
        .unwrap();
    net.eval();
    assert!(is_stochastic(&net));
    let stats = attention_map_stats(&net, &x, 8, 0).unwrap();
    assert_eq!(stats.len(), 2);
    assert_eq!(stats[0].0.shape(), &[2, 16, 16]);
    let max_std = stats[0].1.iter().fold(0.0f32, |a, &b| a.max(b));
    let mean = stats[0].0.iter().sum::<f32>() / stats[0].0.len() as f32;
    assert!(
        max_std > 0.01 * mean,
        "variational gates: maps vary over draws (max std {max_std}, mean {mean})"
    );
    let mut det = small(Aggregation::Concat, Normalisation::Sigmoid)
        .build(&mut PlainLayers::new(&mut StdRng::seed_from_u64(9)))
        .unwrap();
    det.eval();
    let stats = attention_map_stats(&det, &x, 3, 0).unwrap();
    assert!(
        stats.iter().all(|(_, s)| s.iter().all(|&v| v < 1e-6)),
        "a deterministic net has no spread"
    );
    assert_eq!(
        attention_maps(&det, &x, 0).unwrap()[1].shape(),
        &[2, 16, 16]
    );
}

#[test]
fn source_mass_counts_attention_on_non_zero_pixels() {
    let mut img = Array4::<f32>::zeros((1, 1, 2, 2));
    img[[0, 0, 0, 0]] = 3.0; // one source pixel
    let map = ArrayD::from_shape_vec(IxDyn(&[1, 2, 2]), vec![0.7, 0.1, 0.1, 0.1]).unwrap();
    // minus the minimum: [0.6, 0, 0, 0] -> all mass on the source
    assert_eq!(source_mass(&img, &map).unwrap(), [1.0]);
    let map = ArrayD::from_shape_vec(IxDyn(&[1, 2, 2]), vec![0.5, 0.0, 0.25, 0.25]).unwrap();
    assert!((source_mass(&img, &map).unwrap()[0] - 0.5).abs() < 1e-9);
    assert!(source_mass(&img, &ArrayD::zeros(IxDyn(&[1, 3, 3]))).is_err());
}

#[test]
fn bad_input_and_settings_are_errors() {
    let mut rng = StdRng::seed_from_u64(10);
    let net = small(Aggregation::Concat, Normalisation::Softmax)
        .build(&mut PlainLayers::new(&mut rng))
        .unwrap();
    assert!(
        net.forward_rng(&Tensor::zeros(&[1, 3, 16, 16]), &mut rng)
            .is_err(),
        "3 channels"
    );
    assert!(
        net.forward_rng(&Tensor::zeros(&[0, 1, 16, 16]), &mut rng)
            .is_err(),
        "empty batch"
    );
    let bad = AttentionNetConfig {
        blocks: vec![vec![4]],
        ..AttentionNetConfig::default()
    };
    assert!(bad.build(&mut PlainLayers::new(&mut rng)).is_err());
    let bad = AttentionNetConfig {
        dropout: 1.0,
        ..AttentionNetConfig::default()
    };
    assert!(bad.build(&mut PlainLayers::new(&mut rng)).is_err());
    // variational theta / phi need biases
    let vcfg = VariationalConfig::default();
    let mut bayes = BayesLayers::new(&vcfg, &mut rng).unwrap();
    assert!(
        small(Aggregation::Concat, Normalisation::Softmax)
            .build(&mut bayes)
            .is_err()
    );
}

/// Zeroes every bias, batch-norm shift and running mean, so that the
/// network is linear in its input along each ReLU / max-pool pattern.
fn remove_biases(net: &mut dyn Module) {
    net.visit_params_mut("", &mut |name, t| {
        if name.ends_with("bias") {
            t.data_mut().unwrap().fill(0.0);
        }
    });
    net.visit_buffers_mut("", &mut |name, t| {
        if name.ends_with("running_mean") {
            t.data_mut().unwrap().fill(0.0);
        }
    });
}

#[test]
fn lrp_through_the_gates_conserves_relevance() {
    use fanaroff_attention::{LrpConfig, lrp_attention};
    for (agg, order) in Aggregation::ALL
        .into_iter()
        .flat_map(|a| ORDERS.map(|o| (a, o)))
    {
        let mut rng = StdRng::seed_from_u64(5);
        let cfg = AttentionNetConfig {
            block_order: order,
            ..small(agg, Normalisation::Softmax)
        };
        let mut net = cfg.build(&mut PlainLayers::new(&mut rng)).unwrap();
        let x = Tensor::randn(&[3, 1, 16, 16], &mut rng);
        let classes = [0, 1, 1];
        net.eval();
        remove_biases(&mut net);
        let logits = net.forward_rng(&x, &mut StdRng::seed_from_u64(0)).unwrap();
        let miss = |eps: f32, net: &mut fanaroff_attention::AttentionNet| {
            let cfg = LrpConfig {
                epsilon: eps,
                ..LrpConfig::default()
            };
            let r = lrp_attention(net, &x, &classes, &cfg).unwrap();
            assert_eq!(r.shape(), x.shape());
            (0..3)
                .map(|n| {
                    let z = logits.data()[[n, classes[n]]];
                    (r.index_axis(ndarray::Axis(0), n).sum() - z).abs() / z.abs().max(1e-3)
                })
                .fold(0.0, f32::max)
        };
        let (tight, loose) = (miss(1e-7, &mut net), miss(0.5, &mut net));
        assert!(
            tight < 1e-3,
            "{agg:?} {order:?}: relevance misses the logit by {tight}"
        );
        assert!(
            loose > 10.0 * tight,
            "{agg:?}: epsilon absorbs ({loose} vs {tight})"
        );
        assert!(lrp_attention(&mut net, &x, &[0, 2, 0], &LrpConfig::default()).is_err());
    }
}

/// Dropout and batch norm in training mode would make an explanation random
/// and batch-dependent: the saliency functions ask for `eval()` instead.
#[test]
fn explanations_refuse_a_network_in_training_mode() {
    use fanaroff_attention::{LrpConfig, gradient, lrp_attention};
    let mut rng = StdRng::seed_from_u64(6);
    let mut net = small(Aggregation::Concat, Normalisation::Softmax)
        .build(&mut PlainLayers::new(&mut rng))
        .unwrap();
    let x = Tensor::randn(&[2, 1, 16, 16], &mut rng);
    let cfg = LrpConfig::default();
    let err = lrp_attention(&mut net, &x, &[0, 1], &cfg).unwrap_err();
    assert!(err.to_string().contains("eval()"), "{err}");
    assert!(gradient(&net, &x, &[0, 1], 0).is_err());
    net.eval();
    assert!(lrp_attention(&mut net, &x, &[0, 1], &cfg).is_ok());
    assert!(gradient(&net, &x, &[0, 1], 0).is_ok());
}

/// The combination of the fine-tuned aggregation starts as the mean of the
/// heads (plain and variational), so that its first training stage is
/// validated as deep supervision is rather than through a random layer.
#[test]
fn fine_tuned_starts_as_the_mean_of_its_heads() {
    let mut rng = StdRng::seed_from_u64(12);
    let x = Tensor::randn(&[3, 1, 16, 16], &mut StdRng::seed_from_u64(13));
    let mut net = small(Aggregation::FineTuned, Normalisation::Softmax)
        .build(&mut PlainLayers::new(&mut rng))
        .unwrap();
    net.eval();
    let out = net.forward_all(&x, &mut Pass::new(&mut rng)).unwrap();
    assert_eq!(out.head_logits.len(), 2);
    let mean = (out.head_logits[0].data() + out.head_logits[1].data()) * 0.5;
    let logits = out.logits.data();
    for (a, b) in logits.iter().zip(mean.iter()) {
        assert!((a - b).abs() < 1e-6, "{logits:?} vs {mean:?}");
    }
    let w = param(&net, "combine.weight");
    assert_eq!(w, [0.5, 0.0, 0.5, 0.0, 0.0, 0.5, 0.0, 0.5]);

    let vcfg = VariationalConfig::default();
    let (mut r1, mut r2) = (StdRng::seed_from_u64(14), StdRng::seed_from_u64(15));
    let mut plain = PlainLayers::new(&mut r1);
    let mut bayes = BayesLayers::new(&vcfg, &mut r2).unwrap();
    let mut gates = PlainLayers::new(&mut rng);
    let net = small(Aggregation::FineTuned, Normalisation::Softmax)
        .build_parts(Parts {
            backbone: &mut plain,
            gates: &mut gates,
            head: &mut bayes,
        })
        .unwrap();
    let mu = param(&net, "combine.weight_mu");
    assert_eq!(mu, [0.5, 0.0, 0.5, 0.0, 0.0, 0.5, 0.0, 0.5]);
    let bias = param(&net, "combine.bias_mu");
    assert_eq!(bias, [0.0, 0.0]);
}

/// The study code's deep supervision: the prediction is the mean of every
/// gate's classifier and of one on the concatenated features, and gradients
/// flow through all of them.
#[test]
fn mean_with_concat_averages_the_gate_heads_and_a_concat_classifier() {
    let mut rng = StdRng::seed_from_u64(16);
    let x = Tensor::randn(&[2, 1, 16, 16], &mut StdRng::seed_from_u64(17));
    let cfg = AttentionNetConfig {
        psi_bias: 0.0,
        ..small(Aggregation::MeanWithConcat, Normalisation::Softmax)
    };
    let mut net = cfg.build(&mut PlainLayers::new(&mut rng)).unwrap();
    net.eval();
    let out = net.forward_all(&x, &mut Pass::new(&mut rng)).unwrap();
    assert_eq!(out.head_logits.len(), 3);
    let zero = ndarray::ArrayD::<f32>::zeros(IxDyn(&[2, 2]));
    let mean = out.head_logits.iter().fold(zero, |a, h| a + h.data()) / 3.0;
    for (a, b) in out.logits.data().iter().zip(mean.iter()) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    // gated channels 2 and 3: the gate heads read 2 and 3, the classifier 5
    assert_eq!(param(&net, "head1.weight").len(), 2 * 2);
    assert_eq!(param(&net, "head2.weight").len(), 2 * 3);
    assert_eq!(param(&net, "classifier.weight").len(), 2 * 5);
    let rep = gradient_check(&net, x.data());
    assert!(rep.passed(), "{rep:?}");
}

/// The study code's fine-tuned network: the combination reads the heads'
/// logits through a ReLU, starts as an ordinary linear layer, trains with
/// the rest in one stage (no second stage to freeze for), and the whole
/// network passes the gradient check.
#[test]
fn study_fine_tuned_combines_rectified_heads_in_one_stage() {
    let mut rng = StdRng::seed_from_u64(18);
    let x = Tensor::randn(&[3, 1, 16, 16], &mut StdRng::seed_from_u64(19));
    let cfg = AttentionNetConfig {
        psi_bias: 0.0,
        ..small(Aggregation::StudyFineTuned, Normalisation::Softmax)
    };
    let mut net = cfg.build(&mut PlainLayers::new(&mut rng)).unwrap();
    net.eval();
    let out = net.forward_all(&x, &mut Pass::new(&mut rng)).unwrap();
    assert_eq!(out.head_logits.len(), 2);
    let (w, b) = (param(&net, "combine.weight"), param(&net, "combine.bias"));
    assert_eq!(w.len(), 2 * 4);
    assert_ne!(
        w,
        [0.5, 0.0, 0.5, 0.0, 0.0, 0.5, 0.0, 0.5],
        "not started as the mean"
    );
    // logits[n, j] = b[j] + sum_i w[j, i] relu(u[n, i]), u = the heads side by side
    let (h0, h1) = (out.head_logits[0].data(), out.head_logits[1].data());
    let mut negative = 0;
    for n in 0..3 {
        let u = [h0[[n, 0]], h0[[n, 1]], h1[[n, 0]], h1[[n, 1]]];
        negative += u.iter().filter(|&&v| v < 0.0).count();
        for j in 0..2 {
            let want: f32 = b[j] + (0..4).map(|i| w[j * 4 + i] * u[i].max(0.0)).sum::<f32>();
            let got = out.logits.data()[[n, j]];
            assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        }
    }
    assert!(
        negative > 0,
        "some head logit must be negative for the ReLU to matter"
    );
    assert!(net.freeze_for_fine_tuning().is_err());
    let rep = gradient_check(&net, x.data());
    assert!(rep.passed(), "{rep:?}");
}

/// The values of the parameter called `name`.
fn param(net: &dyn Module, name: &str) -> Vec<f32> {
    let params = net.named_parameters();
    let (_, t) = params.iter().find(|(n, _)| n == name).unwrap();
    t.to_vec()
}
