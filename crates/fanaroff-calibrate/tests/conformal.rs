//! Split conformal prediction: coverage over many random calibration /
//! test splits, class-conditional coverage, and bad input.

use fanaroff_calibrate::{ConformityScore, SplitConformal, mean_set_size, set_coverage};
use ndarray::{Array2, array};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// `n` images of `k` classes: a softmax of random logits, made deliberately
/// overconfident (x 3), and labels drawn from the un-sharpened softmax, so
/// that the model is miscalibrated and conformal has work to do.
fn synthetic(n: usize, k: usize, rng: &mut StdRng) -> (Array2<f64>, Vec<usize>) {
    let mut probs = Array2::zeros((n, k));
    let mut labels = Vec::with_capacity(n);
    for mut row in probs.outer_iter_mut() {
        let logits: Vec<f64> = (0..k).map(|_| 1.5 * rng.random::<f64>() - 0.75).collect();
        let soft = |t: f64| {
            let e: Vec<f64> = logits.iter().map(|l| (t * l).exp()).collect();
            let z: f64 = e.iter().sum();
            e.into_iter().map(|v| v / z).collect::<Vec<f64>>()
        };
        let (truth, shown) = (soft(1.0), soft(3.0));
        let (mut u, mut y) = (rng.random::<f64>(), k - 1);
        for (c, p) in truth.iter().enumerate() {
            if u < *p {
                y = c;
                break;
            }
            u -= p;
        }
        labels.push(y);
        for (d, v) in row.iter_mut().zip(shown) {
            *d = v;
        }
    }
    (probs, labels)
}

/// Marginal coverage is at least 1 - alpha and at most 1 - alpha + 1/(n+1)
/// in expectation; over R splits the mean coverage of a split has standard
/// deviation about sqrt(alpha (1 - alpha) / (n + 2) / R) (the Beta law of a
/// split's coverage), plus the test images' binomial noise.
#[test]
fn coverage_holds_over_random_splits() {
    let (n_cal, n_test, reps, alpha) = (200usize, 400usize, 150usize, 0.1);
    let mut rng = StdRng::seed_from_u64(7);
    for score in [
        ConformityScore::Lac,
        ConformityScore::Aps { randomised: true },
        ConformityScore::Raps {
            lambda: 0.05,
            k_reg: 1,
            randomised: true,
        },
    ] {
        let cp = SplitConformal::new(score, alpha).unwrap();
        let mut covered = Vec::with_capacity(reps);
        for _ in 0..reps {
            let (cal, cal_y) = synthetic(n_cal, 4, &mut rng);
            let (test, test_y) = synthetic(n_test, 4, &mut rng);
            let p = cp.calibrate(cal.view(), &cal_y, &mut rng).unwrap();
            let sets = p.predict_sets(test.view(), &mut rng).unwrap();
            covered.push(set_coverage(&sets, &test_y).unwrap());
            assert!(mean_set_size(&sets).unwrap() <= 4.0);
        }
        let mean = covered.iter().sum::<f64>() / reps as f64;
        let beta = (alpha * (1.0 - alpha) / (n_cal as f64 + 2.0)).sqrt();
        let binom = (alpha * (1.0 - alpha) / n_test as f64).sqrt();
        let sd = (beta * beta + binom * binom).sqrt() / (reps as f64).sqrt();
        let (lo, hi) = (
            1.0 - alpha - 4.0 * sd,
            1.0 - alpha + 1.0 / (n_cal as f64 + 1.0) + 4.0 * sd,
        );
        assert!(
            (lo..=hi).contains(&mean),
            "{score:?}: coverage {mean}, want [{lo}, {hi}]"
        );
    }
}

/// With a model that is over-confident on class 0 only, marginal
/// calibration under-covers class 1; class-conditional calibration covers
/// each class.
#[test]
fn class_conditional_covers_each_class() {
    let mut rng = StdRng::seed_from_u64(11);
    let draw = |n: usize, rng: &mut StdRng| {
        let mut p = Array2::zeros((n, 2));
        let mut y = Vec::new();
        for mut row in p.outer_iter_mut() {
            let c = usize::from(rng.random::<f64>() < 0.2); // 20 % class 1
            // class 1 images look like class 0 half of the time
            let q = if c == 1 && rng.random::<f64>() < 0.5 {
                0.2
            } else {
                0.4 + 0.55 * rng.random::<f64>()
            };
            row[0] = q;
            row[1] = 1.0 - q;
            y.push(c);
        }
        (p, y)
    };
    let alpha = 0.1;
    let (cal, cal_y) = draw(3000, &mut rng);
    let (test, test_y) = draw(6000, &mut rng);
    let per_class = |sets: &[Vec<usize>], c: usize| {
        let idx: Vec<usize> = (0..test_y.len()).filter(|&i| test_y[i] == c).collect();
        idx.iter().filter(|&&i| sets[i].contains(&c)).count() as f64 / idx.len() as f64
    };
    let marginal = SplitConformal::new(ConformityScore::Lac, alpha).unwrap();
    let m = marginal.calibrate(cal.view(), &cal_y, &mut rng).unwrap();
    let mondrian = marginal.class_conditional(true);
    let c = mondrian.calibrate(cal.view(), &cal_y, &mut rng).unwrap();
    assert_eq!(c.thresholds().len(), 2);
    let (ms, cs) = (
        m.predict_sets(test.view(), &mut rng).unwrap(),
        c.predict_sets(test.view(), &mut rng).unwrap(),
    );
    for k in 0..2 {
        assert!(
            per_class(&cs, k) >= 1.0 - alpha - 0.03,
            "class {k}: {}",
            per_class(&cs, k)
        );
    }
    assert!(
        per_class(&ms, 1) < per_class(&cs, 1),
        "{} vs {}",
        per_class(&ms, 1),
        per_class(&cs, 1)
    );
}

#[test]
fn bad_input_is_an_error() {
    let mut rng = StdRng::seed_from_u64(0);
    for a in [0.0, 1.0, -0.1, f64::NAN] {
        assert!(SplitConformal::new(ConformityScore::Lac, a).is_err(), "{a}");
    }
    let bad_raps = ConformityScore::Raps {
        lambda: f64::NAN,
        k_reg: 0,
        randomised: false,
    };
    assert!(SplitConformal::new(bad_raps, 0.1).is_err());
    let cp = SplitConformal::new(ConformityScore::Lac, 0.1).unwrap();
    let one_class = cp.calibrate(array![[0.9, 0.1], [0.8, 0.2]].view(), &[0, 0], &mut rng);
    assert!(one_class.unwrap_err().to_string().contains("single class"));
    let nan = cp.calibrate(
        array![[f64::NAN, 0.1], [0.8, 0.2]].view(),
        &[0, 1],
        &mut rng,
    );
    assert!(nan.is_err());
    let p = array![[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]];
    let missing = cp
        .class_conditional(true)
        .calibrate(p.view(), &[0, 0, 0], &mut rng);
    assert!(missing.is_err());
    let ok = cp.calibrate(p.view(), &[0, 1, 0], &mut rng).unwrap();
    assert!(
        ok.predict_sets(array![[0.2, 0.3, 0.5]].view(), &mut rng)
            .is_err()
    );
    assert!(set_coverage(&[], &[]).is_err());
    assert!(set_coverage(&[vec![0]], &[0, 1]).is_err());
}

/// Ambiguous images (annotators split 60 / 40) whose test labels are
/// drawn from the soft label: calibrating on the majority label
/// under-covers them, one pseudo-label per image from the soft label
/// covers at 1 - alpha.
#[test]
fn soft_labels_cover_what_annotators_say() {
    let mut rng = StdRng::seed_from_u64(5);
    let alpha = 0.1;
    let make = |n: usize, rng: &mut StdRng| {
        let mut probs = Array2::zeros((n, 2));
        let mut soft = Array2::zeros((n, 2));
        for (mut p, mut s) in probs.outer_iter_mut().zip(soft.outer_iter_mut()) {
            let a = 0.5 + 0.45 * rng.random::<f64>(); // model's p of class 0
            let ambiguous = rng.random::<f64>() < 0.5;
            let s0 = if ambiguous { 0.6 } else { 1.0 };
            p[0] = a;
            p[1] = 1.0 - a;
            s[0] = s0;
            s[1] = 1.0 - s0;
        }
        (probs, soft)
    };
    let cp = SplitConformal::new(ConformityScore::Lac, alpha).unwrap();
    let (mut hard_cov, mut soft_cov) = (0.0, 0.0);
    let reps = 40;
    for _ in 0..reps {
        let (cal, cal_soft) = make(300, &mut rng);
        let (test, test_soft) = make(600, &mut rng);
        let majority: Vec<usize> = cal_soft
            .outer_iter()
            .map(|s| usize::from(s[1] > s[0]))
            .collect();
        let test_y: Vec<usize> = test_soft
            .outer_iter()
            .map(|s| usize::from(rng.random::<f64>() >= s[0]))
            .collect();
        let hard = cp.calibrate(cal.view(), &majority, &mut rng);
        // every majority label is class 0 here: a single class is refused
        assert!(hard.is_err());
        let mut majority = majority;
        majority[0] = 1; // one dissenting image so that the hard calibration runs
        let hard = cp.calibrate(cal.view(), &majority, &mut rng).unwrap();
        let soft = cp
            .calibrate_soft(cal.view(), cal_soft.view(), &mut rng)
            .unwrap();
        hard_cov +=
            set_coverage(&hard.predict_sets(test.view(), &mut rng).unwrap(), &test_y).unwrap();
        soft_cov +=
            set_coverage(&soft.predict_sets(test.view(), &mut rng).unwrap(), &test_y).unwrap();
    }
    let (hard_cov, soft_cov) = (hard_cov / reps as f64, soft_cov / reps as f64);
    assert!(soft_cov >= 1.0 - alpha - 0.01, "soft {soft_cov}");
    assert!(hard_cov < 1.0 - alpha - 0.05, "hard {hard_cov}");
    let bad = cp.calibrate_soft(
        Array2::from_elem((2, 2), 0.5).view(),
        Array2::from_elem((2, 3), 1.0 / 3.0).view(),
        &mut rng,
    );
    assert!(bad.is_err());
}
