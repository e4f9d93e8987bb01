//! The fused convolution + bias + ReLU + max pooling
//! (`Tensor::conv2d_relu_max_pool2d`): bit for bit the two ops it replaces,
//! on every instruction set and thread count, and gradients that pass the
//! finite-difference check.

use fanaroff_tensor::gradcheck::{GradCheck, check_gradients};
use fanaroff_tensor::{Kernel, Tensor, forced_pool, with_kernel};
use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One geometry: input `[n, c, h, w]`, `o` kernels `k x k` with `pad`,
/// pooling window and step, whether there is a bias.
#[derive(Clone, Copy, Debug)]
struct Case {
    x: [usize; 4],
    o: usize,
    k: usize,
    pad: usize,
    pool: (usize, usize),
    bias: bool,
}

/// `(x, o, k, pad, pool, bias)`:
/// - a LeNet block (5x5, padding 1) with an odd output (19 -> 9 windows);
/// - 20 windows per row: AVX2 rows of 8 and a scalar tail;
/// - overlapping windows, which take the portable scatter;
/// - no padding, no bias;
/// - one image, one channel, padding 2.
type Row = ([usize; 4], usize, usize, usize, (usize, usize), bool);
const ROWS: [Row; 5] = [
    ([3, 2, 21, 23], 5, 5, 1, (2, 2), true),
    ([2, 3, 9, 40], 4, 3, 1, (2, 2), true),
    ([2, 2, 11, 12], 3, 3, 1, (3, 2), true),
    ([4, 1, 12, 14], 6, 5, 0, (2, 2), false),
    ([1, 1, 8, 8], 2, 3, 2, (2, 2), true),
];

fn cases() -> impl Iterator<Item = Case> {
    ROWS.into_iter().map(|(x, o, k, pad, pool, bias)| Case {
        x,
        o,
        k,
        pad,
        pool,
        bias,
    })
}

/// Values on a grid of quarters, so that window maxima tie often.
fn quarters(shape: &[usize], r: &mut StdRng) -> Tensor {
    let len = shape.iter().product();
    let v = (0..len)
        .map(|_| r.random_range(-4i32..5) as f32 * 0.25)
        .collect();
    Tensor::from_vec(v, shape).unwrap()
}

/// Output and the gradients of input, weight and bias, fused or not.
fn run(c: Case, fused: bool, need_x: bool) -> Vec<Vec<u32>> {
    let mut r = StdRng::seed_from_u64(c.x.iter().sum::<usize>() as u64);
    let x = quarters(&c.x, &mut r).requires_grad(need_x);
    let w = quarters(&[c.o, c.x[1], c.k, c.k], &mut r).requires_grad(true);
    let b = quarters(&[c.o], &mut r).requires_grad(true);
    let bias = c.bias.then_some(&b);
    let (p, (k, s)) = ((c.pad, c.pad), c.pool);
    let y = if fused {
        x.conv2d_relu_max_pool2d(&w, bias, p, (k, k), (s, s))
    } else {
        let conv = x.conv2d(&w, bias, (1, 1), p).unwrap();
        conv.relu_max_pool2d((k, k), (s, s))
    }
    .unwrap();
    let head = Tensor::randn(y.shape(), &mut r);
    let g = y.mul(&head).unwrap().sum().backward().unwrap();
    let bits = |v: Vec<f32>| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    let mut out = vec![bits(y.to_vec())];
    for t in [&x, &w, &b] {
        let grad = g
            .get(t)
            .map(|a| a.iter().copied().collect())
            .unwrap_or_default();
        out.push(bits(grad));
    }
    out
}

#[test]
fn fused_block_equals_the_two_ops_bit_for_bit() {
    for threads in [1, 2] {
        for kernel in Kernel::supported() {
            // every worker forced: the unfused ops pick their kernel on the
            // worker that runs each chunk
            let pool = forced_pool(kernel, threads).unwrap();
            for c in cases() {
                for need_x in [true, false] {
                    let [fused, two] = [true, false].map(|f| pool.install(|| run(c, f, need_x)));
                    let ctx = format!("{kernel:?}, {threads} threads, {c:?}, need_x {need_x}");
                    assert!(fused[0].iter().any(|&v| v != 0), "{ctx}: all zero");
                    for (i, name) in ["output", "dx", "dw", "db"].iter().enumerate() {
                        assert_eq!(fused[i], two[i], "{ctx}: {name}");
                    }
                    assert_eq!(fused[1].is_empty(), !need_x, "{ctx}: dx present");
                    assert_eq!(fused[3].is_empty(), !c.bias, "{ctx}: db present");
                }
            }
        }
    }
}

#[test]
fn fused_block_gradients_pass_the_check_on_every_kernel() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    // a small step: a larger one moves conv outputs across their windows'
    // runners-up, where max pooling has kinks
    let cfg = GradCheck {
        eps: 1e-3,
        rtol: 2e-2,
        atol: 2e-3,
        ..GradCheck::default()
    };
    for kernel in Kernel::supported() {
        // the same data on every instruction set
        let mut r = StdRng::seed_from_u64(11);
        for c in cases() {
            let draw = |s: &[usize], r: &mut StdRng| {
                ArrayD::from_shape_fn(IxDyn(s), |_| r.random_range(-1.0f32..1.0))
            };
            let x = draw(&c.x, &mut r);
            let w = draw(&[c.o, c.x[1], c.k, c.k], &mut r);
            // a bias well away from zero keeps few outputs at the ReLU's kink
            let b = draw(&[c.o], &mut r).mapv(|v| v + 0.5);
            let (p, (k, s)) = ((c.pad, c.pad), c.pool);
            let report = pool.install(|| {
                with_kernel(kernel, || {
                    check_gradients(
                        |t| t[0].conv2d_relu_max_pool2d(&t[1], Some(&t[2]), p, (k, k), (s, s)),
                        &[x.clone(), w.clone(), b.clone()],
                        &cfg,
                    )
                })
            });
            let report = report.unwrap();
            assert!(
                report.passed(),
                "{kernel:?} {c:?}: {} of {} mismatched, first {:?}",
                report.mismatches.len(),
                report.checked,
                report.mismatches.first()
            );
        }
    }
}

/// Geometries the fused path does not take (padding as large as the
/// kernel, an empty batch) give the two ops' result; bad shapes are errors.
#[test]
fn other_geometries_fall_back_and_bad_shapes_are_errors() {
    let mut r = StdRng::seed_from_u64(2);
    let x = Tensor::randn(&[2, 1, 6, 6], &mut r);
    let w = Tensor::randn(&[3, 1, 2, 2], &mut r);
    let fused = x.conv2d_relu_max_pool2d(&w, None, (2, 2), (2, 2), (2, 2));
    let two = x.conv2d(&w, None, (1, 1), (2, 2)).unwrap();
    let two = two.relu_max_pool2d((2, 2), (2, 2)).unwrap();
    assert_eq!(fused.unwrap().to_vec(), two.to_vec());
    let empty = Tensor::zeros(&[0, 1, 6, 6]);
    let y = empty
        .conv2d_relu_max_pool2d(&w, None, (1, 1), (2, 2), (2, 2))
        .unwrap();
    assert_eq!(y.shape(), &[0, 3, 3, 3]);
    let wrong_channels = Tensor::zeros(&[3, 2, 2, 2]);
    assert!(
        x.conv2d_relu_max_pool2d(&wrong_channels, None, (1, 1), (2, 2), (2, 2))
            .is_err()
    );
    let too_big = (7, 7);
    assert!(
        x.conv2d_relu_max_pool2d(&w, None, (0, 0), too_big, (1, 1))
            .is_err()
    );
    assert!(
        x.conv2d_relu_max_pool2d(&w, None, (0, 0), (2, 2), (0, 2))
            .is_err()
    );
}
