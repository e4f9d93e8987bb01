//! Masks are first-class parameter state: a masked weight is exactly zero in
//! every sample and forward pass, stays zero through training, adds no KL,
//! and survives a save / load round trip, for BBB and ordinary layers.

mod common;

use fanaroff::bayes::{
    BayesConv2d, BayesLinear, Elbo, ElboStep, PriorSpec, SigmaTransform, VariationalConfig,
    WeightNoise, forward_kl,
};
use fanaroff::nn::{
    Conv2d, Conv2dConfig, Flatten, Linear, LinearConfig, Module, ModuleExt, SampleMode, Sequential,
    load_model, save_model,
};
use fanaroff::tensor::Tensor;
use fanaroff::train::{TrainConfig, Trainer};
use ndarray::{ArrayD, Dimension, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Keeps weight `(i, j)` unless `(i + 2 j) % 3 == 0`.
fn pattern(shape: &[usize]) -> ArrayD<f32> {
    ArrayD::from_shape_fn(IxDyn(shape), |ix| {
        let flat: usize = ix
            .slice()
            .iter()
            .enumerate()
            .map(|(k, v)| v * (k + 1))
            .sum();
        if flat.is_multiple_of(3) { 0.0 } else { 1.0 }
    })
}

fn set_all_masks(m: &mut dyn Module) -> usize {
    let mut n = 0;
    m.visit_masks_mut("", &mut |_, slot| {
        let p = pattern(slot.shape());
        slot.set(p).unwrap();
        n += 1;
    });
    n
}

fn cfg() -> VariationalConfig {
    VariationalConfig::default()
        .prior_spec(PriorSpec::Gaussian { s: 0.5 })
        .rho_init(-1.5, -1.0)
        .check()
        .unwrap()
}

fn bbb_net(seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    Sequential::new()
        .push(
            "conv1",
            BayesConv2d::new(Conv2dConfig::new(1, 3, 3).padding(1), &cfg(), &mut rng).unwrap(),
        )
        .push("flatten", Flatten)
        .push(
            "fc1",
            BayesLinear::new(LinearConfig::new(3 * 6 * 6, 2), &cfg(), &mut rng).unwrap(),
        )
}

fn plain_net(seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    Sequential::new()
        .push(
            "conv1",
            Conv2d::new(Conv2dConfig::new(1, 3, 3).padding(1), &mut rng).unwrap(),
        )
        .push("flatten", Flatten)
        .push(
            "fc1",
            Linear::new(LinearConfig::new(3 * 6 * 6, 2), &mut rng).unwrap(),
        )
}

#[test]
fn a_masked_variational_weight_is_zero_in_every_draw() {
    let mut fc = BayesLinear::new(
        LinearConfig::new(5, 4),
        &cfg(),
        &mut StdRng::seed_from_u64(0),
    )
    .unwrap();
    let keep = pattern(&[4, 5]);
    fc.mask_mut().set(keep.clone()).unwrap();
    for draw in 0..5u64 {
        let mut rng = StdRng::seed_from_u64(draw);
        let noise = WeightNoise {
            weight_eps: Tensor::randn(&[4, 5], &mut rng).data().clone(),
            bias_eps: Tensor::randn(&[4], &mut rng).data().clone(),
        };
        let (b, _) = fc
            .forward_with_noise(&Tensor::zeros(&[1, 5]), &noise, &mut rng)
            .unwrap();
        for j in 0..5 {
            // x = e_j: output i is w_ij + b_i
            let mut e = vec![0.0; 5];
            e[j] = 1.0;
            let x = Tensor::from_vec(e, &[1, 5]).unwrap();
            let (y, _) = fc.forward_with_noise(&x, &noise, &mut rng).unwrap();
            for i in 0..4 {
                let w = y.data()[[0, i]] - b.data()[[0, i]];
                if keep[[i, j]] == 0.0 {
                    assert_eq!(w, 0.0, "draw {draw}: masked w[{i},{j}] = {w}");
                } else {
                    assert!(w != 0.0);
                }
            }
        }
    }
}

#[test]
fn masked_weights_add_no_kl() {
    // closed-form Gaussian KL per weight: ln(s / sigma) + (sigma^2 + mu^2) / (2 s^2) - 1/2
    let mut fc = BayesLinear::new(
        LinearConfig::new(6, 3),
        &cfg(),
        &mut StdRng::seed_from_u64(1),
    )
    .unwrap();
    let keep = pattern(&[3, 6]);
    fc.mask_mut().set(keep.clone()).unwrap();
    let p = fc.params();
    let s = 0.5f64;
    let kl1 = |mu: f32, rho: f32| {
        let sig = SigmaTransform::Exp.sigma(rho as f64);
        (s / sig).ln() + (sig * sig + (mu as f64).powi(2)) / (2.0 * s * s) - 0.5
    };
    let mut hand = 0.0;
    for ((&mu, &rho), &k) in p
        .weight_mu
        .data()
        .iter()
        .zip(p.weight_rho.data().iter())
        .zip(keep.iter())
    {
        if k == 1.0 {
            hand += kl1(mu, rho);
        }
    }
    for (&mu, &rho) in p.bias_mu.data().iter().zip(p.bias_rho.data().iter()) {
        hand += kl1(mu, rho);
    }
    let got = fc.kl(&mut StdRng::seed_from_u64(0)).unwrap().kl_value();
    assert!((got - hand).abs() < 1e-4 * hand.abs(), "{got} vs {hand}");
}

fn check_zero(m: &Sequential, what: &str) {
    let masks = m.named_masks();
    assert_eq!(masks.len(), 2, "{what}: masks lost");
    for (mask_name, keep) in masks {
        let layer = mask_name.trim_end_matches(".weight_mask");
        let (_, w) = m
            .named_parameters()
            .into_iter()
            .find(|(n, _)| n == &format!("{layer}.weight") || n == &format!("{layer}.weight_mu"))
            .unwrap();
        let mut moved = 0;
        for (&v, &k) in w.data().iter().zip(keep.iter()) {
            if k == 0.0 {
                assert_eq!(v, 0.0, "{what}: masked {layer} weight is {v}");
            } else if v != 0.0 {
                moved += 1;
            }
        }
        assert!(moved > 0, "{what}: kept weights of {layer} all zero");
    }
}

fn train_and_round_trip(mut net: Sequential, fresh: Sequential, bayes: bool, name: &str) {
    assert_eq!(set_all_masks(&mut net), 2);
    let data = common::images(24, 1, 6, 3);
    let tcfg = TrainConfig::default()
        .epochs(3)
        .batch_size(8)
        .adam(5e-2)
        .progress(false)
        .log_epochs(false);
    let trainer = Trainer::new(tcfg).unwrap();
    let mut trainer = if bayes {
        trainer.step(ElboStep::new(Elbo::default()).unwrap())
    } else {
        trainer
    };
    trainer.fit(&mut net, &data).map(|_| ()).unwrap();
    check_zero(&net, &format!("{name} after training"));
    // the masked weights got no gradient either: a forward + backward shows zeros
    let x = Tensor::randn(&[2, 1, 6, 6], &mut StdRng::seed_from_u64(4));
    let (y, kl) = forward_kl(&net, &x, &mut StdRng::seed_from_u64(5)).unwrap();
    let loss = y.sum().add(&kl.weighted(1.0, 1.0).unwrap()).unwrap();
    let grads = loss.backward().unwrap();
    for ((n, g), (_, keep)) in net
        .named_gradients(&grads)
        .into_iter()
        .filter(|(n, _)| {
            n.ends_with("weight") || n.ends_with("weight_mu") || n.ends_with("weight_rho")
        })
        .zip(
            net.named_masks()
                .into_iter()
                .flat_map(|m| if bayes { vec![m.clone(), m] } else { vec![m] }),
        )
    {
        for (&gv, &k) in g.iter().zip(keep.iter()) {
            if k == 0.0 {
                assert_eq!(gv, 0.0, "{name}: gradient of masked {n}");
            }
        }
    }
    // save / load into a fresh model without masks
    let dir = common::tmp(&format!("masks-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.safetensors");
    save_model(&net, &path).unwrap();
    let mut back = fresh;
    assert!(back.named_masks().is_empty());
    load_model(&mut back, &path, true).unwrap();
    check_zero(&back, &format!("{name} after load"));
    back.set_sample_mode(SampleMode::Fixed(1));
    net.set_sample_mode(SampleMode::Fixed(1));
    let mut r = StdRng::seed_from_u64(0);
    assert_eq!(
        net.forward_rng(&x, &mut r).unwrap().to_vec(),
        back.forward_rng(&x, &mut r).unwrap().to_vec()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn masks_hold_through_training_and_save_load_for_bbb() {
    train_and_round_trip(bbb_net(0), bbb_net(99), true, "bbb");
}

#[test]
fn masks_hold_through_training_and_save_load_for_plain_layers() {
    train_and_round_trip(plain_net(0), plain_net(99), false, "plain");
}

#[test]
fn bad_masks_are_errors() {
    let mut net = plain_net(0);
    let mut errs = 0;
    net.visit_masks_mut("", &mut |_, slot| {
        errs += usize::from(slot.set(ArrayD::zeros(IxDyn(&[2]))).is_err());
        errs += usize::from(
            slot.set(ArrayD::from_elem(IxDyn(slot.shape()), 0.5))
                .is_err(),
        );
    });
    assert_eq!(errs, 4);
}
