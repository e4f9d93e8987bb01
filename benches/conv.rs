//! Criterion benches of the kernels at the paper's LeNet sizes (batch 50):
//! conv2d forward and backward for the four conv layers, the fully connected
//! layers, and 2x2 max pooling.
//!
//! `cargo bench --bench conv`

use criterion::{Criterion, criterion_group, criterion_main};
use fanaroff::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::hint::black_box;

const BATCH: usize = 50;
/// (in channels, out channels, input side) of conv1..conv4.
const CONVS: [(usize, usize, usize); 4] = [(1, 6, 150), (6, 16, 74), (16, 26, 36), (26, 32, 17)];

fn conv(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0);
    let mut g = c.benchmark_group("conv2d");
    g.sample_size(10);
    for (i, &(ci, co, h)) in CONVS.iter().enumerate() {
        let x = Tensor::randn(&[BATCH, ci, h, h], &mut rng).requires_grad(ci != 1);
        let w = Tensor::randn(&[co, ci, 5, 5], &mut rng)
            .mul_scalar(0.05)
            .requires_grad(true);
        let b = Tensor::zeros(&[co]).requires_grad(true);
        g.bench_function(format!("conv{} fwd {ci}->{co} {h}x{h}", i + 1), |bch| {
            bch.iter(|| black_box(x.conv2d(&w, Some(&b), (1, 1), (1, 1)).unwrap()))
        });
        let y = x.conv2d(&w, Some(&b), (1, 1), (1, 1)).unwrap();
        let gy = Tensor::randn(y.shape(), &mut rng).data().clone();
        g.bench_function(format!("conv{} bwd {ci}->{co} {h}x{h}", i + 1), |bch| {
            bch.iter(|| black_box(y.backward_from(gy.clone()).unwrap()))
        });
    }
    g.finish();
}

fn linear(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    let mut g = c.benchmark_group("linear");
    for (fi, fo) in [(1568, 120), (120, 84), (84, 2)] {
        let x = Tensor::randn(&[BATCH, fi], &mut rng).requires_grad(true);
        let w = Tensor::randn(&[fo, fi], &mut rng)
            .mul_scalar(0.05)
            .requires_grad(true);
        let b = Tensor::zeros(&[fo]).requires_grad(true);
        g.bench_function(format!("fwd {fi}->{fo}"), |bch| {
            bch.iter(|| black_box(fanaroff::nn::linear(&x, &w, Some(&b)).unwrap()))
        });
        let y = fanaroff::nn::linear(&x, &w, Some(&b)).unwrap();
        let gy = Tensor::randn(y.shape(), &mut rng).data().clone();
        g.bench_function(format!("bwd {fi}->{fo}"), |bch| {
            bch.iter(|| black_box(y.backward_from(gy.clone()).unwrap()))
        });
    }
    g.finish();
}

fn max_pool(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(2);
    let mut g = c.benchmark_group("max_pool2d");
    g.sample_size(20);
    for &(ch, h) in &[(6, 148), (16, 72), (26, 34), (32, 15)] {
        let x = Tensor::randn(&[BATCH, ch, h, h], &mut rng).requires_grad(true);
        g.bench_function(format!("fwd {ch}x{h}x{h}"), |bch| {
            bch.iter(|| black_box(x.max_pool2d((2, 2), (2, 2)).unwrap()))
        });
        let y = x.max_pool2d((2, 2), (2, 2)).unwrap();
        let gy = Tensor::randn(y.shape(), &mut rng).data().clone();
        g.bench_function(format!("bwd {ch}x{h}x{h}"), |bch| {
            bch.iter(|| black_box(y.backward_from(gy.clone()).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, conv, linear, max_pool);
criterion_main!(benches);
