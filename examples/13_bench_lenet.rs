//! Times the deterministic LeNet of the BBB study on one 50 x 1 x 150 x 150
//! batch: a full training step (forward, backward, Adam) and inference only,
//! and prints images per second. Compare with
//! `../shared/bench/torch_bbb_reference.py bench` (`det_step`,
//! `det_fwd_nograd`) run on the same machine; see `docs/performance.md`.
//!
//! ```text
//! cargo run --release --example 13_bench_lenet -- [--repeats 20] [--threads 2] [--batch 50]
//! ```

use fanaroff::nn::models::{LeNetConfig, lenet};
use fanaroff::nn::{AdamConfig, ModuleExt, Optimizer, Reduction, nll_loss};
use fanaroff::tensor::{Tensor, no_grad};
use fanaroff_examples::timing::peak_rss_mib;
use fanaroff_examples::{Flags, argv, median};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let help = "13_bench_lenet [--repeats 20] [--threads 2] [--batch 50]";
    let f = Flags::parse(&argv(), &["--repeats", "--threads", "--batch"], help)?;
    let repeats: usize = f.get("--repeats", 20)?;
    let threads: usize = f.get("--threads", 2)?;
    let batch: usize = f.get("--batch", 50)?;
    fanaroff::tensor::set_num_threads(threads)?;
    let mut rng = StdRng::seed_from_u64(0);
    let mut net = lenet(&LeNetConfig::default(), &mut rng)?;
    let mut opt = AdamConfig::with_lr(1e-4).build()?;
    let x = Tensor::rand_uniform(&[batch, 1, 150, 150], -0.1, 3.0, &mut rng)?;
    let y: Vec<usize> = (0..batch).map(|i| i % 2).collect();

    let mut step = || -> Result<f64, Box<dyn std::error::Error>> {
        let t0 = Instant::now();
        let logp = net.forward_rng(&x, &mut rng)?.log_softmax(1)?;
        let loss = nll_loss(&logp, &y, Reduction::Sum)?;
        let grads = loss.backward()?;
        opt.step(&mut net, &grads)?;
        Ok(t0.elapsed().as_secs_f64())
    };
    for _ in 0..3 {
        step()?;
    }
    let train: Vec<f64> = (0..repeats).map(|_| step()).collect::<Result<_, _>>()?;
    let mut rng2 = StdRng::seed_from_u64(1);
    let net = lenet(&LeNetConfig::default(), &mut rng2)?;
    let mut infer = || -> Result<f64, Box<dyn std::error::Error>> {
        let t0 = Instant::now();
        no_grad(|| net.forward_rng(&x, &mut rng2))?;
        Ok(t0.elapsed().as_secs_f64())
    };
    for _ in 0..3 {
        infer()?;
    }
    let inf: Vec<f64> = (0..repeats).map(|_| infer()).collect::<Result<_, _>>()?;
    let (t, i) = (median(train), median(inf));
    println!("threads {threads}, batch {batch} x 1 x 150 x 150, {repeats} repeats (median)");
    println!(
        "train step (fwd+bwd+Adam): {:.4} s  -> {:.0} images/s",
        t,
        batch as f64 / t
    );
    println!(
        "inference (no_grad fwd):   {:.4} s  -> {:.0} images/s",
        i,
        batch as f64 / i
    );
    if let Some(m) = peak_rss_mib() {
        println!("peak resident memory: {m:.0} MiB");
    }
    Ok(())
}
