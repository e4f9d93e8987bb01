//! One attention gate against PyTorch: attention map, gated features and the
//! gradients of x, g and the three convolutions, for softmax and sigmoid
//! (`fixtures/attention_gate_{softmax,sigmoid}.safetensors`), plus
//! finite-difference checks of every normalisation.

use fanaroff_attention::{AttentionGate, GateConfig, Normalisation};
use fanaroff_nn::models::PlainLayers;
use fanaroff_nn::{Module, ModuleExt, Pass, TensorFile, load_from};
use fanaroff_tensor::Tensor;
use fanaroff_tensor::gradcheck::{GradCheck, check_gradients};
use ndarray::ArrayD;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::path::PathBuf;

/// A PyTorch reference file in the workspace's `fixtures/` folder
/// (`fixtures/README.md` describes each one).
fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

/// max |a - b| / (atol + rtol |b|) <= 1 elementwise.
fn assert_close(name: &str, a: &ArrayD<f32>, b: &ArrayD<f32>, rtol: f32, atol: f32) {
    assert_eq!(a.shape(), b.shape(), "{name}: shapes");
    let worst = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs() / (atol + rtol * y.abs()))
        .fold(0.0f32, f32::max);
    assert!(worst <= 1.0, "{name}: worst error ratio {worst}");
}

fn check(file: &str, norm: Normalisation) {
    let f = TensorFile::read(fixture(file)).unwrap();
    let mut rng = StdRng::seed_from_u64(0);
    let cfg = GateConfig {
        normalisation: norm,
        ..GateConfig::new(32)
    };
    let mut gate = AttentionGate::build(&cfg, &mut PlainLayers::new(&mut rng)).unwrap();
    load_from(&mut gate, &f, false).unwrap();
    let x = Tensor::new(f.f32("x").unwrap()).requires_grad(true);
    let g = Tensor::new(f.f32("g").unwrap()).requires_grad(true);
    let (gated, alpha) = gate.gate(&x, &g, &mut Pass::new(&mut rng)).unwrap();
    assert_close(
        "attention",
        alpha.data(),
        &f.f32("attention").unwrap(),
        1e-4,
        1e-7,
    );
    assert_close("gated", gated.data(), &f.f32("gated").unwrap(), 1e-4, 1e-7);
    let loss = gated
        .mul(&Tensor::new(f.f32("upstream").unwrap()))
        .unwrap()
        .sum();
    assert_close(
        "loss",
        loss.data(),
        &f.f32("loss")
            .unwrap()
            .into_shape_with_order(ndarray::IxDyn(&[]))
            .unwrap(),
        1e-4,
        1e-6,
    );
    let grads = loss.backward().unwrap();
    assert_close(
        "grad.x",
        grads.get(&x).unwrap(),
        &f.f32("grad.x").unwrap(),
        1e-3,
        1e-6,
    );
    assert_close(
        "grad.g",
        grads.get(&g).unwrap(),
        &f.f32("grad.g").unwrap(),
        1e-3,
        1e-6,
    );
    for (name, grad) in gate.named_gradients(&grads) {
        assert_close(
            &name,
            &grad,
            &f.f32(&format!("grad.{name}")).unwrap(),
            1e-3,
            1e-6,
        );
    }
}

#[test]
fn softmax_gate_matches_pytorch() {
    check("attention_gate_softmax.safetensors", Normalisation::Softmax);
}

#[test]
fn sigmoid_gate_matches_pytorch() {
    check("attention_gate_sigmoid.safetensors", Normalisation::Sigmoid);
}

/// A small gate whose parameters are the given tensors (theta, phi, psi
/// weight, psi bias), so the checker can vary them.
fn gate_with(norm: Normalisation, params: &[Tensor]) -> AttentionGate {
    let cfg = GateConfig {
        normalisation: norm,
        gating_channels: 3,
        inter_channels: 4,
        psi_bias: 0.5,
        ..GateConfig::new(2)
    };
    let mut gate =
        AttentionGate::build(&cfg, &mut PlainLayers::new(&mut StdRng::seed_from_u64(1))).unwrap();
    let mut i = 0;
    gate.visit_params_mut("", &mut |_, p| {
        *p = params[i].clone();
        i += 1;
    });
    gate
}

#[test]
fn every_normalisation_passes_a_gradient_check() {
    let mut rng = StdRng::seed_from_u64(1);
    let template = gate_with(
        Normalisation::Softmax,
        &[
            Tensor::zeros(&[4, 2, 1, 1]),
            Tensor::zeros(&[4, 3, 1, 1]),
            Tensor::zeros(&[1, 4, 1, 1]),
            Tensor::zeros(&[1]),
        ],
    );
    let shapes: Vec<Vec<usize>> = template
        .named_parameters()
        .iter()
        .map(|(_, t)| t.shape().to_vec())
        .collect();
    assert_eq!(shapes.len(), 4);
    let mut inputs = vec![
        Tensor::randn(&[2, 2, 5, 5], &mut rng).data().clone(),
        Tensor::randn(&[2, 3, 3, 3], &mut rng).data().clone(),
    ];
    inputs.extend(
        shapes
            .iter()
            .map(|s| Tensor::randn(s, &mut rng).data().clone()),
    );
    let up = Tensor::randn(&[2, 2, 5, 5], &mut rng);
    for norm in Normalisation::ALL {
        let report = check_gradients(
            |t| {
                let gate = gate_with(norm, &t[2..]);
                let (gated, _) = gate
                    .gate(&t[0], &t[1], &mut Pass::new(&mut StdRng::seed_from_u64(0)))
                    .map_err(|_| unreachable!())?;
                gated.mul(&up)
            },
            &inputs,
            &GradCheck::default(),
        )
        .unwrap();
        assert!(report.passed(), "{norm:?}: {report:?}");
    }
}

#[test]
fn attention_sums_to_one_under_softmax_and_gates_shapes_are_checked() {
    let mut rng = StdRng::seed_from_u64(2);
    let gate = AttentionGate::build(
        &GateConfig {
            gating_channels: 3,
            ..GateConfig::new(2)
        },
        &mut PlainLayers::new(&mut rng),
    )
    .unwrap();
    let x = Tensor::randn(&[3, 2, 6, 6], &mut rng);
    let g = Tensor::randn(&[3, 3, 2, 2], &mut rng);
    let (gated, alpha) = gate.gate(&x, &g, &mut Pass::new(&mut rng)).unwrap();
    assert_eq!(gated.shape(), &[3, 2, 6, 6]);
    for s in alpha
        .data()
        .sum_axis(ndarray::Axis(3))
        .sum_axis(ndarray::Axis(2))
        .iter()
    {
        assert!((s - 1.0).abs() < 1e-5);
    }
    assert!(
        gate.gate(
            &x,
            &Tensor::randn(&[2, 3, 2, 2], &mut rng),
            &mut Pass::new(&mut rng)
        )
        .is_err(),
        "batch sizes differ"
    );
    assert!(gate.forward_rng(&x, &mut rng).is_err(), "one-input forward");
    assert_eq!(
        gate.named_parameters().len(),
        4,
        "theta, phi (no bias), psi weight and bias"
    );
}

/// Plain gates take the fused score op; it gives the values and gradients
/// of the layer-by-layer path (the one variational and MC-dropout gates
/// take) for every normalisation, with and without theta/phi biases.
#[test]
fn fused_gate_equals_the_layer_by_layer_path() {
    for bias in [false, true] {
        for norm in Normalisation::ALL {
            let cfg = GateConfig {
                normalisation: norm,
                gating_channels: 5,
                inter_channels: 17,
                bias,
                // a score near 0, not 10: std_mean divides the centred
                // scores by their spread, so rounding at 10 would dominate
                psi_bias: 0.0,
                ..GateConfig::new(3)
            };
            let mut rng = StdRng::seed_from_u64(4);
            let gate = AttentionGate::build(&cfg, &mut PlainLayers::new(&mut rng)).unwrap();
            let x = Tensor::randn(&[2, 3, 9, 7], &mut rng).requires_grad(true);
            let g = Tensor::randn(&[2, 5, 3, 3], &mut rng).requires_grad(true);
            let up = Tensor::randn(&[2, 3, 9, 7], &mut rng);
            let fused = gate.gate(&x, &g, &mut Pass::new(&mut rng)).unwrap().0;
            let score = gate
                .score_unfused(&x, &g, &mut Pass::new(&mut rng))
                .unwrap();
            let layered = norm.apply(&score).unwrap().mul(&x).unwrap();
            let name = format!("{norm:?} bias {bias}");
            assert_close(&name, fused.data(), layered.data(), 1e-4, 1e-6);
            let gf = fused.mul(&up).unwrap().sum().backward().unwrap();
            let gl = layered.mul(&up).unwrap().sum().backward().unwrap();
            for t in [&x, &g] {
                assert_close(&name, gf.get(t).unwrap(), gl.get(t).unwrap(), 1e-3, 1e-5);
            }
            let (pf, pl) = (gate.named_gradients(&gf), gate.named_gradients(&gl));
            assert_eq!(pf.len(), if bias { 6 } else { 4 });
            // (std_mean's psi bias gradient is 0 up to rounding: atol 1e-4)
            for ((n, a), (_, b)) in pf.iter().zip(&pl) {
                assert_close(&format!("{name} {n}"), a, b, 1e-3, 1e-4);
            }
        }
    }
}

/// Variational gates hand out one weight draw per pass, so they take the
/// fused op too: with the same random stream it gives the layer-by-layer
/// path's gated features, KL and gradients of every mu and rho.
#[test]
fn variational_gates_take_the_fused_op_with_the_same_draws() {
    use fanaroff_bayes::{BayesLayers, VariationalConfig};
    let cfg = GateConfig {
        gating_channels: 4,
        inter_channels: 16,
        bias: true,
        psi_bias: 0.0,
        ..GateConfig::new(3)
    };
    let mut rng = StdRng::seed_from_u64(5);
    let vcfg = VariationalConfig::default();
    let gate = AttentionGate::build(&cfg, &mut BayesLayers::new(&vcfg, &mut rng).unwrap()).unwrap();
    let x = Tensor::randn(&[2, 3, 8, 6], &mut rng);
    let g = Tensor::randn(&[2, 4, 3, 2], &mut rng);
    let up = Tensor::randn(&[2, 3, 8, 6], &mut rng);
    let mut rng_f = StdRng::seed_from_u64(7);
    let mut pass_f = Pass::new(&mut rng_f).collecting_kl();
    let fused = gate.gate(&x, &g, &mut pass_f).unwrap().0;
    let kl_f = pass_f.kl();
    let mut rng_l = StdRng::seed_from_u64(7);
    let mut pass_l = Pass::new(&mut rng_l).collecting_kl();
    let score = gate.score_unfused(&x, &g, &mut pass_l).unwrap();
    let layered = Normalisation::Softmax
        .apply(&score)
        .unwrap()
        .mul(&x)
        .unwrap();
    let kl_l = pass_l.kl();
    assert_close("gated", fused.data(), layered.data(), 1e-4, 1e-6);
    let (kf, kl) = (
        kl_f.weighted(1.0, 1.0).unwrap(),
        kl_l.weighted(1.0, 1.0).unwrap(),
    );
    assert_close("kl", kf.data(), kl.data(), 1e-5, 1e-5);
    let gf = fused
        .mul(&up)
        .unwrap()
        .sum()
        .add(&kf)
        .unwrap()
        .backward()
        .unwrap();
    let gl = layered
        .mul(&up)
        .unwrap()
        .sum()
        .add(&kl)
        .unwrap()
        .backward()
        .unwrap();
    let (pf, pl) = (gate.named_gradients(&gf), gate.named_gradients(&gl));
    assert_eq!(pf.len(), 12, "mu and rho of three weights and three biases");
    for ((n, a), (_, b)) in pf.iter().zip(&pl) {
        assert_close(n, a, b, 1e-3, 1e-4);
    }
}

#[test]
fn batch_range_scales_by_the_whole_batch() {
    // image 0 spans 0..1, image 1 spans 2..6: per image both become 0..1;
    // over the batch the minimum is 0 and the maximum 6
    let psi = Tensor::from_vec(vec![0.0, 1.0, 2.0, 6.0], &[2, 1, 1, 2]).unwrap();
    let per_image = Normalisation::Range.apply(&psi).unwrap();
    let batch = Normalisation::RangeBatch.apply(&psi).unwrap();
    let close =
        |a: &Tensor, want: [f32; 4]| a.data().iter().zip(want).all(|(x, w)| (x - w).abs() < 1e-5);
    assert!(close(&per_image, [0.0, 1.0, 0.0, 1.0]), "{per_image:?}");
    assert!(close(&batch, [0.0, 1.0 / 6.0, 2.0 / 6.0, 1.0]), "{batch:?}");
    assert_eq!(batch.shape(), &[2, 1, 1, 2]);
    assert_eq!(Normalisation::RangeBatch.name(), "range_batch");
}
