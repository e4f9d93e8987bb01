//! Layers, losses and optimisers against hand-computed values and finite
//! differences.

use approx::assert_abs_diff_eq;
use fanaroff_nn::*;
use fanaroff_tensor::gradcheck::{GradCheck, check_gradients};
use fanaroff_tensor::{Tensor, no_grad};
use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn rng() -> StdRng {
    StdRng::seed_from_u64(5)
}

fn uniform(shape: &[usize], r: &mut StdRng) -> ArrayD<f32> {
    ArrayD::from_shape_fn(IxDyn(shape), |_| r.random_range(-1.0f32..1.0))
}

#[test]
fn cross_entropy_by_hand() {
    // logits [[1, 2, 3]], target 2: loss = ln(e + e^2 + e^3) - 3
    let z = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[1, 3])
        .unwrap()
        .requires_grad(true);
    let l = cross_entropy(&z, &[2], Reduction::Sum).unwrap();
    let e = [1f32.exp(), 2f32.exp(), 3f32.exp()];
    let s: f32 = e.iter().sum();
    assert_abs_diff_eq!(l.item().unwrap(), s.ln() - 3.0, epsilon = 1e-6);
    // gradient = softmax - onehot
    let g = l.backward().unwrap();
    let g = g.get(&z).unwrap();
    assert_abs_diff_eq!(g[[0, 0]], e[0] / s, epsilon = 1e-6);
    assert_abs_diff_eq!(g[[0, 2]], e[2] / s - 1.0, epsilon = 1e-6);
    // sum = N * mean
    let z2 = Tensor::new(uniform(&[4, 3], &mut rng()));
    let s = cross_entropy(&z2, &[0, 1, 2, 0], Reduction::Sum)
        .unwrap()
        .item()
        .unwrap();
    let m = cross_entropy(&z2, &[0, 1, 2, 0], Reduction::Mean)
        .unwrap()
        .item()
        .unwrap();
    assert_abs_diff_eq!(s, 4.0 * m, epsilon = 1e-5);
}

#[test]
fn losses_reject_bad_input() {
    let z = Tensor::zeros(&[2, 3]);
    assert!(
        cross_entropy(&z, &[0], Reduction::Mean)
            .unwrap_err()
            .to_string()
            .contains("1 labels")
    );
    assert!(
        cross_entropy(&z, &[0, 3], Reduction::Mean)
            .unwrap_err()
            .to_string()
            .contains("label 3")
    );
    assert!(
        cross_entropy(&Tensor::zeros(&[0, 3]), &[], Reduction::Mean)
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
    let nan = Tensor::from_vec(vec![f32::NAN, 0.0], &[1, 2]).unwrap();
    assert!(
        cross_entropy(&nan, &[0], Reduction::Mean)
            .unwrap_err()
            .to_string()
            .contains("NaN")
    );
    assert!(nll_loss(&Tensor::zeros(&[2]), &[0, 1], Reduction::Mean).is_err());
    assert!(mse_loss(&Tensor::zeros(&[2]), &Tensor::zeros(&[3]), Reduction::Mean).is_err());
    let v = Tensor::from_vec(vec![-1.0], &[1]).unwrap();
    assert!(
        gaussian_nll_loss(
            &Tensor::zeros(&[1]),
            &v,
            &Tensor::zeros(&[1]),
            1e-6,
            false,
            Reduction::Mean
        )
        .is_err()
    );
}

#[test]
fn mse_and_gaussian_nll_by_hand() {
    let p = Tensor::from_vec(vec![1.0, 2.0], &[2]).unwrap();
    let t = Tensor::from_vec(vec![0.0, 4.0], &[2]).unwrap();
    assert_abs_diff_eq!(
        mse_loss(&p, &t, Reduction::Mean).unwrap().item().unwrap(),
        2.5
    );
    assert_abs_diff_eq!(
        mse_loss(&p, &t, Reduction::Sum).unwrap().item().unwrap(),
        5.0
    );
    // 0.5 (ln 2 + 1/2) and 0.5 (ln 0.5 + 4/0.5), mean
    let v = Tensor::from_vec(vec![2.0, 0.5], &[2]).unwrap();
    let l = gaussian_nll_loss(&p, &v, &t, 1e-6, false, Reduction::Mean)
        .unwrap()
        .item()
        .unwrap();
    let want = 0.5 * (0.5 * (2f32.ln() + 0.5) + 0.5 * (0.5f32.ln() + 8.0));
    assert_abs_diff_eq!(l, want, epsilon = 1e-6);
    let full = gaussian_nll_loss(&p, &v, &t, 1e-6, true, Reduction::Mean)
        .unwrap()
        .item()
        .unwrap();
    assert_abs_diff_eq!(
        full - l,
        0.5 * (2.0 * std::f32::consts::PI).ln(),
        epsilon = 1e-6
    );
    let mean = uniform(&[3], &mut rng());
    let var = uniform(&[3], &mut rng()).mapv(|v| v.abs() + 0.5);
    let target = uniform(&[3], &mut StdRng::seed_from_u64(9));
    let r = check_gradients(
        |t| {
            gaussian_nll_loss(
                &t[0],
                &t[1],
                &Tensor::new(target.clone()),
                1e-6,
                false,
                Reduction::Sum,
            )
            .map_err(|_| unreachable!())
        },
        &[mean, var],
        &GradCheck::default(),
    )
    .unwrap();
    assert!(r.passed(), "{r:?}");
}

#[test]
fn batchnorm_train_and_eval() {
    let mut r = rng();
    let mut bn = BatchNorm2d::new(3).unwrap();
    let x = Tensor::new(uniform(&[4, 3, 5, 5], &mut r).mapv(|v| 2.0 * v + 1.0));
    let y = bn.forward_rng(&x, &mut r).unwrap();
    // each channel normalised to mean 0, (biased) variance 1
    let m = y.mean_axes(&[0, 2, 3], false).unwrap();
    let v = y.square().mean_axes(&[0, 2, 3], false).unwrap();
    for c in 0..3 {
        assert_abs_diff_eq!(m.data()[[c]], 0.0, epsilon = 1e-5);
        assert_abs_diff_eq!(v.data()[[c]], 1.0, epsilon = 1e-3);
    }
    // running mean moved 10 % of the way to the batch mean
    let bm = x.mean_axes(&[0, 2, 3], false).unwrap();
    let (rm, rv) = bn.running_stats();
    assert_abs_diff_eq!(rm.data()[[1]], 0.1 * bm.data()[[1]], epsilon = 1e-6);
    assert!(rv.data()[[1]] > 0.9); // 0.9 * 1 + 0.1 * unbiased var
    // eval uses running stats: output differs from the train output
    bn.set_training(false);
    let ye = bn.forward_rng(&x, &mut r).unwrap();
    assert!((ye.data()[[0, 0, 0, 0]] - y.data()[[0, 0, 0, 0]]).abs() > 1e-3);
    assert_eq!(bn.named_buffers().len(), 2);
    // gradients in training mode (through the batch statistics)
    let bn2 = BatchNorm2d::new(2).unwrap();
    let xin = uniform(&[3, 2, 3, 3], &mut r);
    let rep = check_gradients(
        |t| {
            bn2.forward_rng(&t[0], &mut StdRng::seed_from_u64(0))
                .map_err(|_| unreachable!())
        },
        &[xin],
        &GradCheck::default(),
    )
    .unwrap();
    assert!(rep.passed(), "{rep:?}");
    assert!(
        bn2.forward_rng(&Tensor::zeros(&[3, 5, 2, 2]), &mut r)
            .is_err()
    );
}

#[test]
fn dropout_modes() {
    let mut r = rng();
    let mut d = Dropout::new(0.5).unwrap();
    let x = Tensor::ones(&[1000]);
    let y = d.forward_rng(&x, &mut r).unwrap();
    let zeros = y.data().iter().filter(|&&v| v == 0.0).count();
    assert!((400..600).contains(&zeros), "{zeros}");
    assert!(y.data().iter().all(|&v| v == 0.0 || v == 2.0));
    d.set_training(false);
    assert_eq!(d.forward_rng(&x, &mut r).unwrap().to_vec(), x.to_vec());
    let mc = Dropout::new(0.5).unwrap().monte_carlo(true);
    let mut mc = mc;
    mc.set_training(false);
    assert!(
        mc.forward_rng(&x, &mut r)
            .unwrap()
            .data()
            .iter()
            .any(|&v| v == 0.0)
    );
    assert!(Dropout::new(1.0).is_err());
}

#[test]
fn linear_and_conv_layers_gradcheck() {
    let mut r = rng();
    let fc = Linear::new(LinearConfig::new(5, 3), &mut r).unwrap();
    let x = uniform(&[4, 5], &mut r);
    let (w, b) = (
        fc.weight.data().clone(),
        fc.bias.as_ref().unwrap().data().clone(),
    );
    let rep = check_gradients(
        |t| linear(&t[0], &t[1], Some(&t[2])).map_err(|_| unreachable!()),
        &[x, w, b],
        &GradCheck::default(),
    )
    .unwrap();
    assert!(rep.passed(), "{rep:?}");
    let conv = Conv2d::new(Conv2dConfig::new(2, 3, 3).stride(2).padding(1), &mut r).unwrap();
    let y = conv
        .forward_rng(&Tensor::zeros(&[1, 2, 7, 7]), &mut r)
        .unwrap();
    assert_eq!(y.shape(), &[1, 3, 4, 4]);
    assert!(Conv2d::new(Conv2dConfig::new(0, 3, 3).padding(1), &mut r).is_err());
    assert!(Linear::new(LinearConfig::new(3, 0), &mut r).is_err());
}

/// A model with one parameter vector, for optimiser arithmetic.
struct One(Tensor);

impl Module for One {
    fn forward(&self, x: &Tensor, _: &mut fanaroff_nn::Pass<'_>) -> Result<Tensor> {
        Ok(x.mul(&self.0)?)
    }
    fn visit_params(&self, p: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        f(&join(p, "w"), &self.0)
    }
    fn visit_params_mut(&mut self, p: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        f(&join(p, "w"), &mut self.0)
    }
}

/// Gradient of sum(w * g) is g: lets a test feed chosen gradients.
fn grads_for(m: &One, g: &[f32]) -> fanaroff_tensor::Gradients {
    let gt = Tensor::from_vec(g.to_vec(), &[g.len()]).unwrap();
    m.0.mul(&gt).unwrap().sum().backward().unwrap()
}

#[test]
fn adam_by_hand() {
    let mut m = One(Tensor::from_vec(vec![1.0, -1.0], &[2])
        .unwrap()
        .requires_grad(true));
    let mut opt = AdamConfig::with_lr(0.1).build().unwrap();
    // step 1: m = 0.1 g, v = 0.001 g^2, bias-corrected m^ = g, v^ = g^2 -> update lr * sign(g)
    {
        let g = grads_for(&m, &[0.5, -2.0]);
        opt.step(&mut m, &g)
    }
    .unwrap();
    assert_abs_diff_eq!(m.0.data()[[0]], 0.9, epsilon = 1e-6);
    assert_abs_diff_eq!(m.0.data()[[1]], -0.9, epsilon = 1e-6);
    assert_abs_diff_eq!(
        opt.second_moment("w").unwrap()[[1]],
        0.001 * 4.0,
        epsilon = 1e-7
    );
    // step 2 with g = [0.5, 0]: m = 0.09*0.5+0.05 = 0.095 (corr /0.19 = 0.5),
    // v = 0.999*0.00025+0.00025 = 0.00049975 (corr /0.001999 = 0.25) -> update 0.1 * 0.5/0.5
    {
        let g = grads_for(&m, &[0.5, 0.0]);
        opt.step(&mut m, &g)
    }
    .unwrap();
    assert_abs_diff_eq!(m.0.data()[[0]], 0.8, epsilon = 1e-5);
    assert_eq!(opt.step_count("w"), 2);
    // state round trip
    let mut opt2 = AdamConfig::with_lr(0.1).build().unwrap();
    opt2.load_state(opt.state()).unwrap();
    assert_eq!(opt2.second_moment("w"), opt.second_moment("w"));
    assert_eq!(opt2.step_count("w"), 2);
    assert!(
        AdamConfig {
            beta1: 1.0,
            ..AdamConfig::default()
        }
        .build()
        .is_err()
    );
}

#[test]
fn adamw_decays_weights_directly() {
    let mut m = One(Tensor::from_vec(vec![2.0], &[1])
        .unwrap()
        .requires_grad(true));
    let mut opt = AdamConfig {
        lr: 0.1,
        weight_decay: 0.5,
        decoupled: true,
        ..AdamConfig::default()
    }
    .build()
    .unwrap();
    // g = 0: Adam's update is 0 (m = 0), so only decay acts: 2 * (1 - 0.1 * 0.5) = 1.9
    {
        let g = grads_for(&m, &[0.0]);
        opt.step(&mut m, &g)
    }
    .unwrap();
    assert_abs_diff_eq!(m.0.data()[[0]], 1.9, epsilon = 1e-6);
}

#[test]
fn sgd_momentum_by_hand() {
    let mut m = One(Tensor::from_vec(vec![1.0], &[1])
        .unwrap()
        .requires_grad(true));
    let mut opt = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        weight_decay: 0.0,
        nesterov: false,
    }
    .build()
    .unwrap();
    {
        let g = grads_for(&m, &[1.0]);
        opt.step(&mut m, &g)
    }
    .unwrap(); // v = 1, w = 0.9
    {
        let g = grads_for(&m, &[1.0]);
        opt.step(&mut m, &g)
    }
    .unwrap(); // v = 1.9, w = 0.71
    assert_abs_diff_eq!(m.0.data()[[0]], 0.71, epsilon = 1e-6);
    let mut wd = One(Tensor::from_vec(vec![1.0], &[1])
        .unwrap()
        .requires_grad(true));
    let mut opt = SgdConfig {
        lr: 0.1,
        weight_decay: 0.5,
        ..SgdConfig::default()
    }
    .build()
    .unwrap();
    {
        let g = grads_for(&wd, &[0.0]);
        opt.step(&mut wd, &g)
    }
    .unwrap(); // w -= 0.1 * 0.5 * 1
    assert_abs_diff_eq!(wd.0.data()[[0]], 0.95, epsilon = 1e-6);
    // a NaN gradient is refused, the weights stay
    assert!(
        {
            let g = grads_for(&wd, &[f32::NAN]);
            opt.step(&mut wd, &g)
        }
        .is_err()
    );
    assert_abs_diff_eq!(wd.0.data()[[0]], 0.95, epsilon = 1e-6);
}

#[test]
fn frozen_parameters_are_not_updated() {
    let mut r = rng();
    let mut net =
        Sequential::new().push("fc", Linear::new(LinearConfig::new(3, 2), &mut r).unwrap());
    net.set_requires_grad(false);
    let before = net.named_parameters()[0].1.to_vec();
    let x = Tensor::ones(&[1, 3]).requires_grad(true);
    let g = net
        .forward_rng(&x, &mut r)
        .unwrap()
        .sum()
        .backward()
        .unwrap();
    AdamConfig::default()
        .build()
        .unwrap()
        .step(&mut net, &g)
        .unwrap();
    assert_eq!(net.named_parameters()[0].1.to_vec(), before);
    assert!(g.get(&x).is_some());
    let y = no_grad(|| net.forward_rng(&x, &mut r)).unwrap();
    assert!(y.is_leaf());
}
