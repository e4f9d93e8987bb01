//! Agreement with scikit-learn 1.9.1 on the conventions the docs claim.
//! The expected numbers were produced with:
//!
//! ```python
//! rng = np.random.default_rng(0)
//! s = np.round(rng.random(40), 1); y = rng.random(40) < 0.4
//! roc_auc_score(y, s), average_precision_score(y, s)
//! brier_score_loss([1, 0, 0, 1, 1], [0.8, 0.6, 0.3, 0.9, 0.2])
//! IsotonicRegression(out_of_bounds="clip").fit(x, t).predict(...)
//! ```

use approx::assert_abs_diff_eq;
use fanaroff_calibrate::*;
use ndarray::Array2;

const S: [f64; 40] = [
    0.6, 0.3, 0.0, 0.0, 0.8, 0.9, 0.6, 0.7, 0.5, 0.9, 0.8, 0.0, 0.9, 0.0, 0.7, 0.2, 0.9, 0.5, 0.3,
    0.4, 0.0, 0.1, 0.7, 0.6, 0.6, 0.4, 1.0, 1.0, 0.7, 0.7, 0.7, 0.4, 0.1, 0.7, 0.5, 0.3, 0.5, 0.9,
    0.9, 0.4,
];

fn y() -> Vec<bool> {
    let t = "FTFTTFTFTFFTFTTTFFTTFTTFTFTFTTFFFFFFFFFF";
    t.chars().map(|c| c == 'T').collect()
}

#[test]
fn auroc_matches_roc_auc_score_with_many_ties() {
    assert_abs_diff_eq!(
        auroc(&S, &y()).unwrap(),
        0.3670076726342711,
        epsilon = 1e-12
    );
}

#[test]
fn aupr_matches_average_precision_score_with_many_ties() {
    assert_abs_diff_eq!(aupr(&S, &y()).unwrap(), 0.3763197910549062, epsilon = 1e-12);
}

#[test]
fn brier_is_twice_the_binary_brier_score_loss() {
    // brier_score_loss = mean (p1 - y)^2 = 0.228; the K-class sum counts
    // (p0 - 1[y=0])^2 = (p1 - y)^2 twice.
    let p1 = [0.8, 0.6, 0.3, 0.9, 0.2];
    let y = [1, 0, 0, 1, 1];
    let p = Array2::from_shape_fn((5, 2), |(i, k)| if k == 1 { p1[i] } else { 1.0 - p1[i] });
    assert_abs_diff_eq!(brier(p.view(), &y).unwrap(), 2.0 * 0.228, epsilon = 1e-12);
}

#[test]
fn isotonic_matches_sklearn() {
    // x = 0.1 0.2 0.2 0.3 0.5 0.7 (as p1), t = 1 0 1 0 1 1 (as 1[y = 1]).
    // sklearn predicts 0.5 0.5 0.5 0.75 1 1 at 0.05 0.15 0.2 0.4 0.6 0.9,
    // i.e. fitted 0.5 at 0.1, 0.2, 0.3 and 1 at 0.5, 0.7, linear in between.
    let x = [0.1, 0.2, 0.2, 0.3, 0.5, 0.7];
    let y = [1, 0, 1, 0, 1, 1];
    let p = Array2::from_shape_fn((6, 2), |(i, k)| if k == 1 { x[i] } else { 1.0 - x[i] });
    let iso = IsotonicRegression::fit(p.view(), &y).unwrap();
    assert_eq!(iso.x[1], vec![0.1, 0.2, 0.3, 0.5, 0.7]);
    for (got, want) in iso.y[1].iter().zip([0.5, 0.5, 0.5, 1.0, 1.0]) {
        assert_abs_diff_eq!(*got, want, epsilon = 1e-12);
    }
}
