//! Conformal prediction sets equal MAPIE's on fixed probabilities
//! (`fixtures/conformal/mapie_sets.json`, made by
//! `fixtures/conformal/make_mapie_fixture.py` with MAPIE 1.6.0): LAC sets
//! and thresholds; APS thresholds and sets in MAPIE's three
//! `include_last_label` modes, given MAPIE's uniform numbers; RAPS
//! thresholds with the k_reg and lambda MAPIE chose, and its sets without
//! the last label.

use fanaroff_calibrate::{ConformalPredictor, ConformityScore, SplitConformal};
use ndarray::{Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;

struct Fixture {
    probs: Array2<f64>,
    labels: Vec<usize>,
    n_cal: usize,
    d: Value,
}

fn fixture() -> Fixture {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/conformal/mapie_sets.json"
    );
    let text = std::fs::read_to_string(path).expect("the MAPIE fixture");
    let d: Value = serde_json::from_str(&text).unwrap();
    let rows: Vec<Vec<f64>> = serde_json::from_value(d["probs"].clone()).unwrap();
    let k = rows[0].len();
    Fixture {
        probs: Array2::from_shape_fn((rows.len(), k), |(i, j)| rows[i][j]),
        labels: serde_json::from_value(d["labels"].clone()).unwrap(),
        n_cal: d["n_cal"].as_u64().unwrap() as usize,
        d,
    }
}

fn get<T: serde::de::DeserializeOwned>(case: &Value, key: &str) -> T {
    serde_json::from_value(case[key].clone()).unwrap_or_else(|e| panic!("{key}: {e}"))
}

/// MAPIE's uniform `v` in its score `cumsum - v p_y` is our `1 - v`.
fn ours(v: &[f64]) -> Vec<f64> {
    v.iter().map(|v| 1.0 - v).collect()
}

/// Sets with `u = 1` everywhere (no class crosses the threshold), with
/// MAPIE's rule for `include_last_label = False`: an empty set keeps the
/// top class.
fn sets_without_last(cp: &ConformalPredictor, test: ArrayView2<'_, f64>) -> Vec<Vec<usize>> {
    let sets = cp
        .predict_sets_with_uniforms(test, &vec![1.0; test.nrows()])
        .unwrap();
    sets.into_iter()
        .zip(test.outer_iter())
        .map(|(s, row)| {
            if s.is_empty() {
                let top = (0..row.len()).fold(0, |b, k| if row[k] > row[b] { k } else { b });
                vec![top]
            } else {
                s
            }
        })
        .collect()
}

#[test]
fn lac_sets_equal_mapie() {
    let f = fixture();
    let (cal, test) = f.probs.view().split_at(Axis(0), f.n_cal);
    let mut rng = StdRng::seed_from_u64(0);
    let cases = f.d["cases"].as_array().unwrap();
    for case in cases {
        let alpha = case["alpha"].as_f64().unwrap();
        let want: Vec<Vec<usize>> = get(case, "sets");
        let cp = SplitConformal::new(ConformityScore::Lac, alpha).unwrap();
        let got = cp
            .calibrate(cal, &f.labels[..f.n_cal], &mut rng)
            .unwrap()
            .predict_sets(test, &mut rng)
            .unwrap();
        assert_eq!(got, want, "alpha {alpha}");
    }
    assert_eq!(cases.len(), 2);
}

#[test]
fn aps_thresholds_and_sets_equal_mapie_in_all_three_modes() {
    let f = fixture();
    let (cal, test) = f.probs.view().split_at(Axis(0), f.n_cal);
    let cases = f.d["aps_cases"].as_array().unwrap();
    for case in cases {
        let alpha: f64 = get(case, "alpha");
        let score = ConformityScore::Aps { randomised: true };
        let u = ours(&get::<Vec<f64>>(case, "u_cal"));
        let cp = SplitConformal::new(score, alpha)
            .unwrap()
            .calibrate_with_uniforms(cal, &f.labels[..f.n_cal], &u)
            .unwrap();
        for mode in ["false", "true", "randomized"] {
            let want: f64 = get(case, &format!("threshold_{mode}"));
            assert!((cp.thresholds()[0] - want).abs() < 1e-12, "alpha {alpha}");
        }
        let n = test.nrows();
        let with_last = cp.predict_sets_with_uniforms(test, &vec![0.0; n]).unwrap();
        let drawn = ours(&get::<Vec<f64>>(case, "u_test"));
        let randomised = cp.predict_sets_with_uniforms(test, &drawn).unwrap();
        let want = |mode: &str| get::<Vec<Vec<usize>>>(case, &format!("sets_{mode}"));
        assert_eq!(sets_without_last(&cp, test), want("false"), "{alpha}");
        assert_eq!(with_last, want("true"), "alpha {alpha}");
        assert_eq!(randomised, want("randomized"), "alpha {alpha}");
    }
    assert_eq!(cases.len(), 2);
}

#[test]
fn raps_thresholds_and_sets_without_the_last_label_equal_mapie() {
    let f = fixture();
    let test = f.probs.slice(ndarray::s![f.n_cal.., ..]);
    let cases = f.d["raps_cases"].as_array().unwrap();
    for case in cases {
        let alpha: f64 = get(case, "alpha");
        let rows: Vec<usize> = get(case, "cal_rows");
        let cal = f.probs.select(Axis(0), &rows);
        let labels: Vec<usize> = rows.iter().map(|&i| f.labels[i]).collect();
        let u = ours(&get::<Vec<f64>>(case, "u_cal"));
        // MAPIE chooses k_reg and lambda on its held-out rows for each
        // mode; the threshold must follow whichever it chose.
        for mode in ["false", "true", "randomized"] {
            let score = ConformityScore::Raps {
                lambda: get(case, &format!("lambda_{mode}")),
                k_reg: get(case, &format!("k_reg_{mode}")),
                randomised: true,
            };
            let cp = SplitConformal::new(score, alpha)
                .unwrap()
                .calibrate_with_uniforms(cal.view(), &labels, &u)
                .unwrap();
            let want: f64 = get(case, &format!("threshold_{mode}"));
            let got = cp.thresholds()[0];
            assert!((got - want).abs() < 1e-12, "alpha {alpha} {mode}");
            if mode == "false" {
                let sets: Vec<Vec<usize>> = get(case, "sets_false");
                assert_eq!(sets_without_last(&cp, test), sets, "alpha {alpha}");
            }
        }
    }
    assert_eq!(cases.len(), 2);
}

#[test]
fn explicit_uniforms_are_checked() {
    let f = fixture();
    let (cal, _) = f.probs.view().split_at(Axis(0), f.n_cal);
    let cp = SplitConformal::new(ConformityScore::Aps { randomised: true }, 0.1).unwrap();
    let labels = &f.labels[..f.n_cal];
    assert!(cp.calibrate_with_uniforms(cal, labels, &[0.5; 3]).is_err());
    let mut u = vec![0.5; f.n_cal];
    u[4] = 1.5;
    assert!(cp.calibrate_with_uniforms(cal, labels, &u).is_err());
    u[4] = f64::NAN;
    assert!(cp.calibrate_with_uniforms(cal, labels, &u).is_err());
}
