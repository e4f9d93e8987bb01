//! The deterministic LeNet against PyTorch: forward logits, loss and every
//! gradient from `fixtures/lenet_deterministic.safetensors`.

use fanaroff_nn::models::{LeNetConfig, lenet};
use fanaroff_nn::{Module, ModuleExt, Pass, Reduction, TensorFile, cross_entropy, load_from};
use fanaroff_tensor::Tensor;
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
    let mut worst = 0.0f32;
    for (x, y) in a.iter().zip(b.iter()) {
        worst = worst.max((x - y).abs() / (atol + rtol * y.abs()));
    }
    assert!(worst <= 1.0, "{name}: worst error ratio {worst}");
}

#[test]
fn forward_and_gradients_match_pytorch() {
    let file = TensorFile::read(fixture("lenet_deterministic.safetensors")).unwrap();
    let mut rng = StdRng::seed_from_u64(0);
    let mut net = lenet(&LeNetConfig::default(), &mut rng).unwrap();
    load_from(&mut net, &file, false).unwrap();

    let target: Vec<usize> = file
        .i64("target")
        .unwrap()
        .iter()
        .map(|&t| t as usize)
        .collect();
    // Twice: the second pass runs on buffers recycled from the first.
    for _ in 0..2 {
        check_pass(&net, &file, &target, &mut rng);
    }
}

fn check_pass(
    net: &fanaroff_nn::Sequential,
    file: &TensorFile,
    target: &[usize],
    rng: &mut StdRng,
) {
    let x = Tensor::new(file.f32("input").unwrap()).requires_grad(true);
    let logits = net.forward(&x, &mut Pass::new(rng)).unwrap();
    assert_close(
        "logits",
        logits.data(),
        &file.f32("logits").unwrap(),
        1e-4,
        1e-5,
    );
    let loss = cross_entropy(&logits, target, Reduction::Mean).unwrap();
    let want = file.f32("loss").unwrap();
    assert!((loss.item().unwrap() - want.iter().next().unwrap()).abs() < 1e-5);

    let grads = loss.backward().unwrap();
    assert_close(
        "grad.input",
        grads.get(&x).unwrap(),
        &file.f32("grad.input").unwrap(),
        1e-3,
        1e-7,
    );
    let mut n = 0;
    for (name, g) in net.named_gradients(&grads) {
        assert_close(
            &name,
            &g,
            &file.f32(&format!("grad.{name}")).unwrap(),
            1e-3,
            1e-7,
        );
        n += 1;
    }
    assert_eq!(n, 14);
}

#[test]
fn checkpoint_round_trip_and_errors() {
    let dir = std::env::temp_dir().join(format!("fanaroff-nn-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("lenet.safetensors");
    let mut rng = StdRng::seed_from_u64(1);
    let a = lenet(&LeNetConfig::default(), &mut rng).unwrap();
    fanaroff_nn::save_model(&a, &path).unwrap();
    let mut b = lenet(&LeNetConfig::default(), &mut StdRng::seed_from_u64(2)).unwrap();
    fanaroff_nn::load_model(&mut b, &path, true).unwrap();
    for ((na, ta), (nb, tb)) in a.named_parameters().into_iter().zip(b.named_parameters()) {
        assert_eq!(na, nb);
        assert_eq!(ta.data(), tb.data());
    }
    // wrong architecture: names the offending tensor
    let mut small = lenet(
        &LeNetConfig {
            hidden: [100, 84],
            ..LeNetConfig::default()
        },
        &mut rng,
    )
    .unwrap();
    let e = fanaroff_nn::load_model(&mut small, &path, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("fc1.weight"), "{e}");
    // missing and corrupt files
    assert!(
        fanaroff_nn::load_model(&mut b, dir.join("nope.safetensors"), true)
            .unwrap_err()
            .to_string()
            .contains("nope")
    );
    // a file without the last layer: load_model refuses, load_present loads
    // the rest and names what it left alone
    let partial: Vec<_> = fanaroff_nn::model_tensors(&a)
        .into_iter()
        .filter(|(n, _)| !n.starts_with("fc3."))
        .collect();
    let part = dir.join("partial.safetensors");
    fanaroff_nn::write_tensors(&part, &partial).unwrap();
    let mut c = lenet(&LeNetConfig::default(), &mut StdRng::seed_from_u64(3)).unwrap();
    let e = fanaroff_nn::load_model(&mut c, &part, false).unwrap_err();
    assert!(e.to_string().contains("fc3.weight"), "{e}");
    let fc3_before = c.named_parameters()[c.named_parameters().len() - 1]
        .1
        .to_vec();
    let file = TensorFile::read(&part).unwrap();
    let missing = fanaroff_nn::load_present(&mut c, &file).unwrap();
    assert_eq!(missing, ["fc3.weight", "fc3.bias"]);
    for ((na, ta), (_, tc)) in a.named_parameters().into_iter().zip(c.named_parameters()) {
        assert_eq!(ta.data() == tc.data(), !na.starts_with("fc3."), "{na}");
    }
    let fc3_after = c.named_parameters()[c.named_parameters().len() - 1]
        .1
        .to_vec();
    assert_eq!(fc3_before, fc3_after);
    let e = fanaroff_nn::load_present(&mut small, &file).unwrap_err();
    assert!(e.to_string().contains("fc1.weight"), "{e}");
    std::fs::write(dir.join("bad.safetensors"), b"not a tensor file").unwrap();
    assert!(matches!(
        fanaroff_nn::load_model(&mut b, dir.join("bad.safetensors"), true),
        Err(fanaroff_nn::Error::Checkpoint { .. })
    ));
    std::fs::remove_dir_all(&dir).ok();
}
