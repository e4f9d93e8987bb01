//! Properties every implementation must have, on synthetic data.

use approx::assert_abs_diff_eq;
use fanaroff_calibrate::*;
use ndarray::{Array2, Array3, Axis};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// A two-class predictor that is calibrated by construction: draw the
/// confidence c ~ U(0.5, 1) and a predicted class, then make the prediction
/// correct with probability exactly c. If `power` != 1 the prediction is
/// correct with probability c^power instead (miscalibrated).
fn synthetic(n: usize, power: f64, seed: u64) -> (Array2<f64>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut p = Array2::zeros((n, 2));
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let c: f64 = rng.random_range(0.5..1.0);
        let k = rng.random_range(0..2usize);
        p[[i, k]] = c;
        p[[i, 1 - k]] = 1.0 - c;
        let correct = rng.random::<f64>() < c.powf(power);
        y.push(if correct { k } else { 1 - k });
    }
    (p, y)
}

#[test]
fn calibrated_predictor_has_ece_near_zero() {
    // N = 100_000, 10 equal-width bins; only the 5 bins on [0.5, 1] are used,
    // each with about 20_000 inputs. In a bin, acc_b - conf_b is a mean of
    // independent zero-mean terms (1[correct] - c) with variance c(1 - c) <= 1/4,
    // so its standard deviation is at most 0.5 / sqrt(20_000) = 0.0035 and the
    // expected |gap| is at most 0.8 * 0.0035 = 0.003. ECE is a weighted mean of
    // the |gaps|: about 0.003; 0.01 is about three standard deviations above.
    let (p, y) = synthetic(100_000, 1.0, 1);
    for strategy in [BinStrategy::EqualWidth, BinStrategy::EqualMass] {
        let b = Binning::new(10).unwrap().with_strategy(strategy);
        let e = ece(p.view(), &y, b).unwrap();
        assert!(e < 0.01, "{strategy:?}: ECE = {e}");
    }
    // The same construction with correctness probability c^3 is
    // overconfident by E[c - c^3] = 0.75 - 0.234 = 0.33 on average: ECE must see it.
    let (p, y) = synthetic(100_000, 3.0, 2);
    let e = ece(p.view(), &y, Binning::default()).unwrap();
    assert!(e > 0.25, "miscalibrated predictor: ECE = {e}");
}

#[test]
fn calibrated_uncertainty_has_uce_near_zero() {
    // Build inputs whose error probability equals their normalised entropy:
    // draw u ~ U(0, 1), find the confidence c in [0.5, 1] with h2(c) = u by
    // bisection, and make the prediction wrong with probability u. (Since
    // u >= 1 - c for K = 2 this is a valid construction, though not a
    // calibrated confidence.) Same variance argument as for ECE with
    // 10 bins of 10_000: UCE about 0.004; allow 0.015.
    let mut rng = StdRng::seed_from_u64(3);
    let n = 100_000;
    let h2 = |c: f64| -(c * c.ln() + (1.0 - c) * (1.0 - c).ln()) / 2f64.ln();
    let mut p = Array2::zeros((n, 2));
    let mut y = Vec::new();
    for i in 0..n {
        let u: f64 = rng.random_range(0.0..1.0);
        let (mut lo, mut hi) = (0.5f64, 1.0f64);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if h2(mid) > u { lo = mid } else { hi = mid }
        }
        let c = 0.5 * (lo + hi);
        p[[i, 0]] = c;
        p[[i, 1]] = 1.0 - c;
        y.push(if rng.random::<f64>() < u { 1 } else { 0 });
    }
    let v = uce(p.view(), &y, Binning::default()).unwrap();
    assert!(v < 0.015, "UCE = {v}");
    let cu = class_uce(p.view(), &y, Binning::default()).unwrap();
    assert!(cu.cuce.is_finite());
}

#[test]
fn metrics_are_invariant_to_permuting_samples() {
    let (p, y) = synthetic(2_000, 2.0, 4);
    // Quantise so that there are many exact ties (the hard case for
    // equal-mass bins, AUROC and the rejection curve).
    let p = p.mapv(|v| (v * 20.0).round() / 20.0);
    let mut rng = StdRng::seed_from_u64(5);
    let mut perm: Vec<usize> = (0..y.len()).collect();
    perm.shuffle(&mut rng);
    let q = p.select(Axis(0), &perm);
    let z: Vec<usize> = perm.iter().map(|&i| y[i]).collect();
    for strategy in [BinStrategy::EqualWidth, BinStrategy::EqualMass] {
        for bins in [1, 7, 15] {
            let b = Binning::new(bins).unwrap().with_strategy(strategy);
            let close = |a: f64, c: f64| (a - c).abs() < 1e-12;
            assert!(close(
                ece(p.view(), &y, b).unwrap(),
                ece(q.view(), &z, b).unwrap()
            ));
            assert!(close(
                mce(p.view(), &y, b).unwrap(),
                mce(q.view(), &z, b).unwrap()
            ));
            assert!(close(
                uce(p.view(), &y, b).unwrap(),
                uce(q.view(), &z, b).unwrap()
            ));
            assert!(close(
                classwise_ece(p.view(), &y, b).unwrap().mean,
                classwise_ece(q.view(), &z, b).unwrap().mean
            ));
            assert!(close(
                class_uce(p.view(), &y, b).unwrap().cuce,
                class_uce(q.view(), &z, b).unwrap().cuce
            ));
        }
    }
    let a = error_detection(p.view(), &y).unwrap();
    let c = error_detection(q.view(), &z).unwrap();
    assert_abs_diff_eq!(a.auroc, c.auroc, epsilon = 1e-12);
    assert_abs_diff_eq!(a.aupr, c.aupr, epsilon = 1e-12);
    let r1 = entropy_rejection_curve(p.view(), &y, 10).unwrap();
    let r2 = entropy_rejection_curve(q.view(), &z, 10).unwrap();
    for (u, v) in r1.accuracy.iter().zip(&r2.accuracy) {
        assert_abs_diff_eq!(u, v, epsilon = 1e-12);
    }
}

#[test]
fn bounds_and_identities() {
    let mut rng = StdRng::seed_from_u64(6);
    let (s, n, k) = (8, 300, 3);
    let mut samples = Array3::<f64>::zeros((s, n, k));
    for mut row in samples.lanes_mut(Axis(2)) {
        for v in row.iter_mut() {
            *v = rng.random::<f64>().powi(3);
        }
        let t = row.sum();
        row /= t;
    }
    let y: Vec<usize> = (0..n).map(|_| rng.random_range(0..k)).collect();
    let u = Uncertainty::from_samples(samples.view()).unwrap();
    let mi = u.mutual_information.as_ref().unwrap();
    let al = u.expected_entropy.as_ref().unwrap();
    for i in 0..n {
        // total = aleatoric + epistemic, MI >= 0, H <= ln K
        assert!(mi[i] >= 0.0);
        assert_abs_diff_eq!(u.predictive_entropy[i], al[i] + mi[i], epsilon = 1e-12);
        assert!(u.predictive_entropy[i] <= (k as f64).ln() + 1e-12);
        assert!((0.0..=1.0).contains(&u.normalised_entropy[i]));
    }
    let p = predictive_mean(samples.view()).unwrap();
    for bins in [1, 5, 10, 15] {
        let b = Binning::new(bins).unwrap();
        let e = ece(p.view(), &y, b).unwrap();
        let m = mce(p.view(), &y, b).unwrap();
        assert!((0.0..=1.0).contains(&e) && e <= m + 1e-15 && m <= 1.0);
    }
    let br = brier(p.view(), &y).unwrap();
    assert!((0.0..=2.0).contains(&br));
    // A single bin: ECE = |accuracy - mean confidence|.
    let acc = accuracy(p.view(), &y).unwrap();
    let conf = max_probability(p.view()).unwrap().mean().unwrap();
    assert_abs_diff_eq!(
        ece(p.view(), &y, Binning::new(1).unwrap()).unwrap(),
        (acc - conf).abs(),
        epsilon = 1e-12
    );
    // Identical samples carry no epistemic uncertainty.
    let same = ndarray::stack![Axis(0), p.view(), p.view(), p.view()];
    let mi = mutual_information(same.view()).unwrap();
    assert!(mi.iter().all(|&v| v.abs() < 1e-12));
}

fn random_logits(n: usize, k: usize, scale: f64, rng: &mut StdRng) -> Array2<f64> {
    Array2::from_shape_fn((n, k), |_| {
        let g: f64 = StandardNormal.sample(rng);
        g * scale
    })
}

fn sample_labels(logits: &Array2<f64>, rng: &mut StdRng) -> Vec<usize> {
    let p = softmax(logits.view()).unwrap();
    p.outer_iter()
        .map(|row| {
            let u: f64 = rng.random();
            let mut acc = 0.0;
            for (k, &v) in row.iter().enumerate() {
                acc += v;
                if u < acc {
                    return k;
                }
            }
            row.len() - 1
        })
        .collect()
}

#[test]
fn temperature_scaling_never_raises_validation_nll() {
    let mut rng = StdRng::seed_from_u64(7);
    for trial in 0..40 {
        let n = rng.random_range(1..200);
        let k = rng.random_range(2..6);
        let scale = [0.01, 0.5, 2.0, 10.0, 100.0][trial % 5];
        let z = random_logits(n, k, scale, &mut rng);
        let y: Vec<usize> = (0..n).map(|_| rng.random_range(0..k)).collect();
        let ts = TemperatureScaling::fit(z.view(), &y).unwrap();
        assert!(ts.nll_after <= ts.nll_before, "trial {trial}: {ts:?}");
        assert!(ts.temperature > 0.0);
        // The reported NLL is the NLL of the scaled probabilities.
        let p = ts.apply(z.view()).unwrap();
        let direct = -p.outer_iter().zip(&y).map(|(r, &c)| r[c].ln()).sum::<f64>() / n as f64;
        assert_abs_diff_eq!(direct, ts.nll_after, epsilon = 1e-9 * (1.0 + direct.abs()));
        // Local optimality: moving t by 1 % either way does not help.
        let t = ts.temperature;
        if t > 1.01 * temperature::MIN_TEMPERATURE && t < 0.99 * temperature::MAX_TEMPERATURE {
            for f in [0.99, 1.01] {
                let other = TemperatureScaling::with_temperature(t * f)
                    .unwrap()
                    .nll(z.view(), &y)
                    .unwrap();
                assert!(
                    other >= ts.nll_after - 1e-12,
                    "trial {trial}: t = {t}, f = {f}"
                );
            }
        }
        // Argmax (hence accuracy) is unchanged.
        let before = softmax(z.view()).unwrap();
        assert_eq!(
            predicted_classes(before.view()),
            predicted_classes(p.view())
        );
    }
}

#[test]
fn temperature_scaling_recovers_a_known_temperature() {
    // Labels drawn from softmax(z); the model reports z * 2.5, i.e. it is
    // over-confident by a temperature of 2.5. With N = 20_000 and K = 3 the
    // maximum-likelihood temperature has a standard error of about 1 %.
    let mut rng = StdRng::seed_from_u64(8);
    let z = random_logits(20_000, 3, 1.5, &mut rng);
    let y = sample_labels(&z, &mut rng);
    for t_true in [2.5, 0.4] {
        let model = z.mapv(|v| v * t_true);
        let ts = TemperatureScaling::fit(model.view(), &y).unwrap();
        let rel = (ts.temperature - t_true).abs() / t_true;
        assert!(rel < 0.05, "true {t_true}, fitted {}", ts.temperature);
        assert!(ts.nll_after < ts.nll_before);
        // Calibration improves too.
        let b = Binning::default();
        let e0 = ece(softmax(model.view()).unwrap().view(), &y, b).unwrap();
        let e1 = ece(ts.apply(model.view()).unwrap().view(), &y, b).unwrap();
        assert!(e1 < e0 && e1 < 0.02, "ECE {e0} -> {e1}");
    }
}

#[test]
fn recalibrators_reduce_ece_on_their_fit_data() {
    let (p, y) = synthetic(20_000, 3.0, 9);
    let b = Binning::new(10).unwrap();
    let before = ece(p.view(), &y, b).unwrap();
    let iso = IsotonicRegression::fit(p.view(), &y).unwrap();
    let hist = HistogramBinning::fit(p.view(), &y, b).unwrap();
    for (name, q) in [
        ("isotonic", iso.apply(p.view()).unwrap()),
        ("histogram", hist.apply(p.view()).unwrap()),
    ] {
        for row in q.outer_iter() {
            assert_abs_diff_eq!(row.sum(), 1.0, epsilon = 1e-12);
        }
        let after = ece(q.view(), &y, b).unwrap();
        assert!(
            after < 0.05 && after < before / 4.0,
            "{name}: {before} -> {after}"
        );
    }
    // Isotonic fits are non-decreasing.
    for ys in &iso.y {
        assert!(ys.windows(2).all(|w| w[0] <= w[1]));
    }
}

#[test]
fn bootstrap_is_seeded_and_sensible() {
    let (p, y) = synthetic(2_000, 1.5, 10);
    let params = Bootstrap::new(300, 0.9).unwrap();
    let b = Binning::default();
    let run = |seed| {
        bootstrap_metric(
            p.view(),
            &y,
            |q, z| ece(q, z, b),
            params,
            &mut StdRng::seed_from_u64(seed),
        )
        .unwrap()
    };
    let (a, c, d) = (run(1), run(1), run(2));
    assert_eq!(a, c, "same seed, same interval");
    assert_ne!(a.lower, d.lower, "another seed resamples differently");
    assert_abs_diff_eq!(a.estimate, ece(p.view(), &y, b).unwrap());
    assert!(a.lower < a.upper && a.resamples == 300);
    // Bootstrap of a mean: interval half-width about 1.645 sd / sqrt(n).
    let mut rng = StdRng::seed_from_u64(11);
    let x: Vec<f64> = (0..4_000).map(|_| rng.random::<f64>()).collect();
    let ci = bootstrap(x.len(), params, &mut rng, |idx| {
        Ok(idx.iter().map(|&i| x[i]).sum::<f64>() / idx.len() as f64)
    })
    .unwrap();
    let expected = 1.645 * (1.0f64 / 12.0).sqrt() / (4_000f64).sqrt();
    let half = (ci.upper - ci.lower) / 2.0;
    assert!(
        (half / expected - 1.0).abs() < 0.2,
        "half-width {half}, expected {expected}"
    );
    // A statistic undefined on some resamples: those are skipped.
    let pos = [true, false, false, false, false, false, false, false];
    let s = [0.9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
    let ci = bootstrap(8, params, &mut rng, |idx| {
        let ss: Vec<f64> = idx.iter().map(|&i| s[i]).collect();
        let pp: Vec<bool> = idx.iter().map(|&i| pos[i]).collect();
        auroc(&ss, &pp)
    })
    .unwrap();
    assert!(ci.resamples < 300 && ci.resamples > 100);
}
