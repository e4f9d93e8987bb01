//! Small data sets and helpers shared by the workspace tests.
#![allow(dead_code)]

use fanaroff::nn::{Module, ModuleExt};
use fanaroff::train::ArrayLoader;
use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;

/// Two noisy classes of `[n, dim]` vectors (class 1 shifted along a ramp).
pub fn blobs(n: usize, dim: usize, seed: u64, noise: f32) -> ArrayLoader<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let y: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let x = ArrayD::from_shape_fn(IxDyn(&[n, dim]), |i| {
        let c = if y[i[0]] == 1 { 0.8 } else { -0.8 };
        c * (i[1] as f32 - 1.5) / 1.5 + rng.random_range(-noise..noise)
    });
    ArrayLoader::new(x, y, 2).expect("valid blobs")
}

/// Two classes of tiny `[n, c, s, s]` images: a bright left or right half.
pub fn images(n: usize, c: usize, s: usize, seed: u64) -> ArrayLoader<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let y: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let x = ArrayD::from_shape_fn(IxDyn(&[n, c, s, s]), |i| {
        let left = i[3] < s / 2;
        let on = if y[i[0]] == 1 { left } else { !left };
        f32::from(u8::from(on)) + rng.random_range(-0.3..0.3)
    });
    ArrayLoader::new(x, y, 2).expect("valid images")
}

/// A fresh temporary folder for this test process.
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fanaroff-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Parameters and buffers by name, as plain vectors (for exact comparison).
pub fn state<M: Module>(m: &M) -> Vec<(String, Vec<f32>)> {
    m.named_parameters()
        .into_iter()
        .chain(m.named_buffers())
        .map(|(n, t)| (n, t.to_vec()))
        .collect()
}

/// Trains `net` with the ELBO step (temperature 0.1), Adam at `lr`, batch
/// 16, no schedule and no output: the small runs of the composition tests.
pub fn fit_elbo<M: Module>(
    net: &mut M,
    data: &ArrayLoader<f32>,
    epochs: usize,
    lr: f32,
) -> fanaroff::train::History {
    let tcfg = fanaroff::train::TrainConfig::default()
        .epochs(epochs)
        .batch_size(16)
        .adam(lr)
        .schedule(None)
        .progress(false)
        .log_epochs(false);
    let elbo = fanaroff::bayes::Elbo::default().temperature(0.1);
    let step = fanaroff::bayes::ElboStep::new(elbo).expect("valid ELBO");
    fanaroff::train::Trainer::new(tcfg)
        .expect("valid config")
        .step(step)
        .fit(net, data)
        .expect("training runs")
}
