//! Pruning masks hold through weight sampling, training, a dense save / load
//! and the sparse format; the sparse file is smaller and predicts the same.

use fanaroff_bayes::{Elbo, ElboStep, VariationalConfig, bbb_lenet};
use fanaroff_nn::models::LeNetConfig;
use fanaroff_nn::{Module, ModuleExt, SampleMode, Sequential, load_model, save_model};
use fanaroff_prune::{
    Error, Magnitude, PruneConfig, Snr, dense_size, load_sparse, prune, save_sparse,
};
use fanaroff_tensor::Tensor;
use fanaroff_train::{ArrayLoader, TrainConfig, Trainer};
use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::path::PathBuf;

const SIZE: usize = 54; // the smallest input the four conv + pool blocks take

fn lenet(seed: u64) -> Sequential {
    let cfg = LeNetConfig {
        image_size: SIZE,
        ..LeNetConfig::default()
    };
    bbb_lenet(
        &cfg,
        &VariationalConfig::default(),
        &mut StdRng::seed_from_u64(seed),
    )
    .unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fanaroff-prune-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn input(n: usize, seed: u64) -> Tensor {
    Tensor::randn(&[n, 1, SIZE, SIZE], &mut StdRng::seed_from_u64(seed))
}

fn outputs(m: &mut Sequential, x: &Tensor, mode: SampleMode) -> Vec<f32> {
    m.set_sample_mode(mode);
    let y = m
        .forward_rng(x, &mut StdRng::seed_from_u64(0))
        .unwrap()
        .to_vec();
    m.set_sample_mode(SampleMode::Sample);
    y
}

/// The pruned entries of every weight_mu / weight_rho, as (param, values).
fn pruned_values(m: &Sequential) -> Vec<(String, Vec<f32>)> {
    let masks = m.named_masks();
    m.named_parameters()
        .into_iter()
        .filter_map(|(n, t)| {
            let layer = n.rsplit_once('.')?.0.to_string();
            let (_, keep) = masks
                .iter()
                .find(|(mn, _)| *mn == format!("{layer}.weight_mask"))?;
            (keep.shape() == t.shape()).then(|| {
                let v = t
                    .to_vec()
                    .iter()
                    .zip(keep.iter())
                    .filter(|(_, k)| **k == 0.0)
                    .map(|(v, _)| *v)
                    .collect();
                (n, v)
            })
        })
        .collect()
}

#[test]
fn pruned_weights_never_reach_a_sampled_output() {
    let mut m = lenet(0);
    prune(&mut m, &mut Snr::ratio(), &PruneConfig::fraction(0.5)).unwrap();
    let x = input(3, 1);
    let before = outputs(&mut m, &x, SampleMode::Fixed(9));
    // make the pruned weights huge and very uncertain: nothing may change
    let masks = m.named_masks();
    m.visit_params_mut("", &mut |n, t| {
        let layer = n.rsplit_once('.').unwrap().0;
        if let Some((_, keep)) = masks
            .iter()
            .find(|(mn, _)| mn == &format!("{layer}.weight_mask"))
            && keep.shape() == t.shape()
        {
            let d = t.data_mut().unwrap();
            ndarray::Zip::from(d).and(keep).for_each(|v, &k| {
                if k == 0.0 {
                    *v = 50.0
                }
            });
        }
    });
    assert_eq!(outputs(&mut m, &x, SampleMode::Fixed(9)), before);
    assert_eq!(pruned_values(&m).len(), 6, "mu and rho of fc1, fc2, fc3");
}

#[test]
fn masks_hold_through_fine_tuning_and_dense_files() {
    let mut m = lenet(0);
    prune(&mut m, &mut Magnitude, &PruneConfig::fraction(0.4)).unwrap();
    let masks = m.named_masks();
    let mu_before = m
        .named_parameters()
        .into_iter()
        .find(|(n, _)| n == "fc1.weight_mu")
        .unwrap()
        .1
        .to_vec();
    let x = ArrayD::from_shape_fn(IxDyn(&[16, 1, SIZE, SIZE]), |i| {
        if (i[3] < SIZE / 2) == (i[0] % 2 == 0) {
            1.0f32
        } else {
            0.0
        }
    });
    let data = ArrayLoader::new(x, (0..16).map(|i| i % 2).collect(), 2).unwrap();
    let cfg = TrainConfig::default()
        .epochs(2)
        .batch_size(8)
        .adam(1e-2)
        .progress(false)
        .log_epochs(false);
    Trainer::new(cfg)
        .unwrap()
        .step(ElboStep::new(Elbo::default()).unwrap())
        .fit(&mut m, &data)
        .unwrap();
    assert_eq!(m.named_masks(), masks, "fine-tuning keeps the masks");
    let mu_after = m
        .named_parameters()
        .into_iter()
        .find(|(n, _)| n == "fc1.weight_mu")
        .unwrap()
        .1
        .to_vec();
    assert_ne!(mu_before, mu_after, "kept weights were trained");
    for (n, v) in pruned_values(&m)
        .iter()
        .filter(|(n, _)| n.ends_with("weight_mu"))
    {
        assert!(v.iter().all(|&x| x == 0.0), "{n}: a pruned mean moved");
    }
    let dir = tmp("dense");
    save_model(&m, dir.join("m.safetensors")).unwrap();
    let mut back = lenet(7);
    load_model(&mut back, dir.join("m.safetensors"), true).unwrap();
    assert_eq!(back.named_masks(), masks);
    let x = input(2, 3);
    assert_eq!(
        outputs(&mut back, &x, SampleMode::Fixed(1)),
        outputs(&mut m, &x, SampleMode::Fixed(1))
    );
}

#[test]
fn sparse_file_is_smaller_and_predicts_the_same() {
    let dir = tmp("sparse");
    let mut m = lenet(0);
    prune(&mut m, &mut Snr::ratio(), &PruneConfig::fraction(0.5)).unwrap();
    let size = save_sparse(&m, dir.join("m.sparse.safetensors")).unwrap();
    save_model(&m, dir.join("m.safetensors")).unwrap();
    let on_disk = |f: &str| std::fs::metadata(dir.join(f)).unwrap().len() as usize;
    assert_eq!(size.sparse_bytes, on_disk("m.sparse.safetensors"));
    assert_eq!(size.dense_bytes, on_disk("m.safetensors"));
    assert_eq!(dense_size(&m).unwrap(), size.dense_bytes);
    assert!(size.sparse_bytes < size.unmasked_bytes && size.unmasked_bytes < size.dense_bytes);
    // each pruned weight saves mu and rho (8 bytes); each FC weight costs a bit
    let fc: usize = [32 * 120, 120 * 84, 84 * 2].iter().sum();
    let expected = 8 * (fc / 2) - fc.div_ceil(8);
    let saved = size.unmasked_bytes - size.sparse_bytes;
    assert!(
        saved.abs_diff(expected) < 1000,
        "{size:?}: saved {saved}, expected about {expected}"
    );
    let mut back = lenet(3);
    load_sparse(&mut back, dir.join("m.sparse.safetensors")).unwrap();
    assert_eq!(back.named_masks(), m.named_masks());
    let x = input(4, 5);
    for mode in [SampleMode::Mean, SampleMode::Fixed(2)] {
        assert_eq!(
            outputs(&mut back, &x, mode),
            outputs(&mut m, &x, mode),
            "{mode:?}"
        );
    }
    // kept values are stored exactly; pruned ones come back as zero
    let kept = |s: &Sequential| {
        s.named_parameters()
            .into_iter()
            .map(|(n, t)| (n, t.to_vec()))
            .collect::<Vec<_>>()
    };
    let (a, b) = (kept(&m), kept(&back));
    for ((n, va), (_, vb)) in a.iter().zip(&b) {
        if !n.contains("weight_rho") || n.starts_with("conv") {
            assert_eq!(va, vb, "{n}");
        }
    }
}

#[test]
fn an_unpruned_model_round_trips_through_the_sparse_format() {
    let dir = tmp("unpruned");
    let m = lenet(0);
    let size = save_sparse(&m, dir.join("m.safetensors")).unwrap();
    assert!(size.sparse_bytes <= size.unmasked_bytes + 200, "{size:?}");
    assert_eq!(size.dense_bytes, size.unmasked_bytes, "no masks");
    let mut back = lenet(1);
    load_sparse(&mut back, dir.join("m.safetensors")).unwrap();
    let p = |s: &Sequential| {
        s.named_parameters()
            .into_iter()
            .map(|(n, t)| (n, t.to_vec()))
            .collect::<Vec<_>>()
    };
    assert_eq!(p(&back), p(&m));
}

#[test]
fn bad_sparse_files_are_errors() {
    let dir = tmp("bad");
    let mut m = lenet(0);
    prune(&mut m, &mut Snr::ratio(), &PruneConfig::fraction(0.3)).unwrap();
    let mut target = lenet(1);
    let r = load_sparse(&mut target, dir.join("missing.safetensors"));
    assert_eq!(
        r.as_ref().err().and_then(Error::io_kind),
        Some(std::io::ErrorKind::NotFound),
        "{r:?}"
    );
    save_model(&m, dir.join("dense.safetensors")).unwrap();
    let r = load_sparse(&mut target, dir.join("dense.safetensors"));
    assert!(
        matches!(r, Err(Error::Format { .. })),
        "a dense file: {r:?}"
    );
    save_sparse(&m, dir.join("s.safetensors")).unwrap();
    let bytes = std::fs::read(dir.join("s.safetensors")).unwrap();
    std::fs::write(dir.join("cut.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    let r = load_sparse(&mut target, dir.join("cut.safetensors"));
    assert!(
        matches!(r, Err(Error::Format { .. })),
        "a truncated file: {r:?}"
    );
    let other_cfg = LeNetConfig {
        image_size: SIZE,
        hidden: [64, 32],
        ..LeNetConfig::default()
    };
    let mut other = bbb_lenet(
        &other_cfg,
        &VariationalConfig::default(),
        &mut StdRng::seed_from_u64(0),
    )
    .unwrap();
    let r = load_sparse(&mut other, dir.join("s.safetensors"));
    assert!(
        matches!(r, Err(Error::Format { .. })),
        "another architecture: {r:?}"
    );
}
