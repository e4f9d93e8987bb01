//! Tensors and reverse-mode automatic differentiation, the core everything
//! else is built on: a small convolutional "detector" is evaluated on a
//! synthetic galaxy, its gradients come from one backward pass, and the
//! gradient checker confirms them against finite differences.
//!
//! ```text
//! cargo run --release --example 01_tensor_autodiff
//! ```

use fanaroff::data::SyntheticConfig;
use fanaroff::tensor::gradcheck::{GradCheck, check_gradients};
use fanaroff::tensor::{Tensor, no_grad};
use fanaroff_examples::{Flags, SCALING, argv, exit_on_error};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

const HELP: &str = "01_tensor_autodiff: tensors, one backward pass, a gradient check

options [defaults]:
  --seed N   the galaxy and the filter weights [0]";

fn main() {
    exit_on_error(run());
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let f = Flags::parse(&argv(), &["--seed"], HELP)?;
    let seed: u64 = f.get("--seed", 0)?;

    // One 150 x 150 synthetic radio galaxy as a [1, 1, 150, 150] tensor.
    let galaxy = SyntheticConfig::default().with_seed(seed).generate(1)?;
    let x = Tensor::from_array(galaxy.to_f32(SCALING).into_dyn());

    // Four random 5 x 5 filters; `requires_grad` makes them leaves of the tape.
    let mut rng = StdRng::seed_from_u64(seed);
    let normal = Normal::new(0.0f32, 0.2)?;
    let w: Vec<f32> = (0..4 * 25).map(|_| normal.sample(&mut rng)).collect();
    let w = Tensor::from_vec(w, &[4, 1, 5, 5])?.requires_grad(true);

    // conv -> ReLU -> 2x2 max pool -> mean: every step is recorded.
    let score = x
        .conv2d(&w, None, (1, 1), (2, 2))?
        .relu()
        .max_pool2d((2, 2), (2, 2))?
        .mean();
    println!(
        "score of the galaxy under 4 random filters: {:.5}",
        score.item()?
    );

    // One backward pass gives d(score)/d(w) for all 100 weights.
    let grads = score.backward()?;
    let g = grads.get(&w).ok_or("no gradient for w")?;
    println!(
        "gradient shape {:?}, |grad|_max = {:.3e}",
        g.shape(),
        g.iter().fold(0f32, |m, v| m.max(v.abs()))
    );

    // Inference records nothing.
    let y = no_grad(|| x.conv2d(&w, None, (1, 1), (2, 2)))?;
    println!("inside no_grad the output is a leaf: {}", y.is_leaf());

    // The gradient checker compares the backward pass with central differences.
    let image = x.data().clone();
    let report = check_gradients(
        |t| {
            t[0].conv2d(&t[1], None, (1, 1), (2, 2))?
                .relu()
                .max_pool2d((2, 2), (2, 2))
                .map(|p| p.mean())
        },
        &[image, w.data().clone()],
        &GradCheck::default(),
    )?;
    println!(
        "gradient check: {} elements compared, max |analytic - numeric| = {:.2e}, passed: {}",
        report.checked,
        report.max_abs_err,
        report.passed()
    );
    if !report.passed() {
        return Err(format!("{} mismatches", report.mismatches.len()).into());
    }
    Ok(())
}
