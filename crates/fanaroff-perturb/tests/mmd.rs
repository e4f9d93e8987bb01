//! MMD² against a hand computation and finite differences.

use fanaroff_perturb::{Bandwidth, DEFAULT_SIGMAS, Mmd};
use fanaroff_tensor::Tensor;
use fanaroff_tensor::gradcheck::{GradCheck, check_gradients};
use ndarray::{ArrayD, IxDyn};

#[test]
fn one_point_each_by_hand() {
    // x = {0}, y = {1}, one bandwidth s = 1:
    // k(x,x) = k(y,y) = 1, k(x,y) = exp(-1/2): MMD^2 = 2 - 2 exp(-1/2)
    let x = Tensor::from_vec(vec![0.0], &[1, 1]).unwrap();
    let y = Tensor::from_vec(vec![1.0], &[1, 1]).unwrap();
    let m = Mmd::new(vec![1.0])
        .unwrap()
        .mmd2(&x, &y)
        .unwrap()
        .item()
        .unwrap();
    assert!(
        (f64::from(m) - (2.0 - 2.0 * (-0.5f64).exp())).abs() < 1e-6,
        "{m}"
    );
    // two bandwidths add: s = 1 and s = 2 (k(x,y) = exp(-1/8))
    let m2 = Mmd::new(vec![1.0, 2.0])
        .unwrap()
        .mmd2(&x, &y)
        .unwrap()
        .item()
        .unwrap();
    let want = 4.0 - 2.0 * ((-0.5f64).exp() + (-0.125f64).exp());
    assert!((f64::from(m2) - want).abs() < 1e-6, "{m2}");
}

#[test]
fn two_by_two_by_hand_with_the_default_bandwidths() {
    // x = {(0,0), (1,0)}, y = {(0,1), (0,2)}: squared distances
    // xx: 0 1 / 1 0; yy: 0 1 / 1 0; xy: 1 4 / 2 5
    let x = Tensor::from_vec(vec![0.0, 0.0, 1.0, 0.0], &[2, 2]).unwrap();
    let y = Tensor::from_vec(vec![0.0, 1.0, 0.0, 2.0], &[2, 2]).unwrap();
    let k = |d2: f64| {
        DEFAULT_SIGMAS
            .iter()
            .map(|s| (-d2 / (2.0 * s * s)).exp())
            .sum::<f64>()
    };
    let kxx = (2.0 * k(0.0) + 2.0 * k(1.0)) / 4.0;
    let kxy = (k(1.0) + k(4.0) + k(2.0) + k(5.0)) / 4.0;
    let want = 2.0 * kxx - 2.0 * kxy;
    let got = f64::from(Mmd::default().mmd2(&x, &y).unwrap().item().unwrap());
    assert!(
        (got - want).abs() < 1e-4 * want.abs().max(1.0),
        "{got} vs {want}"
    );
    assert!(got > 0.0);
}

#[test]
fn gradients_match_finite_differences() {
    let x = ArrayD::from_shape_vec(IxDyn(&[3, 2]), vec![0.1, -0.4, 0.7, 0.2, -0.3, 0.5]).unwrap();
    let y = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![0.9, 0.1, -0.2, 1.1]).unwrap();
    assert_gradients(&Mmd::new(vec![0.5, 1.0, 2.0]).unwrap(), x, y);
}

/// MMD² of `mmd` passes a finite-difference check at `x`, `y`.
fn assert_gradients(mmd: &Mmd, x: ArrayD<f32>, y: ArrayD<f32>) {
    let f = |t: &[Tensor]| {
        mmd.mmd2(&t[0], &t[1])
            .map_err(|e| fanaroff_tensor::Error::InvalidArgument {
                op: "mmd2",
                msg: e.to_string(),
            })
    };
    let report = check_gradients(f, &[x, y], &GradCheck::default()).unwrap();
    assert!(report.passed(), "{report:?}");
}

#[test]
fn bad_shapes_and_bandwidths_are_errors() {
    let x = Tensor::from_vec(vec![0.0; 4], &[2, 2]).unwrap();
    let y = Tensor::from_vec(vec![0.0; 3], &[1, 3]).unwrap();
    assert!(Mmd::default().mmd2(&x, &y).is_err());
    assert!(Mmd::new(vec![]).is_err());
    assert!(Mmd::new(vec![1.0, 0.0]).is_err());
}

#[test]
fn bandwidth_as_variance_by_hand() {
    // x = {0}, y = {1}, s = 4: as a variance k(x,y) = exp(-1/8), as a
    // standard deviation exp(-1/32)
    let x = Tensor::from_vec(vec![0.0], &[1, 1]).unwrap();
    let y = Tensor::from_vec(vec![1.0], &[1, 1]).unwrap();
    let value = |m: Mmd| f64::from(m.mmd2(&x, &y).unwrap().item().unwrap());
    let var = Mmd::new(vec![4.0])
        .unwrap()
        .with_bandwidth(Bandwidth::Variance);
    assert!((value(var) - (2.0 - 2.0 * (-0.125f64).exp())).abs() < 1e-6);
    let std = Mmd::new(vec![4.0]).unwrap();
    assert!((value(std) - (2.0 - 2.0 * (-1.0f64 / 32.0).exp())).abs() < 1e-6);
}

#[test]
fn the_paper_kernel_is_floored_without_gradient_below_the_floor() {
    let paper = Mmd::paper();
    assert_eq!(paper.bandwidth(), Bandwidth::Variance);
    assert_eq!(paper.sigmas(), &DEFAULT_SIGMAS[..]);
    // nearly identical sets: MMD^2 below 1e-4 is floored there, and has
    // no gradient; without the floor the gradient is not zero
    let x = Tensor::from_vec(vec![0.2, -0.1, 0.4, 0.3], &[2, 2])
        .unwrap()
        .requires_grad(true);
    let y = x.detach().add_scalar(0.003);
    let floored = Mmd::new(vec![1.0])
        .unwrap()
        .with_bandwidth(Bandwidth::Variance)
        .with_floor(1e-4)
        .unwrap();
    let m = floored.mmd2(&x, &y).unwrap();
    assert!((f64::from(m.item().unwrap()) - 1e-4).abs() < 1e-9, "{m:?}");
    let grads = m.backward().unwrap();
    assert!(grads.get(&x).unwrap().iter().all(|v| *v == 0.0));
    let free = Mmd::new(vec![1.0])
        .unwrap()
        .with_bandwidth(Bandwidth::Variance);
    let raw = free.mmd2(&x, &y).unwrap();
    assert!(f64::from(raw.item().unwrap()) < 1e-4);
    let grads = raw.backward().unwrap();
    assert!(grads.get(&x).unwrap().iter().any(|v| *v != 0.0));
    // the paper's own floor holds for identical sets
    let same = paper.mmd2(&x, &x.detach()).unwrap();
    assert!((f64::from(same.item().unwrap()) - 1e-4).abs() < 1e-9);
    assert!(Mmd::default().with_floor(-1.0).is_err());
    assert!(Mmd::default().with_floor(f64::NAN).is_err());
}

#[test]
fn variance_kernel_gradients_match_finite_differences() {
    let x = ArrayD::from_shape_vec(IxDyn(&[3, 2]), vec![0.1, -0.4, 0.7, 0.2, -0.3, 0.5]).unwrap();
    let y = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![0.9, 0.1, -0.2, 1.1]).unwrap();
    let mmd = Mmd::new(vec![0.5, 1.0, 2.0])
        .unwrap()
        .with_bandwidth(Bandwidth::Variance)
        .with_floor(1e-4)
        .unwrap();
    assert_gradients(&mmd, x, y);
}
