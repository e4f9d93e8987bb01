//! The consumer's view of the two crates: labels as documented, metrics with
//! their stated conventions, determinism by seed.

use fanaroff_consumer::{galaxies, made_up_probabilities, score};
use ndarray::Array2;

#[test]
fn uniform_probabilities_score_as_documented() {
    let data = galaxies(24, 3).unwrap();
    assert_eq!(data.len(), 24);
    assert_eq!(data.class_counts(), vec![12, 12], "half FRI, half FRII");
    let p = Array2::from_elem((24, 2), 0.5);
    let s = score(p.view(), data.labels()).unwrap();
    // Ties go to class 0, so the accuracy is the FRI fraction; one bin
    // holds everything at confidence 0.5.
    assert_eq!(s.accuracy, 0.5);
    assert!(s.ece.abs() < 1e-12, "{s:?}");
    assert!((s.nll - std::f64::consts::LN_2).abs() < 1e-12, "{s:?}");
    assert!((s.brier - 0.5).abs() < 1e-12, "{s:?}");
}

#[test]
fn made_up_probabilities_are_valid_deterministic_and_informative() {
    let data = galaxies(40, 11).unwrap();
    let p = made_up_probabilities(&data);
    assert_eq!(p, made_up_probabilities(&galaxies(40, 11).unwrap()));
    let s = score(p.view(), data.labels()).unwrap();
    assert!((0.0..=1.0).contains(&s.ece), "{s:?}");
    // One feature separates these bright, resolved sources well (about 95 %
    // on 200 images), and it beats the uniform guess's NLL of ln 2.
    assert!(s.accuracy > 0.85, "{s:?}");
    assert!(s.nll < std::f64::consts::LN_2, "{s:?}");
}

#[test]
fn bad_probabilities_are_errors() {
    let data = galaxies(4, 0).unwrap();
    let p = Array2::from_elem((4, 2), 0.7); // rows sum to 1.4
    assert!(score(p.view(), data.labels()).is_err());
}
