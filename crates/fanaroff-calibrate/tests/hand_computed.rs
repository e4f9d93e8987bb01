//! Every metric against a small case worked out by hand in the comments.

use approx::assert_abs_diff_eq;
use fanaroff_calibrate::*;
use ndarray::{Array2, array};

/// Five inputs, three classes, used by several tests.
///
/// | n | p                  | y | argmax | correct | conf |
/// |---|--------------------|---|--------|---------|------|
/// | 0 | 0.40 0.35 0.25     | 0 | 0      | yes     | 0.40 |
/// | 1 | 0.45 0.30 0.25     | 1 | 0      | no      | 0.45 |
/// | 2 | 0.10 0.60 0.30     | 1 | 1      | yes     | 0.60 |
/// | 3 | 0.80 0.10 0.10     | 0 | 0      | yes     | 0.80 |
/// | 4 | 0.05 0.05 0.90     | 1 | 2      | no      | 0.90 |
fn five() -> (Array2<f64>, Vec<usize>) {
    (
        array![
            [0.40, 0.35, 0.25],
            [0.45, 0.30, 0.25],
            [0.10, 0.60, 0.30],
            [0.80, 0.10, 0.10],
            [0.05, 0.05, 0.90]
        ],
        vec![0, 1, 1, 0, 1],
    )
}

#[test]
fn ece_two_equal_width_bins() {
    // Bins [0, 0.5) and [0.5, 1].
    // bin 0: n = 0, 1   conf = (0.40 + 0.45) / 2 = 0.425   acc = 1/2     gap = 0.075
    // bin 1: n = 2, 3, 4 conf = (0.6 + 0.8 + 0.9) / 3 = 0.7667 acc = 2/3 gap = 0.1
    // ECE = 2/5 * 0.075 + 3/5 * 0.1 = 0.03 + 0.06 = 0.09 ; MCE = 0.1
    let (p, y) = five();
    let b = Binning::new(2).unwrap();
    assert_abs_diff_eq!(ece(p.view(), &y, b).unwrap(), 0.09, epsilon = 1e-12);
    assert_abs_diff_eq!(mce(p.view(), &y, b).unwrap(), 0.1, epsilon = 1e-12);
    let d = reliability_diagram(p.view(), &y, b).unwrap();
    assert_eq!(d.bins.len(), 2);
    assert_eq!((d.bins[0].count, d.bins[1].count), (2, 3));
    assert_abs_diff_eq!(d.bins[0].mean_score.unwrap(), 0.425, epsilon = 1e-12);
    assert_abs_diff_eq!(d.bins[0].mean_outcome.unwrap(), 0.5, epsilon = 1e-12);
    assert_abs_diff_eq!(d.bins[1].mean_score.unwrap(), 2.3 / 3.0, epsilon = 1e-12);
    assert_abs_diff_eq!(d.bins[1].mean_outcome.unwrap(), 2.0 / 3.0, epsilon = 1e-12);
    assert_eq!(
        (d.bins[0].lower, d.bins[0].upper, d.bins[1].upper),
        (0.0, 0.5, 1.0)
    );
}

#[test]
fn ece_three_equal_mass_bins() {
    // Sorted confidences 0.40 0.45 0.60 0.80 0.90 (N = 5, B = 3).
    // Interior edges: v_(floor(5/3)) = v_(1) = 0.45, v_(floor(10/3)) = v_(3) = 0.80;
    // outer edges: the smallest and largest confidence, 0.40 and 0.90.
    // bin 0 [0.40, 0.45): {0.40}       conf 0.40  acc 1    gap 0.60  weight 1/5 -> 0.12
    // bin 1 [0.45, 0.80): {0.45, 0.60} conf 0.525 acc 1/2  gap 0.025 weight 2/5 -> 0.01
    // bin 2 [0.80, 0.90]: {0.80, 0.90} conf 0.85  acc 1/2  gap 0.35  weight 2/5 -> 0.14
    // ECE = 0.27, MCE = 0.6
    let (p, y) = five();
    let b = Binning::new(3)
        .unwrap()
        .with_strategy(BinStrategy::EqualMass);
    assert_abs_diff_eq!(ece(p.view(), &y, b).unwrap(), 0.27, epsilon = 1e-12);
    assert_abs_diff_eq!(mce(p.view(), &y, b).unwrap(), 0.6, epsilon = 1e-12);
    let d = reliability_diagram(p.view(), &y, b).unwrap();
    let counts: Vec<usize> = d.bins.iter().map(|b| b.count).collect();
    assert_eq!(counts, vec![1, 2, 2]);
    assert_eq!(
        d.bins.iter().map(|b| b.lower).collect::<Vec<_>>(),
        vec![0.40, 0.45, 0.80]
    );
    assert_eq!(d.bins[2].upper, 0.90);
}

#[test]
fn bin_edges_and_exact_one() {
    // Equal width, 10 bins: bin = number of edges b/10 <= v.
    let b = Binning::new(10).unwrap();
    let a = b
        .assign(&[0.0, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9999, 1.0])
        .unwrap();
    // 0.1, 0.3, 0.5, 0.7 sit on edges -> upper bin; 1.0 -> last bin.
    assert_eq!(a.index, vec![0, 0, 1, 3, 5, 7, 9, 9]);
    // A single bin holds everything.
    let a = Binning::new(1).unwrap().assign(&[0.0, 0.5, 1.0]).unwrap();
    assert_eq!(a.index, vec![0, 0, 0]);
}

#[test]
fn equal_mass_keeps_ties_together() {
    // Values 0.2 0.5 0.5 0.5 0.9, B = 2: edge v_(floor(5/2)) = v_(2) = 0.5.
    // Bin 0 = [0, 0.5) = {0.2}; all three 0.5s go to bin 1 with 0.9.
    let b = Binning::new(2)
        .unwrap()
        .with_strategy(BinStrategy::EqualMass);
    let a = b.assign(&[0.5, 0.2, 0.9, 0.5, 0.5]).unwrap();
    assert_eq!(a.index, vec![1, 0, 1, 1, 1]);
    // Without ties, 6 values in 3 bins -> 2 each.
    let b = Binning::new(3)
        .unwrap()
        .with_strategy(BinStrategy::EqualMass);
    let a = b.assign(&[0.6, 0.1, 0.5, 0.2, 0.9, 0.3]).unwrap();
    assert_eq!(a.index, vec![2, 0, 1, 0, 2, 1]);
    // More bins than values: some bins stay empty, none is lost.
    let b = Binning::new(5)
        .unwrap()
        .with_strategy(BinStrategy::EqualMass);
    let a = b.assign(&[0.3, 0.7]).unwrap();
    // edges v_(floor(2b/5)) for b = 1..4: v_0, v_0, v_1, v_1 = 0.3 0.3 0.7 0.7
    assert_eq!(a.index, vec![2, 4]);
}

#[test]
fn classwise_ece_by_hand() {
    // Two equal-width bins, on p_k against 1[y = k].
    // class 0: p0 = .40 .45 .10 .80 .05, hit = 1 0 0 1 0
    //   bin 0 {n=0,1,2,4}: mean p = 1.0/4 = .25, freq 1/4 -> gap 0
    //   bin 1 {n=3}: p .8, freq 1 -> gap .2, weight 1/5 -> ECE_0 = .04
    // class 1: p1 = .35 .30 .60 .10 .05, hit = 0 1 1 0 1
    //   bin 0 {0,1,3,4}: mean p = .8/4 = .2, freq 2/4 -> gap .3, weight 4/5 -> .24
    //   bin 1 {2}: p .6, freq 1 -> gap .4, weight 1/5 -> .08 ; ECE_1 = .32
    // class 2: p2 = .25 .25 .30 .10 .90, hit = 0 0 0 0 0
    //   bin 0 {0..3}: mean p = .9/4 = .225 -> gap .225, weight 4/5 -> .18
    //   bin 1 {4}: p .9 -> gap .9, weight 1/5 -> .18 ; ECE_2 = .36
    // classwise ECE = (.04 + .32 + .36) / 3 = .24
    let (p, y) = five();
    let c = classwise_ece(p.view(), &y, Binning::new(2).unwrap()).unwrap();
    for (got, want) in c.per_class.iter().zip([0.04, 0.32, 0.36]) {
        assert_abs_diff_eq!(*got, want, epsilon = 1e-12);
    }
    assert_abs_diff_eq!(c.mean, 0.24, epsilon = 1e-12);
}

/// Binary entropy in units of ln 2, i.e. H / ln K for K = 2.
fn h2(p: f64) -> f64 {
    let q = 1.0 - p;
    let t = |v: f64| if v > 0.0 { -v * v.ln() } else { 0.0 };
    (t(p) + t(q)) / 2f64.ln()
}

#[test]
fn uce_and_cuce_by_hand() {
    // K = 2, two equal-width bins on u = H / ln 2:
    // | n | p         | y | argmax | err | u                |
    // | 0 | 1.0 0.0   | 0 | 0      | 0   | 0                |
    // | 1 | 0.9 0.1   | 1 | 0      | 1   | h2(0.1) = 0.4690 |
    // | 2 | 0.5 0.5   | 0 | 0 (tie)| 0   | 1                |
    // | 3 | 0.4 0.6   | 0 | 1      | 1   | h2(0.4) = 0.9710 |
    // bin 0 {0, 1}: u = 0.4690 / 2,          err 1/2, weight 1/2
    // bin 1 {2, 3}: u = (1 + 0.9710) / 2,    err 1/2, weight 1/2
    let p = array![[1.0, 0.0], [0.9, 0.1], [0.5, 0.5], [0.4, 0.6]];
    let y = [0, 1, 0, 0];
    let (a, b) = (h2(0.1), h2(0.4));
    let want = 0.5 * (0.5 - a / 2.0).abs() + 0.5 * ((1.0 + b) / 2.0 - 0.5).abs();
    assert_abs_diff_eq!(want, 0.375489, epsilon = 1e-6); // the numbers in the comment
    let bins = Binning::new(2).unwrap();
    assert_abs_diff_eq!(uce(p.view(), &y, bins).unwrap(), want, epsilon = 1e-12);

    // Per class. Class 0 = {0, 2, 3}: bin 0 {0}: u 0, err 0 -> gap 0;
    //   bin 1 {2, 3}: u (1 + b)/2, err 1/2, weight 2/3.
    // Class 1 = {1}: bin 0: u = a, err 1, weight 1.
    let u0 = 2.0 / 3.0 * ((1.0 + b) / 2.0 - 0.5).abs();
    let u1 = (1.0 - a).abs();
    let c = class_uce(p.view(), &y, bins).unwrap();
    assert_abs_diff_eq!(c.per_class[0].unwrap(), u0, epsilon = 1e-12);
    assert_abs_diff_eq!(c.per_class[1].unwrap(), u1, epsilon = 1e-12);
    assert_abs_diff_eq!(c.cuce, (u0 + u1) / 2.0, epsilon = 1e-12);
    assert_abs_diff_eq!(c.cuce, 0.427327, epsilon = 1e-6);
    assert_eq!(c.counts, vec![3, 1]);

    // A class without inputs is None and left out of the mean.
    let p3 = array![[0.7, 0.2, 0.1], [0.2, 0.7, 0.1]];
    let c = class_uce(p3.view(), &[0, 1], bins).unwrap();
    assert_eq!(c.per_class[2], None);
    assert_abs_diff_eq!(
        c.cuce,
        (c.per_class[0].unwrap() + c.per_class[1].unwrap()) / 2.0,
        epsilon = 1e-15
    );
}

#[test]
fn brier_nll_accuracy_by_hand() {
    // Brier, sum over classes of (p - onehot)^2:
    // n0: .6^2 + .35^2 + .25^2 = .36 + .1225 + .0625 = .545
    // n1: .45^2 + .7^2 + .25^2 = .2025 + .49 + .0625 = .755
    // n2: .1^2 + .4^2 + .3^2 = .01 + .16 + .09 = .26
    // n3: .2^2 + .1^2 + .1^2 = .04 + .01 + .01 = .06
    // n4: .05^2 + .95^2 + .9^2 = .0025 + .9025 + .81 = 1.715
    // sum 3.335 -> Brier = 0.667 (not divided by K = 3: that would be 0.2223)
    let (p, y) = five();
    assert_abs_diff_eq!(brier(p.view(), &y).unwrap(), 0.667, epsilon = 1e-12);
    // NLL = -(ln .40 + ln .30 + ln .60 + ln .80 + ln .05) / 5
    //     = (0.916291 + 1.203973 + 0.510826 + 0.223144 + 2.995732) / 5 = 1.169993
    assert_abs_diff_eq!(nll(p.view(), &y).unwrap(), 1.169993, epsilon = 1e-6);
    assert_abs_diff_eq!(accuracy(p.view(), &y).unwrap(), 0.6, epsilon = 1e-12);
    assert_abs_diff_eq!(error_rate(p.view(), &y).unwrap(), 0.4, epsilon = 1e-12);
    // A zero true-class probability is charged -ln(1e-12), not infinity.
    let v = nll(array![[1.0, 0.0]].view(), &[1]).unwrap();
    assert_abs_diff_eq!(v, -(1e-12f64).ln(), epsilon = 1e-9);
}

#[test]
fn uncertainty_decomposition_by_hand() {
    // S = 2 draws for one input, K = 2: s0 = (0.8, 0.2), s1 = (0.4, 0.6).
    // mean = (0.6, 0.4)
    // H[mean] = -(.6 ln .6 + .4 ln .4) = .306495 + .366516 = .673012
    // H[s0]   = -(.8 ln .8 + .2 ln .2) = .178515 + .321888 = .500402
    // H[s1]   = H[mean] = .673012
    // expected entropy = (.500402 + .673012) / 2 = .586707
    // MI = .673012 - .586707 = .086305
    // Var_s p_0 = ((.8 - .6)^2 + (.4 - .6)^2) / 2 = .04 (population variance)
    let s = array![[[0.8, 0.2]], [[0.4, 0.6]]];
    let u = Uncertainty::from_samples(s.view()).unwrap();
    assert_abs_diff_eq!(u.predictive_entropy[0], 0.673012, epsilon = 1e-6);
    assert_abs_diff_eq!(
        u.normalised_entropy[0],
        0.673012 / 2f64.ln(),
        epsilon = 1e-6
    );
    assert_abs_diff_eq!(
        u.expected_entropy.as_ref().unwrap()[0],
        0.586707,
        epsilon = 1e-6
    );
    assert_abs_diff_eq!(
        u.mutual_information.as_ref().unwrap()[0],
        0.086305,
        epsilon = 1e-6
    );
    assert_abs_diff_eq!(
        u.predicted_class_variance.as_ref().unwrap()[0],
        0.04,
        epsilon = 1e-12
    );
    assert_abs_diff_eq!(
        u.mean_class_variance.as_ref().unwrap()[0],
        0.04,
        epsilon = 1e-12
    );
    assert_abs_diff_eq!(u.max_probability[0], 0.6, epsilon = 1e-12);
    assert_eq!(u.predicted_class, vec![0]);
    // The standalone functions agree.
    assert_abs_diff_eq!(
        mutual_information(s.view()).unwrap()[0],
        0.086305,
        epsilon = 1e-6
    );
    assert_abs_diff_eq!(
        expected_entropy(s.view()).unwrap()[0],
        0.586707,
        epsilon = 1e-6
    );
    assert_abs_diff_eq!(
        class_variance(s.view()).unwrap()[[0, 1]],
        0.04,
        epsilon = 1e-12
    );
    // Uniform over K = 4: H = ln 4, normalised 1; one-hot: 0.
    let p = array![[0.25, 0.25, 0.25, 0.25], [0.0, 1.0, 0.0, 0.0]];
    let h = entropy(p.view()).unwrap();
    assert_abs_diff_eq!(h[0], 4f64.ln(), epsilon = 1e-12);
    assert_eq!(h[1], 0.0);
    let hn = normalised_entropy(p.view()).unwrap();
    assert_abs_diff_eq!(hn[0], 1.0, epsilon = 1e-12);
    assert_eq!(max_probability(p.view()).unwrap().to_vec(), vec![0.25, 1.0]);
}

#[test]
fn auroc_aupr_by_hand() {
    // scores 0.9 0.8 0.8 0.3 0.1 ; positives T F T F F (P = 2, Q = 3)
    // pos 0.9 beats all three negatives: 3
    // pos 0.8 ties the negative 0.8 (1/2), beats 0.3 and 0.1: 2.5
    // AUROC = 5.5 / 6
    let s = [0.9, 0.8, 0.8, 0.3, 0.1];
    let pos = [true, false, true, false, false];
    assert_abs_diff_eq!(auroc(&s, &pos).unwrap(), 5.5 / 6.0, epsilon = 1e-12);
    // AP: threshold 0.9 -> TP 1, FP 0: R = 1/2, P = 1     -> 0.5 * 1
    //     threshold 0.8 -> TP 2, FP 1: R = 1,   P = 2/3   -> 0.5 * 2/3
    //     lower thresholds add no recall.  AP = 0.8333...
    assert_abs_diff_eq!(aupr(&s, &pos).unwrap(), 0.5 + 1.0 / 3.0, epsilon = 1e-12);
    // Perfect and reversed rankings.
    assert_eq!(auroc(&[0.9, 0.1], &[true, false]).unwrap(), 1.0);
    assert_eq!(auroc(&[0.1, 0.9], &[true, false]).unwrap(), 0.0);
    // All tied: 1/2.
    assert_eq!(auroc(&[0.5; 4], &[true, false, true, false]).unwrap(), 0.5);
    // OOD: in-distribution 0.1 0.4, OOD 0.3 0.8 -> pairs (ood > in):
    // 0.3 > 0.1 yes, 0.3 > 0.4 no, 0.8 > both -> 3/4
    let o = ood_detection(&[0.1, 0.4], &[0.3, 0.8]).unwrap();
    assert_abs_diff_eq!(o.auroc, 0.75, epsilon = 1e-12);
    assert_eq!((o.positives, o.negatives), (2, 2));
}

#[test]
fn error_detection_uses_entropy() {
    // errors: rows 1 and 4. Entropies (nats):
    // H0 = H(.40,.35,.25) = 1.0805, H1 = H(.45,.30,.25) = 1.0671,
    // H2 = H(.10,.60,.30) = 0.8979, H3 = H(.80,.10,.10) = 0.6390,
    // H4 = H(.05,.05,.90) = 0.3944
    // error 1 (1.0671) beats correct 2 and 3, loses to 0 -> 2
    // error 4 (0.3944) beats none -> 0 ; AUROC = 2 / 6
    let (p, y) = five();
    let s = error_detection(p.view(), &y).unwrap();
    assert_abs_diff_eq!(s.auroc, 2.0 / 6.0, epsilon = 1e-12);
    assert_eq!((s.positives, s.negatives), (2, 3));
}

#[test]
fn rejection_curve_with_ties_by_hand() {
    // uncertainty 0.1 0.5 0.5 0.5 0.9 ; correct T T F F F
    // r = 0.0: keep 5, correct 2                               -> 0.4
    // r = 0.2: reject 1 (the 0.9), keep 4: 1 + whole tie group (1) -> 2/4
    // r = 0.4: keep 3: 1 + 2 of the tied 3 (1 correct among them)
    //          -> 1 + 2 * 1/3 = 5/3, accuracy 5/9
    // r = 0.6: keep 2: 1 + 1 * 1/3 = 4/3, accuracy 2/3
    let u = [0.5, 0.1, 0.9, 0.5, 0.5];
    let ok = [true, true, false, false, false];
    let c = accuracy_rejection(&u, &ok, &[0.0, 0.2, 0.4, 0.6]).unwrap();
    assert_eq!(c.retained, vec![5, 4, 3, 2]);
    for (got, want) in c.accuracy.iter().zip([0.4, 0.5, 5.0 / 9.0, 2.0 / 3.0]) {
        assert_abs_diff_eq!(*got, want, epsilon = 1e-12);
    }
    assert_eq!(rejection_fractions(4).unwrap(), vec![0.0, 0.25, 0.5, 0.75]);
}

#[test]
fn temperature_scaling_by_hand() {
    // All four inputs have logit margin m = 4, three are right (a = 3/4):
    // NLL(t) = a ln(1 + e^{-m/t}) + (1 - a) ln(1 + e^{m/t}),
    // dNLL/dt = 0  <=>  sigmoid(m/t) = a  <=>  t = m / ln(a / (1 - a)) = 4 / ln 3.
    let z = array![[4.0, 0.0], [0.0, 4.0], [4.0, 0.0], [0.0, 4.0]];
    let y = [0, 1, 1, 1];
    let ts = TemperatureScaling::fit(z.view(), &y).unwrap();
    let t = 4.0 / 3f64.ln();
    assert_abs_diff_eq!(ts.temperature, t, epsilon = 1e-6);
    // NLL at t = 1: 3/4 ln(1 + e^-4) + 1/4 ln(1 + e^4)
    let before = 0.75 * (1.0 + (-4f64).exp()).ln() + 0.25 * (1.0 + 4f64.exp()).ln();
    assert_abs_diff_eq!(ts.nll_before, before, epsilon = 1e-12);
    // At the optimum the predicted probability of the argmax is exactly a.
    let p = ts.apply(z.view()).unwrap();
    assert_abs_diff_eq!(p[[0, 0]], 0.75, epsilon = 1e-6);
    // NLL at the optimum = entropy of Bernoulli(3/4).
    let h = -(0.75f64 * 0.75f64.ln() + 0.25 * 0.25f64.ln());
    assert_abs_diff_eq!(ts.nll_after, h, epsilon = 1e-9);
    assert_abs_diff_eq!(ts.nll(z.view(), &y).unwrap(), h, epsilon = 1e-9);
    // The probability-space version agrees: softmax(z) then p^(1/t) renormalised.
    let q = ts
        .apply_to_probs(softmax(z.view()).unwrap().view())
        .unwrap();
    assert_abs_diff_eq!(q[[0, 0]], 0.75, epsilon = 1e-6);
    // Perfectly separable data: the optimum runs to t -> 0, stops at the bound.
    let ts = TemperatureScaling::fit(z.view(), &[0, 1, 0, 1]).unwrap();
    assert_abs_diff_eq!(ts.temperature, temperature::MIN_TEMPERATURE, epsilon = 1e-9);
}

#[test]
fn isotonic_and_histogram_by_hand() {
    // Class 1 column p1 = 0.1 0.2 0.3 0.4 with outcome 1[y = 1] = 1 0 0 1.
    // PAV: 1, 0 violates -> pool {1, 0} = 0.5; next 0 < 0.5 -> pool {1, 0, 0} = 1/3;
    // then 1 >= 1/3 -> keep. Fit: 1/3 1/3 1/3 1.
    let p = array![[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4]];
    let y = [1, 0, 0, 1];
    let iso = IsotonicRegression::fit(p.view(), &y).unwrap();
    let third = 1.0 / 3.0;
    for (got, want) in iso.y[1].iter().zip([third, third, third, 1.0]) {
        assert_abs_diff_eq!(*got, want, epsilon = 1e-12);
    }
    // Class 0 column p0 = 0.6 0.7 0.8 0.9 (sorted), outcome 0 1 1 0:
    // 0, 1 ok; 1 ok; 0 violates -> pool {1, 0} = 0.5, then 1 > 0.5 violates
    // -> pool {1, 1, 0} = 2/3. Fit: 0 2/3 2/3 2/3.
    for (got, want) in iso.y[0].iter().zip([0.0, 2.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0]) {
        assert_abs_diff_eq!(*got, want, epsilon = 1e-12);
    }
    // Applying: p = (0.65, 0.35) -> g0 = halfway between 0 and 2/3 = 1/3,
    // g1 = between 1/3 (at 0.3) and 1 (at 0.4) at 0.35 -> 2/3 ; renormalised 1/3, 2/3.
    let q = iso.apply(array![[0.65, 0.35]].view()).unwrap();
    assert_abs_diff_eq!(q[[0, 0]], 1.0 / 3.0, epsilon = 1e-12);
    assert_abs_diff_eq!(q[[0, 1]], 2.0 / 3.0, epsilon = 1e-12);

    // Histogram binning, 2 equal-width bins, same data.
    // class 0: all p0 >= 0.5 -> bin 1 holds all four, frequency of y = 0 is 2/4;
    //          bin 0 empty -> its midpoint 0.25.
    // class 1: all p1 < 0.5 -> bin 0, frequency of y = 1 is 2/4; bin 1 empty -> 0.75.
    let h = HistogramBinning::fit(p.view(), &y, Binning::new(2).unwrap()).unwrap();
    assert_eq!(h.values[0], vec![0.25, 0.5]);
    assert_eq!(h.values[1], vec![0.5, 0.75]);
    // (0.2, 0.8): g0 = 0.25 (bin 0), g1 = 0.75 (bin 1) -> already sums to 1.
    let q = h.apply(array![[0.2, 0.8]].view()).unwrap();
    assert_abs_diff_eq!(q[[0, 0]], 0.25, epsilon = 1e-12);
    assert_abs_diff_eq!(q[[0, 1]], 0.75, epsilon = 1e-12);
}

#[test]
fn binned_calibration_on_any_score() {
    // 4 scores, 2 bins: [0, .5) gets .2 (outcome 0) and .4 (outcome 1):
    // score .3, outcome .5, gap .2; [.5, 1] gets .6 (1) and 1.0 (1): score .8, outcome 1, gap .2
    // CE = .5 * .2 + .5 * .2 = .2
    let d = binned_calibration(
        &[0.2, 0.4, 0.6, 1.0],
        &[false, true, true, true],
        Binning::new(2).unwrap(),
        DiagramKind::Custom,
    )
    .unwrap();
    assert_abs_diff_eq!(d.calibration_error, 0.2, epsilon = 1e-12);
    assert_abs_diff_eq!(d.bins[0].gap().unwrap(), 0.2, epsilon = 1e-12);
    // An empty bin has no means and no gap.
    let d = binned_calibration(
        &[0.9],
        &[true],
        Binning::new(2).unwrap(),
        DiagramKind::Custom,
    )
    .unwrap();
    assert_eq!(d.bins[0].count, 0);
    assert_eq!(d.bins[0].gap(), None);
}

#[test]
fn bootstrap_quantiles_by_hand() {
    // A statistic that ignores the resample and returns 0 on the full data,
    // then 1, 2, ..., 11 on the 11 resamples: sorted values v_(0..10) = 1..11.
    // level 0.8:  lower at h = 0.1 * 10 = 1 -> v_(1) = 2, upper at h = 9 -> v_(9) = 10
    // level 0.75: lower at h = 0.125 * 10 = 1.25 -> 2 + 0.25 * (3 - 2) = 2.25,
    //             upper at h = 8.75 -> 9 + 0.75 * (10 - 9) = 9.75
    use rand::SeedableRng;
    for (level, lo, hi) in [(0.8, 2.0, 10.0), (0.75, 2.25, 9.75)] {
        let mut counter = 0.0;
        let ci = bootstrap(
            5,
            Bootstrap::new(11, level).unwrap(),
            &mut rand::rngs::StdRng::seed_from_u64(0),
            |_| {
                let v = counter;
                counter += 1.0;
                Ok(v)
            },
        )
        .unwrap();
        assert_eq!(ci.estimate, 0.0);
        assert_abs_diff_eq!(ci.lower, lo, epsilon = 1e-12);
        assert_abs_diff_eq!(ci.upper, hi, epsilon = 1e-12);
        assert_eq!(ci.resamples, 11);
    }
}
