//! Every instruction set this CPU supports, forced in turn, gives the same
//! convolution and matrix products, `matmul_t` included (the vector paths
//! bit for bit but for the convolutions' weight gradients), and gradients
//! that pass the finite-difference check.

use fanaroff_tensor::gradcheck::{GradCheck, check_gradients};
use fanaroff_tensor::{Kernel, Tensor, with_kernel};
use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Forward output and the gradients of input, weight and bias of a conv +
/// matmul, on one thread so the forced kernel covers every call.
fn run(kernel: Kernel) -> Vec<Vec<f32>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(|| {
        with_kernel(kernel, || {
            let mut r = StdRng::seed_from_u64(0);
            let x = Tensor::randn(&[3, 2, 21, 19], &mut r).requires_grad(true);
            let w = Tensor::randn(&[5, 2, 5, 5], &mut r).requires_grad(true);
            let b = Tensor::randn(&[5], &mut r).requires_grad(true);
            let m = Tensor::randn(&[5 * 19 * 17, 7], &mut r).requires_grad(true);
            // a second conv with 18 output channels: the transposed weight gradient
            let w2 = Tensor::randn(&[18, 2, 3, 3], &mut r).requires_grad(true);
            // a linear layer on the flattened conv output: matmul_t's kernels
            let wl = Tensor::randn(&[20, 5 * 19 * 17], &mut r).requires_grad(true);
            // a 1x1 convolution (the pointwise strategy) with 20 outputs
            let w3 = Tensor::randn(&[20, 2, 1, 1], &mut r).requires_grad(true);
            let b3 = Tensor::randn(&[20], &mut r).requires_grad(true);
            let y = x.conv2d(&w, Some(&b), (1, 1), (1, 1)).unwrap();
            let y2 = x.conv2d(&w2, None, (1, 1), (1, 1)).unwrap();
            let z = y.flatten(1).unwrap().matmul(&m).unwrap();
            let h = y.flatten(1).unwrap().matmul_t(&wl).unwrap();
            let loss = z.square().sum().add(&y2.square().sum()).unwrap();
            let loss = loss.add(&h.square().sum()).unwrap();
            let y3 = x.conv2d(&w3, Some(&b3), (1, 1), (0, 0)).unwrap();
            let loss = loss.add(&y3.square().sum()).unwrap();
            let g = loss.backward().unwrap();
            let mut out = vec![z.to_vec(), y2.to_vec(), h.to_vec(), y3.to_vec()];
            for t in [&x, &w, &b, &m, &w2, &wl, &w3, &b3] {
                out.push(g.get(t).unwrap().iter().copied().collect());
            }
            out
        })
    })
}

#[test]
fn every_supported_kernel_gives_the_same_conv_and_matmul() {
    let kernels = Kernel::supported();
    let scalar = run(Kernel::Scalar);
    let mut vector: Vec<Vec<Vec<f32>>> = Vec::new();
    for &k in &kernels[1..] {
        let got = run(k);
        for (a, b) in got.iter().zip(&scalar) {
            // sums of many products: compare on the scale of the whole array
            let scale = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            for (x, y) in a.iter().zip(b) {
                assert!(
                    (x - y).abs() <= 1e-4 * scale,
                    "{k:?}: {x} vs {y} (scale {scale})"
                );
            }
        }
        vector.push(got);
    }
    // The weight gradients of the 5x5 and 3x3 convolutions (outputs 5 and
    // 8) take AVX-512's run tiles, which sum in 16 lanes instead of 8;
    // everything else is the same chain of operations on both paths.
    for w in vector.windows(2) {
        for (i, (a, b)) in w[0].iter().zip(&w[1]).enumerate() {
            if i != 5 && i != 8 {
                assert_eq!(a, b, "the vector kernels differ in output {i}");
            }
        }
    }
    println!("kernels tested: {kernels:?}");
}

/// The convolution's gradients pass the finite-difference check on every
/// instruction set, for kernel widths that make runs of 2 to 5 rows (the
/// AVX-512 weight gradient) and for the 1x1 path.
#[test]
fn conv_gradients_pass_the_check_on_every_kernel() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut r = StdRng::seed_from_u64(5);
    let cases = [(5, 5, 1), (3, 3, 1), (2, 4, 0), (1, 1, 0)];
    for kernel in Kernel::supported() {
        for &(kh, kw, pad) in &cases {
            let x = ArrayD::from_shape_fn(IxDyn(&[2, 3, 19, 21]), |_| r.random_range(-1.0..1.0));
            let w = ArrayD::from_shape_fn(IxDyn(&[5, 3, kh, kw]), |_| r.random_range(-1.0..1.0));
            let report = pool.install(|| {
                with_kernel(kernel, || {
                    check_gradients(
                        |t| t[0].conv2d(&t[1], None, (1, 1), (pad, pad)),
                        &[x.clone(), w.clone()],
                        &GradCheck::default(),
                    )
                })
            });
            let report = report.unwrap();
            assert!(
                report.passed(),
                "{kernel:?} {kh}x{kw}: {} of {} mismatched, first {:?}",
                report.mismatches.len(),
                report.checked,
                report.mismatches.first()
            );
        }
    }
}

/// The pointwise (1x1) strategy computes `W X_i + b` per image: its output
/// and gradients equal those of the same product written with `matmul`.
#[test]
fn pointwise_conv_is_a_matrix_product() {
    let mut r = StdRng::seed_from_u64(3);
    let (n, c, h, w, o) = (3, 6, 7, 9, 20);
    let x = Tensor::randn(&[n, c, h, w], &mut r).requires_grad(true);
    let wt = Tensor::randn(&[o, c, 1, 1], &mut r).requires_grad(true);
    let b = Tensor::randn(&[o], &mut r).requires_grad(true);
    let y = x.conv2d(&wt, Some(&b), (1, 1), (0, 0)).unwrap();
    let target = Tensor::randn(&[n, o, h, w], &mut r);
    let g = y.mul(&target).unwrap().sum().backward().unwrap();
    // the same sums as matrices: Y[n] = W [o, c] X[n] [c, hw] + b
    let wm = wt.reshape(&[o, c]).unwrap();
    let mut loss = Tensor::zeros(&[]);
    let mut ys = Vec::new();
    for i in 0..n {
        let xi = x.slice(0, i, i + 1).unwrap().reshape(&[c, h * w]).unwrap();
        let yi = wm
            .matmul(&xi)
            .unwrap()
            .add(&b.reshape(&[o, 1]).unwrap())
            .unwrap();
        let ti = target
            .slice(0, i, i + 1)
            .unwrap()
            .reshape(&[o, h * w])
            .unwrap();
        loss = loss.add(&yi.mul(&ti).unwrap().sum()).unwrap();
        ys.extend(yi.to_vec());
    }
    let g2 = loss.backward().unwrap();
    let close = |a: &[f32], e: &[f32], what: &str| {
        assert_eq!(a.len(), e.len(), "{what}");
        for (u, v) in a.iter().zip(e) {
            assert!(
                (u - v).abs() <= 1e-4 * (1.0 + v.abs()),
                "{what}: {u} vs {v}"
            );
        }
    };
    close(&y.to_vec(), &ys, "output");
    for (t, what) in [(&x, "input grad"), (&wt, "weight grad"), (&b, "bias grad")] {
        let a: Vec<f32> = g.get(t).unwrap().iter().copied().collect();
        let e: Vec<f32> = g2.get(t).unwrap().iter().copied().collect();
        close(&a, &e, what);
    }
}
