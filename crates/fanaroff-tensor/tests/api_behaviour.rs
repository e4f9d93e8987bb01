//! Behaviour at the public API: errors instead of panics, no graph under
//! no_grad, forward values against direct formulas.

use approx::assert_abs_diff_eq;
use fanaroff_tensor::{Error, Tensor, no_grad};
use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[test]
fn shape_errors_name_both_shapes() {
    let a = Tensor::zeros(&[2, 3]);
    let b = Tensor::zeros(&[4]);
    let msg = a.add(&b).unwrap_err().to_string();
    assert!(msg.contains("[2, 3]") && msg.contains("[4]"), "{msg}");
    let msg = a.matmul(&Tensor::zeros(&[2, 2])).unwrap_err().to_string();
    assert!(msg.contains("[2, 3]") && msg.contains("[2, 2]"), "{msg}");
    let err = Tensor::zeros(&[1, 2, 5, 5])
        .conv2d(&Tensor::zeros(&[3, 1, 3, 3]), None, (1, 1), (0, 0))
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
    assert!(
        Tensor::zeros(&[2, 5, 5])
            .conv2d(&Tensor::zeros(&[3, 1, 3, 3]), None, (1, 1), (0, 0))
            .is_err()
    );
    assert!(
        Tensor::zeros(&[1, 1, 2, 2])
            .conv2d(&Tensor::zeros(&[1, 1, 5, 5]), None, (1, 1), (0, 0))
            .is_err()
    );
    assert!(
        Tensor::zeros(&[1, 1, 4, 4])
            .conv2d(&Tensor::zeros(&[1, 1, 3, 3]), None, (0, 1), (0, 0))
            .is_err()
    );
    assert!(
        Tensor::zeros(&[1, 1, 4, 4])
            .max_pool2d((5, 5), (1, 1))
            .is_err()
    );
    assert!(Tensor::zeros(&[2, 3]).reshape(&[5]).is_err());
    assert!(Tensor::zeros(&[2, 3]).permute(&[0, 0]).is_err());
    assert!(Tensor::zeros(&[2, 3]).slice(1, 2, 5).is_err());
    assert!(Tensor::zeros(&[2, 3]).softmax(2).is_err());
    assert!(Tensor::zeros(&[2, 3]).sum_axes(&[3], false).is_err());
    assert!(Tensor::concat(&[], 0).is_err());
    assert!(Tensor::from_vec(vec![1.0; 5], &[2, 3]).is_err());
    let idx = ArrayD::from_shape_vec(IxDyn(&[2, 1]), vec![0usize, 3]).unwrap();
    assert!(Tensor::zeros(&[2, 3]).gather(1, &idx).is_err());
    assert!(
        Tensor::zeros(&[2])
            .dropout(1.0, &mut StdRng::seed_from_u64(0))
            .is_err()
    );
}

#[test]
fn backward_needs_a_scalar() {
    let x = Tensor::ones(&[3]).requires_grad(true);
    assert!(matches!(x.exp().backward(), Err(Error::NotScalar { .. })));
    assert!(x.exp().sum().backward().is_ok());
}

#[test]
fn no_grad_records_nothing() {
    let w = Tensor::ones(&[4, 4]).requires_grad(true);
    let y = no_grad(|| w.matmul(&w).unwrap().relu().sum());
    assert!(y.is_leaf() && !y.is_requires_grad());
    // and the recording switch comes back
    let z = w.matmul(&w).unwrap().sum();
    assert!(!z.is_leaf());
    let g = z.backward().unwrap();
    assert_eq!(g.len(), 1);
}

#[test]
fn gradients_skip_constants() {
    let w = Tensor::ones(&[2]).requires_grad(true);
    let c = Tensor::ones(&[2]);
    let g = w.mul(&c).unwrap().sum().backward().unwrap();
    assert!(g.get(&w).is_some());
    assert!(g.get(&c).is_none());
}

#[test]
fn data_mut_keeps_identity_and_copies_when_shared() {
    let mut w = Tensor::ones(&[2]).requires_grad(true);
    let id = w.id();
    let y = w.mul_scalar(3.0); // graph holds the old values
    w.data_mut().unwrap().fill(5.0);
    assert_eq!(w.id(), id);
    assert_eq!(w.to_vec(), vec![5.0, 5.0]);
    assert_eq!(y.to_vec(), vec![3.0, 3.0]);
    assert!(y.clone().data_mut().is_err());
}

/// Direct (six-loop) cross-correlation as the reference.
fn conv_reference(x: &ArrayD<f32>, w: &ArrayD<f32>, b: &[f32], s: usize, p: usize) -> ArrayD<f32> {
    let (n, c, h, wd) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
    let (o, k) = (w.shape()[0], w.shape()[2]);
    let ho = (h + 2 * p - k) / s + 1;
    let wo = (wd + 2 * p - k) / s + 1;
    ArrayD::from_shape_fn(IxDyn(&[n, o, ho, wo]), |ix| {
        let (ni, oi, y, xx) = (ix[0], ix[1], ix[2], ix[3]);
        let mut acc = b[oi] as f64;
        for ci in 0..c {
            for ky in 0..k {
                for kx in 0..k {
                    let iy = (y * s + ky) as isize - p as isize;
                    let ixx = (xx * s + kx) as isize - p as isize;
                    if iy >= 0 && ixx >= 0 && (iy as usize) < h && (ixx as usize) < wd {
                        acc +=
                            (x[[ni, ci, iy as usize, ixx as usize]] * w[[oi, ci, ky, kx]]) as f64;
                    }
                }
            }
        }
        acc as f32
    })
}

#[test]
fn conv2d_matches_direct_loops_at_lenet_shapes() {
    let mut r = StdRng::seed_from_u64(3);
    // first layers of the paper's LeNet at batch 3, plus a strided variant
    for &(c, h, o, s, p) in &[
        (1usize, 40usize, 6usize, 1usize, 1usize),
        (6, 20, 16, 1, 1),
        (16, 12, 26, 2, 2),
    ] {
        let x = ArrayD::from_shape_fn(IxDyn(&[3, c, h, h]), |_| r.random_range(-1.0f32..1.0));
        let w = ArrayD::from_shape_fn(IxDyn(&[o, c, 5, 5]), |_| r.random_range(-0.2f32..0.2));
        let b: Vec<f32> = (0..o).map(|_| r.random_range(-0.1f32..0.1)).collect();
        let y = Tensor::new(x.clone())
            .conv2d(
                &Tensor::new(w.clone()),
                Some(&Tensor::from_vec(b.clone(), &[o]).unwrap()),
                (s, s),
                (p, p),
            )
            .unwrap();
        let want = conv_reference(&x, &w, &b, s, p);
        assert_eq!(y.shape(), want.shape());
        for (a, e) in y.data().iter().zip(want.iter()) {
            assert_abs_diff_eq!(*a, *e, epsilon = 1e-4);
        }
    }
}

#[test]
fn reductions_and_softmax_values() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    assert_eq!(x.sum().item().unwrap(), 21.0);
    assert_eq!(x.mean().item().unwrap(), 3.5);
    assert_eq!(
        x.sum_axes(&[0], false).unwrap().to_vec(),
        vec![5.0, 7.0, 9.0]
    );
    assert_eq!(x.mean_axes(&[1], true).unwrap().shape(), &[2, 1]);
    assert_eq!(x.max_axis(1, false).unwrap().to_vec(), vec![3.0, 6.0]);
    assert_eq!(x.max().unwrap().item().unwrap(), 6.0);
    let p = x.softmax(1).unwrap();
    let e: Vec<f32> = [1.0f32, 2.0, 3.0].iter().map(|v| v.exp()).collect();
    let z: f32 = e.iter().sum();
    assert_abs_diff_eq!(p.data()[[0, 2]], e[2] / z, epsilon = 1e-6);
    let lp = Tensor::from_vec(vec![1000.0, 0.0], &[1, 2])
        .unwrap()
        .log_softmax(1)
        .unwrap();
    assert_abs_diff_eq!(lp.data()[[0, 0]], 0.0, epsilon = 1e-6);
    assert_abs_diff_eq!(lp.data()[[0, 1]], -1000.0, epsilon = 1e-3);
}

#[test]
fn deterministic_for_fixed_seed() {
    let draw = |seed| Tensor::randn(&[5], &mut StdRng::seed_from_u64(seed)).to_vec();
    assert_eq!(draw(7), draw(7));
    assert_ne!(draw(7), draw(8));
    let d = |seed| {
        Tensor::ones(&[100])
            .dropout(0.5, &mut StdRng::seed_from_u64(seed))
            .unwrap()
            .to_vec()
    };
    assert_eq!(d(1), d(1));
    let kept = d(1).iter().filter(|&&v| v > 0.0).count();
    assert!((30..70).contains(&kept), "{kept}");
}

/// Large pooling gradients come from recycled (dirty) buffers: every input
/// position that is not a window's maximum, including the last row and
/// column that no 2x2 window covers, must still get exactly 0.
#[test]
fn pooling_gradients_are_clean_in_recycled_buffers() {
    let mut r = StdRng::seed_from_u64(9);
    let (planes, side) = (2usize, 257usize); // odd: one uncovered row and column
    let len = planes * side * side;
    for relu in [false, true] {
        // leave a buffer of the gradient's length full of garbage in the pool
        drop(Tensor::full(&[planes, side * side], 7.0).mul_scalar(3.0));
        let vals: Vec<f32> = (0..len).map(|_| r.random_range(-1.0f32..1.0)).collect();
        let x = Tensor::from_vec(vals, &[1, planes, side, side])
            .unwrap()
            .requires_grad(true);
        let y = if relu {
            x.relu_max_pool2d((2, 2), (2, 2)).unwrap()
        } else {
            x.max_pool2d((2, 2), (2, 2)).unwrap()
        };
        let g = y.sum().backward().unwrap();
        let dx = g.get(&x).unwrap();
        let ones = dx.iter().filter(|&&v| v == 1.0).count();
        let zeros = dx.iter().filter(|&&v| v == 0.0).count();
        let positive = y.data().iter().filter(|&&v| v > 0.0).count();
        let windows = planes * (side / 2) * (side / 2);
        assert_eq!(ones, if relu { positive } else { windows }, "relu {relu}");
        assert_eq!(ones + zeros, len, "every other entry is 0 (relu {relu})");
        for p in 0..planes {
            for i in 0..side {
                assert_eq!(dx[[0, p, side - 1, i]], 0.0);
                assert_eq!(dx[[0, p, i, side - 1]], 0.0);
            }
        }
    }
}
