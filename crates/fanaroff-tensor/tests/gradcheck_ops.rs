//! Finite-difference checks of every differentiable op, on random shapes,
//! including broadcasting and convolution stride/padding corners.

use fanaroff_tensor::gradcheck::{GradCheck, check_gradients};
use fanaroff_tensor::{Result, Tensor};
use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Uniform values in [lo, hi).
fn uniform(shape: &[usize], lo: f32, hi: f32, r: &mut StdRng) -> ArrayD<f32> {
    ArrayD::from_shape_fn(IxDyn(shape), |_| r.random_range(lo..hi))
}

/// Values with |x| in [0.2, 1.5): keeps finite differences off the kinks of
/// relu and abs at 0.
fn away_from_zero(shape: &[usize], r: &mut StdRng) -> ArrayD<f32> {
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        let v = r.random_range(0.2f32..1.5);
        if r.random::<bool>() { v } else { -v }
    })
}

/// Distinct multiples of 0.01 in random order, so maxima have no ties closer
/// than the finite-difference step used with them (1e-3).
fn distinct(shape: &[usize], r: &mut StdRng) -> ArrayD<f32> {
    let n: usize = shape.iter().product();
    let mut v: Vec<f32> = (0..n).map(|i| (i as f32 - (n / 2) as f32) * 0.01).collect();
    v.shuffle(r);
    ArrayD::from_shape_vec(IxDyn(shape), v).unwrap()
}

fn random_shape(r: &mut StdRng) -> Vec<usize> {
    let nd = r.random_range(1..=4);
    (0..nd).map(|_| r.random_range(1..=4)).collect()
}

fn assert_grads<F>(name: &str, f: F, inputs: &[ArrayD<f32>], cfg: GradCheck)
where
    F: Fn(&[Tensor]) -> Result<Tensor>,
{
    let report = check_gradients(f, inputs, &cfg).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        report.passed(),
        "{name}: {} of {} mismatched, first {:?}",
        report.mismatches.len(),
        report.checked,
        report.mismatches.first()
    );
}

fn cfg() -> GradCheck {
    GradCheck::default()
}

fn fine() -> GradCheck {
    GradCheck {
        eps: 1e-3,
        rtol: 2e-2,
        atol: 2e-3,
        ..GradCheck::default()
    }
}

#[test]
fn unary_ops() {
    let mut r = rng(1);
    for trial in 0..3 {
        let s = random_shape(&mut r);
        let any = uniform(&s, -2.0, 2.0, &mut r);
        let pos = uniform(&s, 0.3, 3.0, &mut r);
        let kink = away_from_zero(&s, &mut r);
        let t = format!("trial {trial} shape {s:?}");
        assert_grads(
            &format!("neg {t}"),
            |x| Ok(x[0].neg()),
            std::slice::from_ref(&any),
            cfg(),
        );
        assert_grads(
            &format!("exp {t}"),
            |x| Ok(x[0].exp()),
            std::slice::from_ref(&any),
            cfg(),
        );
        assert_grads(
            &format!("log {t}"),
            |x| Ok(x[0].log()),
            std::slice::from_ref(&pos),
            cfg(),
        );
        assert_grads(
            &format!("sqrt {t}"),
            |x| Ok(x[0].sqrt()),
            std::slice::from_ref(&pos),
            cfg(),
        );
        assert_grads(
            &format!("abs {t}"),
            |x| Ok(x[0].abs()),
            std::slice::from_ref(&kink),
            cfg(),
        );
        assert_grads(
            &format!("square {t}"),
            |x| Ok(x[0].square()),
            std::slice::from_ref(&any),
            cfg(),
        );
        assert_grads(
            &format!("relu {t}"),
            |x| Ok(x[0].relu()),
            std::slice::from_ref(&kink),
            cfg(),
        );
        assert_grads(
            &format!("sigmoid {t}"),
            |x| Ok(x[0].sigmoid()),
            std::slice::from_ref(&any),
            cfg(),
        );
        assert_grads(
            &format!("tanh {t}"),
            |x| Ok(x[0].tanh()),
            std::slice::from_ref(&any),
            cfg(),
        );
        assert_grads(
            &format!("softplus {t}"),
            |x| Ok(x[0].softplus()),
            std::slice::from_ref(&any),
            cfg(),
        );
        assert_grads(
            &format!("log_sigmoid {t}"),
            |x| Ok(x[0].log_sigmoid()),
            std::slice::from_ref(&any),
            cfg(),
        );
        assert_grads(
            &format!("powf 2.5 {t}"),
            |x| Ok(x[0].powf(2.5)),
            std::slice::from_ref(&pos),
            cfg(),
        );
        assert_grads(
            &format!("powf -1.5 {t}"),
            |x| Ok(x[0].powf(-1.5)),
            std::slice::from_ref(&pos),
            cfg(),
        );
        assert_grads(
            &format!("mul_scalar {t}"),
            |x| Ok(x[0].mul_scalar(-3.0)),
            std::slice::from_ref(&any),
            cfg(),
        );
        assert_grads(
            &format!("add_scalar {t}"),
            |x| Ok(x[0].add_scalar(0.7)),
            std::slice::from_ref(&any),
            cfg(),
        );
    }
}

#[test]
fn binary_ops_with_broadcasting() {
    let mut r = rng(2);
    let pairs: &[(&[usize], &[usize])] = &[
        (&[3, 4], &[3, 4]),
        (&[2, 3, 4], &[3, 1]),
        (&[1, 4], &[3, 1]),
        (&[], &[2, 2]),
        (&[2, 1, 3], &[4, 1]),
        (&[5], &[2, 1, 5]),
    ];
    for (sa, sb) in pairs {
        let a = uniform(sa, -2.0, 2.0, &mut r);
        let b = uniform(sb, -2.0, 2.0, &mut r);
        let bpos = uniform(sb, 0.5, 2.0, &mut r);
        let t = format!("{sa:?} x {sb:?}");
        assert_grads(
            &format!("add {t}"),
            |x| x[0].add(&x[1]),
            &[a.clone(), b.clone()],
            cfg(),
        );
        assert_grads(
            &format!("sub {t}"),
            |x| x[0].sub(&x[1]),
            &[a.clone(), b.clone()],
            cfg(),
        );
        assert_grads(
            &format!("mul {t}"),
            |x| x[0].mul(&x[1]),
            &[a.clone(), b.clone()],
            cfg(),
        );
        assert_grads(
            &format!("div {t}"),
            |x| x[0].div(&x[1]),
            &[a.clone(), bpos.clone()],
            cfg(),
        );
        // maximum/minimum: operands from disjoint value sets, so no ties.
        let (lo, hi) = (
            distinct(sa, &mut r),
            distinct(sb, &mut r).mapv(|v| v + 0.005),
        );
        assert_grads(
            &format!("maximum {t}"),
            |x| x[0].maximum(&x[1]),
            &[lo.clone(), hi.clone()],
            fine(),
        );
        assert_grads(
            &format!("minimum {t}"),
            |x| x[0].minimum(&x[1]),
            &[lo, hi],
            fine(),
        );
    }
}

#[test]
fn reductions() {
    let mut r = rng(3);
    for _ in 0..3 {
        let s = random_shape(&mut r);
        let a = uniform(&s, -2.0, 2.0, &mut r);
        let t = format!("{s:?}");
        assert_grads(
            &format!("sum {t}"),
            |x| Ok(x[0].sum()),
            std::slice::from_ref(&a),
            cfg(),
        );
        assert_grads(
            &format!("mean {t}"),
            |x| Ok(x[0].mean()),
            std::slice::from_ref(&a),
            cfg(),
        );
        let ax = r.random_range(0..s.len());
        for keep in [false, true] {
            assert_grads(
                &format!("sum_axes {t} {ax} {keep}"),
                |x| x[0].sum_axes(&[ax], keep),
                std::slice::from_ref(&a),
                cfg(),
            );
            assert_grads(
                &format!("mean_axes {t} {ax} {keep}"),
                |x| x[0].mean_axes(&[ax], keep),
                std::slice::from_ref(&a),
                cfg(),
            );
            let d = distinct(&s, &mut r);
            assert_grads(
                &format!("max_axis {t} {ax} {keep}"),
                |x| x[0].max_axis(ax, keep),
                &[d],
                fine(),
            );
        }
        if s.len() >= 2 {
            assert_grads(
                &format!("sum_axes {t} [0, last]"),
                |x| x[0].sum_axes(&[0, s.len() - 1], false),
                std::slice::from_ref(&a),
                cfg(),
            );
        }
        let d = distinct(&s, &mut r);
        assert_grads(&format!("max {t}"), |x| x[0].max(), &[d], fine());
    }
}

#[test]
fn shape_ops() {
    let mut r = rng(4);
    let a = uniform(&[2, 3, 4], -1.0, 1.0, &mut r);
    assert_grads(
        "reshape",
        |x| x[0].reshape(&[4, 6]),
        std::slice::from_ref(&a),
        cfg(),
    );
    assert_grads(
        "flatten",
        |x| x[0].flatten(1),
        std::slice::from_ref(&a),
        cfg(),
    );
    assert_grads(
        "permute",
        |x| x[0].permute(&[2, 0, 1]),
        std::slice::from_ref(&a),
        cfg(),
    );
    assert_grads(
        "transpose",
        |x| x[0].transpose(0, 2),
        std::slice::from_ref(&a),
        cfg(),
    );
    assert_grads(
        "slice",
        |x| x[0].slice(2, 1, 3),
        std::slice::from_ref(&a),
        cfg(),
    );
    assert_grads(
        "unsqueeze+squeeze",
        |x| x[0].unsqueeze(1)?.mul_scalar(2.0).squeeze(1),
        std::slice::from_ref(&a),
        cfg(),
    );
    let b = uniform(&[2, 1, 4], -1.0, 1.0, &mut r);
    assert_grads(
        "concat",
        |x| Tensor::concat(&[x[0].clone(), x[1].clone(), x[0].clone()], 1),
        &[a.clone(), b.clone()],
        cfg(),
    );
    assert_grads(
        "broadcast_to",
        |x| x[0].broadcast_to(&[3, 2, 5, 4]),
        &[b],
        cfg(),
    );
    let m = uniform(&[3, 5], -1.0, 1.0, &mut r);
    assert_grads("t", |x| x[0].t(), &[m], cfg());
}

#[test]
fn matmul_plain_and_batched() {
    let mut r = rng(5);
    let a = uniform(&[3, 4], -1.0, 1.0, &mut r);
    let b = uniform(&[4, 5], -1.0, 1.0, &mut r);
    assert_grads("matmul 2d", |x| x[0].matmul(&x[1]), &[a, b], cfg());
    let a = uniform(&[2, 3, 4], -1.0, 1.0, &mut r);
    let b = uniform(&[2, 4, 5], -1.0, 1.0, &mut r);
    let c = uniform(&[4, 5], -1.0, 1.0, &mut r);
    assert_grads(
        "matmul batched",
        |x| x[0].matmul(&x[1]),
        &[a.clone(), b],
        cfg(),
    );
    assert_grads("matmul shared", |x| x[0].matmul(&x[1]), &[a, c], cfg());
}

#[test]
fn matmul_t_matches_matmul_of_the_transpose_and_passes_gradcheck() {
    let mut r = rng(15);
    let a = uniform(&[3, 4], -1.0, 1.0, &mut r);
    let b = uniform(&[5, 4], -1.0, 1.0, &mut r);
    let (ta, tb) = (Tensor::new(a.clone()), Tensor::new(b.clone()));
    let fused = ta.matmul_t(&tb).unwrap().to_vec();
    let plain = ta.matmul(&tb.t().unwrap()).unwrap().to_vec();
    assert!(
        ta.matmul_t(&Tensor::zeros(&[3, 5])).is_err(),
        "[3, 4] x [3, 5]^T"
    );
    for (f, p) in fused.iter().zip(&plain) {
        assert!((f - p).abs() < 1e-6, "{f} vs {p}");
    }
    assert_grads("matmul_t", |x| x[0].matmul_t(&x[1]), &[a, b], cfg());
    // large enough for the vector kernels in all three products
    let a = uniform(&[9, 21], -1.0, 1.0, &mut r);
    let b = uniform(&[17, 21], -1.0, 1.0, &mut r);
    let (ta, tb) = (Tensor::new(a.clone()), Tensor::new(b.clone()));
    let fused = ta.matmul_t(&tb).unwrap().to_vec();
    let plain = ta.matmul(&tb.t().unwrap()).unwrap().to_vec();
    for (f, p) in fused.iter().zip(&plain) {
        assert!((f - p).abs() < 1e-5, "{f} vs {p}");
    }
    assert_grads("matmul_t 9x21x17", |x| x[0].matmul_t(&x[1]), &[a, b], cfg());
}

/// (N, C, H, W, O, kh, kw, stride, padding, bias)
type ConvCase = (
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    (usize, usize),
    (usize, usize),
    bool,
);

#[test]
fn conv2d_stride_padding_corners() {
    let mut r = rng(6);
    // (N, C, H, W, O, kh, kw, stride, padding, bias)
    let cases: &[ConvCase] = &[
        (2, 1, 6, 6, 2, 3, 3, (1, 1), (0, 0), true),
        (2, 2, 7, 6, 3, 3, 3, (1, 1), (1, 1), true),
        (1, 3, 8, 8, 2, 5, 5, (1, 1), (1, 1), false),
        (2, 2, 7, 7, 2, 3, 3, (2, 2), (1, 1), true),
        (1, 2, 9, 6, 2, 2, 3, (2, 1), (2, 1), true),
        (3, 4, 5, 5, 3, 1, 1, (1, 1), (0, 0), true), // 1x1 kernel: pointwise path
        (2, 5, 3, 7, 18, 1, 1, (1, 1), (0, 0), false), // pointwise, >= 16 outputs, odd HW
        (1, 2, 5, 5, 2, 1, 1, (2, 2), (1, 1), false), // 1x1 but strided and padded
        (1, 1, 4, 4, 1, 4, 4, (1, 1), (0, 0), true), // kernel = input
        (3, 1, 5, 5, 2, 3, 3, (3, 3), (2, 2), true), // more threads than chunks of work
        (2, 2, 4, 5, 2, 2, 2, (1, 1), (2, 2), true), // stride 1, padding >= kernel: explicit path
        (2, 3, 7, 6, 17, 3, 3, (1, 1), (1, 1), true), // >= 16 channels: transposed weight gradient
        (1, 2, 6, 6, 16, 5, 5, (1, 1), (1, 1), false),
    ];
    for &(n, c, h, w, o, kh, kw, st, pd, bias) in cases {
        let x = uniform(&[n, c, h, w], -1.0, 1.0, &mut r);
        let wt = uniform(&[o, c, kh, kw], -1.0, 1.0, &mut r);
        let b = uniform(&[o], -1.0, 1.0, &mut r);
        let name = format!(
            "conv2d x{:?} w{:?} stride {st:?} pad {pd:?} bias {bias}",
            x.shape(),
            wt.shape()
        );
        if bias {
            assert_grads(
                &name,
                |t| t[0].conv2d(&t[1], Some(&t[2]), st, pd),
                &[x, wt, b],
                cfg(),
            );
        } else {
            assert_grads(&name, |t| t[0].conv2d(&t[1], None, st, pd), &[x, wt], cfg());
        }
    }
}

#[test]
fn pooling() {
    let mut r = rng(7);
    for &(h, w, k, s) in &[
        (4usize, 4usize, (2usize, 2usize), (2usize, 2usize)),
        (5, 7, (2, 2), (2, 2)),
        // 18 windows per row: the 8-wide vector rows and a scalar tail
        (5, 37, (2, 2), (2, 2)),
        (5, 5, (3, 3), (2, 2)),
        (4, 5, (2, 3), (1, 1)),
    ] {
        let x = distinct(&[2, 2, h, w], &mut r);
        assert_grads(
            &format!("max_pool2d {h}x{w} k{k:?} s{s:?}"),
            |t| t[0].max_pool2d(k, s),
            std::slice::from_ref(&x),
            fine(),
        );
        // values half a step away from the ReLU kink at 0
        let shifted = x.mapv(|v| v + 0.005);
        assert_grads(
            &format!("relu_max_pool2d {h}x{w} k{k:?} s{s:?}"),
            |t| t[0].relu_max_pool2d(k, s),
            std::slice::from_ref(&shifted),
            fine(),
        );
        assert_grads(
            &format!("avg_pool2d {h}x{w} k{k:?} s{s:?}"),
            |t| t[0].avg_pool2d(k, s),
            &[x],
            cfg(),
        );
    }
}

/// The fused ReLU + max pooling gives exactly the values and gradients of
/// the two ops, ties, zeros and NaN included.
#[test]
fn fused_relu_max_pool_equals_the_two_ops() {
    let mut r = rng(17);
    let mut v: Vec<f32> = (0..2 * 3 * 9 * 8)
        .map(|_| r.random_range(-1.0f32..1.0))
        .collect();
    v[..8].fill(0.0); // a window of zeros, and ties
    v[9] = f32::NAN;
    v[20] = -0.0;
    let x = Tensor::from_vec(v, &[2, 3, 9, 8])
        .unwrap()
        .requires_grad(true);
    let w = Tensor::randn(&[2, 3, 4, 4], &mut r);
    let fused = x.relu_max_pool2d((2, 2), (2, 2)).unwrap();
    let two = x.relu().max_pool2d((2, 2), (2, 2)).unwrap();
    let bits = |t: &Tensor| t.to_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&fused), bits(&two));
    let g1 = fused.mul(&w).unwrap().sum().backward().unwrap();
    let g2 = two.mul(&w).unwrap().sum().backward().unwrap();
    assert_eq!(g1.get(&x).unwrap(), g2.get(&x).unwrap());
}

/// Freeing a convolution's output once only the pooling's graph node holds
/// it changes no gradient, and frees exactly that output; a shared output
/// or an op that reads its input frees nothing.
#[test]
fn releasing_unread_inputs_keeps_gradients() {
    let mut r = rng(23);
    let x = Tensor::randn(&[2, 3, 10, 10], &mut r).requires_grad(true);
    let w = Tensor::randn(&[4, 3, 3, 3], &mut r).requires_grad(true);
    let b = Tensor::randn(&[4], &mut r).requires_grad(true);
    let head = Tensor::randn(&[2, 4, 4, 4], &mut r);
    let run = |release: bool| {
        let y = x.conv2d(&w, Some(&b), (1, 1), (0, 0)).unwrap();
        let mut z = y.relu_max_pool2d((2, 2), (2, 2)).unwrap();
        assert_eq!(z.release_unread_inputs(), 0, "y is still held here");
        drop(y);
        let freed = if release {
            z.release_unread_inputs()
        } else {
            0
        };
        let g = z.mul(&head).unwrap().sum().backward().unwrap();
        let grads: Vec<Vec<f32>> = [&x, &w, &b]
            .iter()
            .map(|t| g.get(t).unwrap().iter().copied().collect())
            .collect();
        (freed, grads)
    };
    let (freed, released) = run(true);
    let (_, kept) = run(false);
    assert_eq!(freed, 2 * 4 * 8 * 8 * 4, "the conv output, in bytes");
    assert_eq!(released, kept);
    // an op that reads its input (ReLU) frees nothing
    let mut h = x.conv2d(&w, None, (1, 1), (0, 0)).unwrap().relu();
    assert_eq!(h.release_unread_inputs(), 0);
    // nor does pooling a leaf, whose value is the caller's
    let mut p = x.max_pool2d((2, 2), (2, 2)).unwrap();
    assert_eq!(p.release_unread_inputs(), 0);
}

#[test]
fn bilinear_resize_both_conventions() {
    let mut r = rng(8);
    for &(h, w, oh, ow) in &[
        (3usize, 4usize, 7usize, 5usize),
        (6, 6, 3, 4),
        (5, 5, 5, 5),
        (1, 3, 4, 1),
    ] {
        let x = uniform(&[2, 2, h, w], -1.0, 1.0, &mut r);
        for ac in [false, true] {
            assert_grads(
                &format!("resize {h}x{w}->{oh}x{ow} align {ac}"),
                |t| t[0].resize_bilinear(oh, ow, ac),
                std::slice::from_ref(&x),
                cfg(),
            );
        }
    }
}

#[test]
fn softmax_and_log_softmax() {
    let mut r = rng(9);
    let x = uniform(&[3, 4, 5], -3.0, 3.0, &mut r);
    for ax in 0..3 {
        assert_grads(
            &format!("softmax axis {ax}"),
            |t| t[0].softmax(ax),
            std::slice::from_ref(&x),
            cfg(),
        );
        assert_grads(
            &format!("log_softmax axis {ax}"),
            |t| t[0].log_softmax(ax),
            std::slice::from_ref(&x),
            cfg(),
        );
    }
}

#[test]
fn gather_dropout_mask() {
    let mut r = rng(10);
    let x = uniform(&[4, 3], -1.0, 1.0, &mut r);
    let idx = ArrayD::from_shape_vec(IxDyn(&[4, 2]), vec![0, 2, 1, 1, 2, 0, 0, 0]).unwrap();
    assert_grads(
        "gather axis 1 (repeated indices)",
        |t| t[0].gather(1, &idx),
        std::slice::from_ref(&x),
        cfg(),
    );
    let idx0 = ArrayD::from_shape_vec(IxDyn(&[1, 3]), vec![3, 0, 2]).unwrap();
    assert_grads(
        "gather axis 0",
        |t| t[0].gather(0, &idx0),
        std::slice::from_ref(&x),
        cfg(),
    );
    assert_grads(
        "dropout (fixed seed)",
        |t| t[0].dropout(0.3, &mut StdRng::seed_from_u64(42)),
        std::slice::from_ref(&x),
        cfg(),
    );
    let mask = uniform(&[4, 3], 0.0, 2.0, &mut r);
    assert_grads("mul_mask", |t| t[0].mul_mask(mask.clone()), &[x], cfg());
}

#[test]
fn detach_stops_gradient() {
    let x = Tensor::from_vec(vec![1.0, 2.0], &[2])
        .unwrap()
        .requires_grad(true);
    // y = x * detach(x): dy/dx = detach(x) only
    let y = x.mul(&x.detach()).unwrap().sum();
    let g = y.backward().unwrap();
    assert_eq!(g.get(&x).unwrap().as_slice().unwrap(), &[1.0, 2.0]);
}

#[test]
fn reused_values_accumulate() {
    let mut r = rng(11);
    let x = uniform(&[3, 3], -1.0, 1.0, &mut r);
    // x used four times: x*x + exp(x)*x
    assert_grads(
        "reuse",
        |t| t[0].mul(&t[0])?.add(&t[0].exp().mul(&t[0])?),
        &[x],
        cfg(),
    );
    // analytic check: d/dx sum(x*x + x) = 2x + 1
    let x = Tensor::from_vec(vec![0.5, -1.0], &[2])
        .unwrap()
        .requires_grad(true);
    let y = x.mul(&x).unwrap().add(&x).unwrap().sum();
    let g = y.backward().unwrap();
    assert_eq!(g.get(&x).unwrap().as_slice().unwrap(), &[2.0, -1.0]);
}

#[test]
fn lenet_shaped_chain() {
    // conv -> relu -> pool -> flatten -> matmul -> log_softmax -> gather: the
    // composition the models use, end to end.
    let mut r = rng(12);
    let x = uniform(&[2, 1, 10, 10], -1.0, 1.0, &mut r);
    let w = uniform(&[3, 1, 5, 5], -0.5, 0.5, &mut r);
    let b = uniform(&[3], -0.1, 0.1, &mut r);
    let fcw = uniform(&[48, 2], -0.5, 0.5, &mut r);
    let idx = ArrayD::from_shape_vec(IxDyn(&[2, 1]), vec![1, 0]).unwrap();
    let f = |t: &[Tensor]| -> Result<Tensor> {
        let h = t[0]
            .conv2d(&t[1], Some(&t[2]), (1, 1), (1, 1))?
            .tanh()
            .avg_pool2d((2, 2), (2, 2))?;
        let z = h.flatten(1)?.matmul(&t[3])?;
        Ok(z.log_softmax(1)?.gather(1, &idx)?.neg().mean())
    };
    assert_grads("lenet chain", f, &[x, w, b, fcw], cfg());
}

#[test]
fn batch_norm_gradients_with_batch_and_given_statistics() {
    let mut r = rng(41);
    let x = uniform(&[3, 2, 3, 4], -2.0, 2.0, &mut r);
    let w = uniform(&[2], 0.5, 1.5, &mut r);
    let b = uniform(&[2], -1.0, 1.0, &mut r);
    let rep = check_gradients(
        |t| Ok(t[0].batch_norm(&t[1], &t[2], None, 1e-5)?.0),
        &[x.clone(), w.clone(), b.clone()],
        &GradCheck::default(),
    )
    .unwrap();
    assert!(rep.passed(), "batch statistics: {rep:?}");
    let (mean, var) = ([0.3f32, -0.2], [1.5f32, 0.7]);
    let rep = check_gradients(
        |t| Ok(t[0].batch_norm(&t[1], &t[2], Some((&mean, &var)), 1e-5)?.0),
        &[x.clone(), w, b],
        &GradCheck::default(),
    )
    .unwrap();
    assert!(rep.passed(), "given statistics: {rep:?}");
    // the same numbers as the composed formula
    let t = Tensor::new(x);
    let (y, m, v) = t
        .batch_norm(&Tensor::ones(&[2]), &Tensor::zeros(&[2]), None, 0.0)
        .unwrap();
    let mean = t.mean_axes(&[0, 2, 3], true).unwrap();
    let var = t
        .sub(&mean)
        .unwrap()
        .square()
        .mean_axes(&[0, 2, 3], true)
        .unwrap();
    let want = t.sub(&mean).unwrap().div(&var.sqrt()).unwrap();
    for (a, b) in y.to_vec().iter().zip(want.to_vec()) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    assert!((m[1] - mean.to_vec()[1]).abs() < 1e-6 && (v[0] - var.to_vec()[0]).abs() < 1e-5);
    assert!(
        t.batch_norm(&Tensor::ones(&[3]), &Tensor::zeros(&[2]), None, 0.0)
            .is_err()
    );
    assert!(
        Tensor::zeros(&[2, 2])
            .batch_norm(&Tensor::ones(&[2]), &Tensor::zeros(&[2]), None, 0.0)
            .is_err()
    );
}
