//! Per-layer CPU timings of the LeNet's layers for one minibatch, the Rust
//! counterpart of `../shared/bench/torch_layer_profile.py`: forward and
//! backward of every conv / fc layer and of the ReLU + max-pool after it,
//! with achieved GFLOP/s from the multiply-add count.
//!
//! ```text
//! cargo run --release --example 14_layer_profile -- [--threads 2] [--batch 50] [--repeats 15]
//! ```

use fanaroff::tensor::Tensor;
use fanaroff_examples::{Flags, argv, median};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::time::Instant;

fn median_ms(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    median(
        (0..repeats)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let help = "14_layer_profile [--threads 2] [--batch 50] [--repeats 15]";
    let f = Flags::parse(&argv(), &["--threads", "--batch", "--repeats"], help)?;
    let threads: usize = f.get("--threads", 2)?;
    let b: usize = f.get("--batch", 50)?;
    let repeats: usize = f.get("--repeats", 15)?;
    fanaroff::tensor::set_num_threads(threads)?;
    let mut rng = StdRng::seed_from_u64(0);
    println!("threads {threads}, batch {b}");
    println!(
        "| layer | fwd ms | fwd GFLOP/s | bwd ms | bwd GFLOP/s | relu+pool fwd ms | relu+pool bwd ms |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut h = 150;
    let mut totals = [0.0f64; 4];
    for (ci, co) in [(1, 6), (6, 16), (16, 26), (26, 32)] {
        let x = Tensor::randn(&[b, ci, h, h], &mut rng).requires_grad(ci != 1);
        let w = Tensor::randn(&[co, ci, 5, 5], &mut rng)
            .mul_scalar(0.05)
            .requires_grad(true);
        let bias = Tensor::zeros(&[co]).requires_grad(true);
        let ho = h - 2;
        let mac = (b * ho * ho * co * ci * 25) as f64;
        let fwd = median_ms(repeats, || {
            x.conv2d(&w, Some(&bias), (1, 1), (1, 1)).unwrap();
        });
        let y = x.conv2d(&w, Some(&bias), (1, 1), (1, 1))?;
        let gy = Tensor::randn(y.shape(), &mut rng).data().clone();
        let bwd = median_ms(repeats, || {
            y.backward_from(gy.clone()).unwrap();
        });
        let yd = y.detach().requires_grad(true);
        let pf = median_ms(repeats, || {
            yd.relu().max_pool2d((2, 2), (2, 2)).unwrap();
        });
        let p = yd.relu().max_pool2d((2, 2), (2, 2))?;
        let gp = Tensor::randn(p.shape(), &mut rng).data().clone();
        let pb = median_ms(repeats, || {
            p.backward_from(gp.clone()).unwrap();
        });
        let bwd_mac = if ci == 1 { mac } else { 2.0 * mac };
        println!(
            "| conv {ci}->{co} {h}x{h} | {fwd:.2} | {:.1} | {bwd:.2} | {:.1} | {pf:.2} | {pb:.2} |",
            2.0 * mac / fwd / 1e6,
            2.0 * bwd_mac / bwd / 1e6
        );
        for (t, v) in totals.iter_mut().zip([fwd, bwd, pf, pb]) {
            *t += v;
        }
        h = ho / 2;
    }
    for (fi, fo) in [(1568, 120), (120, 84), (84, 2)] {
        let x = Tensor::randn(&[b, fi], &mut rng).requires_grad(true);
        let w = Tensor::randn(&[fo, fi], &mut rng)
            .mul_scalar(0.05)
            .requires_grad(true);
        let bias = Tensor::zeros(&[fo]).requires_grad(true);
        let fwd = median_ms(repeats, || {
            fanaroff::nn::linear(&x, &w, Some(&bias)).unwrap();
        });
        let y = fanaroff::nn::linear(&x, &w, Some(&bias))?;
        let gy = Tensor::randn(y.shape(), &mut rng).data().clone();
        let bwd = median_ms(repeats, || {
            y.backward_from(gy.clone()).unwrap();
        });
        let mac = (b * fi * fo) as f64;
        println!(
            "| fc {fi}->{fo} | {fwd:.3} | {:.1} | {bwd:.3} | {:.1} | - | - |",
            2.0 * mac / fwd / 1e6,
            4.0 * mac / bwd / 1e6
        );
        totals[0] += fwd;
        totals[1] += bwd;
    }
    println!(
        "| total | {:.2} | | {:.2} | | {:.2} | {:.2} |",
        totals[0], totals[1], totals[2], totals[3]
    );
    Ok(())
}
