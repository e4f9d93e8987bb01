//! Every instruction set this CPU supports, forced in turn, gives the same
//! convolution and matrix products, `matmul_t` included (the vector paths
//! bit for bit).

use fanaroff_tensor::{Kernel, Tensor, with_kernel};
use rand::SeedableRng;
use rand::rngs::StdRng;

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
            let y = x.conv2d(&w, Some(&b), (1, 1), (1, 1)).unwrap();
            let y2 = x.conv2d(&w2, None, (1, 1), (1, 1)).unwrap();
            let z = y.flatten(1).unwrap().matmul(&m).unwrap();
            let h = y.flatten(1).unwrap().matmul_t(&wl).unwrap();
            let loss = z.square().sum().add(&y2.square().sum()).unwrap();
            let loss = loss.add(&h.square().sum()).unwrap();
            let g = loss.backward().unwrap();
            let mut out = vec![z.to_vec(), y2.to_vec(), h.to_vec()];
            for t in [&x, &w, &b, &m, &w2, &wl] {
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
    for w in vector.windows(2) {
        assert_eq!(w[0], w[1], "the vector kernels differ");
    }
    println!("kernels tested: {kernels:?}");
}
