//! The fused attention-gate score: finite-difference gradients, and equality
//! with the same expression written as separate ops, on every instruction
//! set this CPU supports.

use fanaroff_tensor::gradcheck::{GradCheck, check_gradients};
use fanaroff_tensor::{Kernel, Result, Tensor, with_kernel};
use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn uniform(shape: &[usize], lo: f32, hi: f32, r: &mut StdRng) -> ArrayD<f32> {
    ArrayD::from_shape_fn(IxDyn(shape), |_| r.random_range(lo..hi))
}

/// The gate's score written with separate ops (the unfused path).
fn composed(t: &[Tensor], bias: bool) -> Result<Tensor> {
    let (x, p, theta, psi) = (&t[0], &t[1], &t[2], &t[3]);
    let (tb, pb) = if bias {
        (Some(&t[4]), Some(&t[5]))
    } else {
        (None, None)
    };
    let (h, w) = (x.shape()[2], x.shape()[3]);
    let up = p.resize_bilinear(h, w, false)?;
    let a = x.conv2d(theta, tb, (1, 1), (0, 0))?.add(&up)?.relu();
    a.conv2d(psi, pb, (1, 1), (0, 0))
}

fn fused(t: &[Tensor], bias: bool) -> Result<Tensor> {
    let (tb, pb) = if bias {
        (Some(&t[4]), Some(&t[5]))
    } else {
        (None, None)
    };
    t[0].attention_gate_score(&t[1], &t[2], tb, &t[3], pb)
}

/// Inputs `x, p, theta, psi, theta_b, psi_b` for the given sizes.
fn inputs(
    n: usize,
    c: usize,
    k: usize,
    hw: (usize, usize),
    ghw: (usize, usize),
    seed: u64,
) -> Vec<ArrayD<f32>> {
    let mut r = StdRng::seed_from_u64(seed);
    vec![
        uniform(&[n, c, hw.0, hw.1], -1.0, 1.0, &mut r),
        uniform(&[n, k, ghw.0, ghw.1], -1.0, 1.0, &mut r),
        uniform(&[k, c, 1, 1], -1.0, 1.0, &mut r),
        uniform(&[1, k, 1, 1], -1.0, 1.0, &mut r),
        uniform(&[k], -0.5, 0.5, &mut r),
        uniform(&[1], -0.5, 0.5, &mut r),
    ]
}

/// Inputs whose pre-activations keep at least 0.2 from the ReLU's kink (so
/// finite differences never cross it): each channel k has an offset of
/// +-(1.2..2) (through `theta_b`, or through `p` without biases) against
/// |theta x| + |resize(p)| < 1.
fn away_from_kink(bias: bool, seed: u64) -> Vec<ArrayD<f32>> {
    let (n, c, k) = (2, 3, 5);
    let mut r = StdRng::seed_from_u64(seed);
    let offset: Vec<f32> = (0..k)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 } * r.random_range(1.2f32..2.0))
        .collect();
    let mut p = uniform(&[n, k, 3, 2], -0.2, 0.2, &mut r);
    if !bias {
        for ((_, ch, _, _), v) in p
            .view_mut()
            .into_dimensionality::<ndarray::Ix4>()
            .unwrap()
            .indexed_iter_mut()
        {
            *v += offset[ch];
        }
    }
    vec![
        uniform(&[n, c, 7, 6], -0.5, 0.5, &mut r),
        p,
        uniform(&[k, c, 1, 1], -0.25, 0.25, &mut r),
        uniform(&[1, k, 1, 1], -1.0, 1.0, &mut r),
        ArrayD::from_shape_vec(IxDyn(&[k]), offset).unwrap(),
        uniform(&[1], -0.5, 0.5, &mut r),
    ]
}

#[test]
fn gradients_match_finite_differences() {
    for (bias, seed) in [(true, 1), (false, 2)] {
        let all = away_from_kink(bias, seed);
        let used = if bias { &all[..] } else { &all[..4] };
        let report = check_gradients(|t| fused(t, bias), used, &GradCheck::default()).unwrap();
        assert!(
            report.passed(),
            "bias {bias}: {} of {} mismatched, first {:?}",
            report.mismatches.len(),
            report.checked,
            report.mismatches.first()
        );
    }
}

/// Output and every gradient of `f` under the loss `sum(score * weights)`.
fn run(
    f: fn(&[Tensor], bool) -> Result<Tensor>,
    vals: &[ArrayD<f32>],
    bias: bool,
) -> Vec<Vec<f32>> {
    let t: Vec<Tensor> = vals
        .iter()
        .map(|v| Tensor::new(v.clone()).requires_grad(true))
        .collect();
    let used = if bias { &t[..] } else { &t[..4] };
    let s = f(used, bias).unwrap();
    let mut r = StdRng::seed_from_u64(9);
    let weights = Tensor::new(uniform(s.shape(), -1.0, 1.0, &mut r));
    let g = s.mul(&weights).unwrap().sum().backward().unwrap();
    let mut out = vec![s.to_vec()];
    out.extend(
        used.iter()
            .map(|x| g.get(x).unwrap().iter().copied().collect()),
    );
    out
}

fn assert_close(a: &[Vec<f32>], b: &[Vec<f32>], what: &str) {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let scale = y.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        for (u, v) in x.iter().zip(y) {
            assert!(
                (u - v).abs() <= 1e-4 * scale,
                "{what}, output {i}: {u} vs {v}"
            );
        }
    }
}

#[test]
fn fused_equals_separate_ops_on_every_kernel() {
    // odd sizes, K >= 16 channels, a 150 -> 18 sized ratio, one image per thread and more
    let cases = [
        (3, 6, 20, (7, 9), (2, 3)),
        (2, 16, 64, (37, 37), (18, 18)),
        (1, 1, 3, (5, 4), (5, 4)),
    ];
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    for (i, &(n, c, k, hw, ghw)) in cases.iter().enumerate() {
        let vals = inputs(n, c, k, hw, ghw, 10 + i as u64);
        for bias in [true, false] {
            let reference = run(composed, &vals, bias);
            let mut vector: Vec<Vec<Vec<f32>>> = Vec::new();
            for k in Kernel::supported() {
                let got = one.install(|| with_kernel(k, || run(fused, &vals, bias)));
                assert_close(&got, &reference, &format!("case {i} bias {bias} {k:?}"));
                if k != Kernel::Scalar {
                    vector.push(got);
                }
            }
            for w in vector.windows(2) {
                assert_eq!(w[0], w[1], "case {i}: the vector kernels differ");
            }
            // and the default thread pool (chunks of images in parallel)
            assert_close(
                &run(fused, &vals, bias),
                &reference,
                &format!("case {i} pool"),
            );
        }
    }
}

#[test]
fn wrong_shapes_are_errors() {
    let x = Tensor::zeros(&[2, 3, 8, 8]);
    let p = Tensor::zeros(&[2, 4, 2, 2]);
    let theta = Tensor::zeros(&[4, 3, 1, 1]);
    let psi = Tensor::zeros(&[1, 4, 1, 1]);
    let bad_p = Tensor::zeros(&[3, 4, 2, 2]);
    let bad_theta = Tensor::zeros(&[4, 2, 1, 1]);
    let bad_psi = Tensor::zeros(&[2, 4, 1, 1]);
    let bad_bias = Tensor::zeros(&[3]);
    assert!(
        x.attention_gate_score(&bad_p, &theta, None, &psi, None)
            .is_err()
    );
    assert!(
        x.attention_gate_score(&p, &bad_theta, None, &psi, None)
            .is_err()
    );
    assert!(
        x.attention_gate_score(&p, &theta, None, &bad_psi, None)
            .is_err()
    );
    let e = x.attention_gate_score(&p, &theta, Some(&bad_bias), &psi, None);
    assert!(e.unwrap_err().to_string().contains("biases"));
    assert!(x.attention_gate_score(&p, &theta, None, &psi, None).is_ok());
}
