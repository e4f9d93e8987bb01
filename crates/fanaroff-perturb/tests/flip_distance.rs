//! The paper's latent quantity: distance to the misclassified copy over the
//! distance between class centroids.

use fanaroff_data::Scaling;
use fanaroff_nn::{Flatten, Linear, LinearConfig, Sequential};
use fanaroff_perturb::{RobustnessStudy, flip_distance};
use ndarray::Array4;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Flatten, then a head: the latent features are the flattened pixels.
fn flat_model(pixels: usize) -> Sequential {
    let mut rng = StdRng::seed_from_u64(3);
    Sequential::new().push("flat", Flatten).push(
        "fc",
        Linear::new(LinearConfig::new(pixels, 2), &mut rng).unwrap(),
    )
}

fn images(rows: &[[f32; 2]]) -> Array4<f32> {
    Array4::from_shape_fn((rows.len(), 1, 1, 2), |(n, _, _, j)| rows[n][j])
}

#[test]
fn by_hand_on_flattened_pixels() {
    let m = flat_model(2);
    // pairs (0,0)->(3,4) and (1,1)->(1,2): distances 5 and 1, mean 3
    let clean = images(&[[0.0, 0.0], [1.0, 1.0]]);
    let flipped = images(&[[3.0, 4.0], [1.0, 2.0]]);
    // class 0 at (0,0) and (2,0): centroid (1,0); class 1 at (1,4): distance 4
    let reference = images(&[[0.0, 0.0], [1.0, 4.0], [2.0, 0.0]]);
    let d = flip_distance(&m, &clean, &flipped, &reference, &[0, 1, 0], 0).unwrap();
    assert!((d.mean - 3.0).abs() < 1e-6, "{d:?}");
    assert!((d.centroids - 4.0).abs() < 1e-6, "{d:?}");
    assert!((d.normalised() - 0.75).abs() < 1e-6);
    assert_eq!(d.pairs, 2);
}

#[test]
fn bad_inputs_are_errors() {
    let m = flat_model(2);
    let one = images(&[[0.0, 0.0]]);
    let empty = Array4::<f32>::zeros((0, 1, 1, 2));
    assert!(flip_distance(&m, &empty, &empty, &one, &[0], 0).is_err());
    // a class missing from the reference
    assert!(flip_distance(&m, &one, &one, &one, &[0], 0).is_err());
    // labels that do not match the reference
    assert!(flip_distance(&m, &one, &one, &one, &[0, 1], 0).is_err());
}

#[test]
fn the_study_measures_the_flips_its_attacks_find() {
    // a 4-pixel linear model; PGD at the largest budget flips some images
    let m = flat_model(4);
    let raw = Array4::from_shape_fn((12, 1, 2, 2), |(n, _, i, j)| {
        (40 + 15 * n + 30 * i + 10 * j) as f32 % 255.0
    });
    let labels: Vec<usize> = (0..12).map(|n| usize::from(n >= 6)).collect();
    let study = RobustnessStudy {
        snr: vec![],
        draws: 1,
        pgd_eps: vec![64.0, 255.0],
        pgd_steps: 5,
        eot: 1,
        one_pixel: 0,
    };
    let rows = study
        .run(&m, false, &raw, &labels, Scaling::Symmetric, 0)
        .unwrap();
    let pgd = rows
        .iter()
        .find(|r| r.test == "pgd_linf" && r.level == 255.0)
        .unwrap();
    assert!(pgd.attack_success.unwrap() > 0.0, "{rows:?}");
    let flip = rows.iter().find(|r| r.test == "flip_distance").unwrap();
    let (d, n) = (
        flip.latent_distance.unwrap(),
        flip.normalised_distance.unwrap(),
    );
    assert!(d > 0.0 && n > 0.0, "{flip:?}");
    assert!(flip.attacked.unwrap() >= 1);
    // every flipped image counts once, however many budgets flip it
    let correct = pgd.attacked.unwrap();
    assert!(flip.attacked.unwrap() <= correct);
}
