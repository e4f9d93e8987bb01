//! Perturbations: seeded, clipped, with the statistics they promise.

use fanaroff_perturb::{
    GaussianSnr, Perturbation, Poisson, PsfBlur, Rotation, Shift, perturb_batch,
};
use ndarray::{Array4, s};

fn constant(v: f32, n: usize, side: usize) -> Array4<f32> {
    Array4::from_elem((n, 1, side, side), v)
}

#[test]
fn every_perturbation_is_reproducible_by_seed_and_stays_in_range() {
    let mut img = constant(0.0, 3, 24);
    img.slice_mut(s![.., .., 8..16, 8..16]).fill(250.0);
    let ps: Vec<Box<dyn Perturbation>> = vec![
        Box::new(Poisson::new(0.5).unwrap()),
        Box::new(GaussianSnr::new(2.0).unwrap()),
        Box::new(PsfBlur::new(3.0).unwrap()),
        Box::new(Shift::new(3.0).unwrap()),
        Box::new(Rotation::new(30.0).unwrap()),
    ];
    for p in &ps {
        let a = perturb_batch(p.as_ref(), img.view(), 11).unwrap();
        assert_eq!(
            a,
            perturb_batch(p.as_ref(), img.view(), 11).unwrap(),
            "{}",
            p.name()
        );
        assert!(a.iter().all(|v| (0.0..=255.0).contains(v)), "{}", p.name());
        assert_ne!(a, img, "{} changed nothing", p.name());
    }
    // random perturbations differ between seeds and between images of a batch
    let g = GaussianSnr::new(2.0).unwrap();
    let (a, b) = (
        perturb_batch(&g, img.view(), 1).unwrap(),
        perturb_batch(&g, img.view(), 2).unwrap(),
    );
    assert_ne!(a, b);
    assert_ne!(a.slice(s![0, .., .., ..]), a.slice(s![1, .., .., ..]));
}

#[test]
fn gaussian_noise_has_the_promised_standard_deviation() {
    // constant 100 image, peak SNR 10: sigma = 10, far from the clipping bounds
    let img = constant(100.0, 4, 64);
    let out = perturb_batch(&GaussianSnr::new(10.0).unwrap(), img.view(), 3).unwrap();
    let d: Vec<f64> = out.iter().map(|v| f64::from(v - 100.0)).collect();
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    assert!(mean.abs() < 0.2, "{mean}");
    assert!((sd - 10.0).abs() < 0.3, "{sd}");
}

#[test]
fn poisson_noise_keeps_the_mean_and_shrinks_with_exposure() {
    let img = constant(40.0, 4, 64);
    let sd_at = |scale: f64| {
        let out = perturb_batch(&Poisson::new(scale).unwrap(), img.view(), 5).unwrap();
        let n = out.len() as f64;
        let mean = out.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let var = out
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        assert!((mean - 40.0).abs() < 0.5, "mean {mean} at scale {scale}");
        var.sqrt()
    };
    // Var[k / s] = v / s: sd sqrt(40) at s = 1, sqrt(4) at s = 10
    let (sd1, sd10) = (sd_at(1.0), sd_at(10.0));
    assert!((sd1 - 40f64.sqrt()).abs() < 0.3, "{sd1}");
    assert!((sd10 - 2.0).abs() < 0.1, "{sd10}");
    // the sky stays dark
    let dark = perturb_batch(&Poisson::new(1.0).unwrap(), constant(0.0, 1, 8).view(), 0).unwrap();
    assert!(dark.iter().all(|&v| v == 0.0));
}

#[test]
fn psf_blur_conserves_flux_and_has_its_fwhm() {
    let mut img = constant(0.0, 1, 41);
    img[[0, 0, 20, 20]] = 200.0;
    let fwhm = 6.0;
    let out = perturb_batch(&PsfBlur::new(fwhm).unwrap(), img.view(), 0).unwrap();
    assert!((out.sum() - 200.0).abs() < 0.01, "{}", out.sum());
    let peak = out[[0, 0, 20, 20]];
    // the profile falls to half the peak at fwhm / 2 = 3 px from the centre
    let half = out[[0, 0, 20, 23]];
    assert!((half / peak - 0.5).abs() < 0.02, "{}", half / peak);
    assert_eq!(out[[0, 0, 20, 17]], half);
}

#[test]
fn bad_settings_and_bad_images_are_errors() {
    assert!(Poisson::new(0.0).is_err());
    assert!(Poisson::new(f64::NAN).is_err());
    assert!(GaussianSnr::new(-1.0).is_err());
    assert!(PsfBlur::new(0.0).is_err());
    assert!(Shift::new(-1.0).is_err());
    assert!(Rotation::new(f32::INFINITY).is_err());
    let g = GaussianSnr::new(5.0).unwrap();
    let mut bad = constant(1.0, 1, 4);
    bad[[0, 0, 1, 1]] = f32::NAN;
    assert!(
        perturb_batch(&g, bad.view(), 0)
            .unwrap_err()
            .to_string()
            .contains("non-finite")
    );
    assert!(
        perturb_batch(&g, constant(1.0, 0, 4).view(), 0)
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
    // no shift at all is the identity
    let img = constant(7.0, 1, 5);
    assert_eq!(
        perturb_batch(&Shift::new(0.0).unwrap(), img.view(), 9).unwrap(),
        img
    );
}

#[test]
fn example_seeds_are_the_standard_splitmix64_finaliser() {
    // example 1 of seed 0 is mix64(GOLDEN_GAMMA): the first output of the
    // SplitMix64 stream from state 0 (an older copy had a wrong multiplier)
    assert_eq!(fanaroff_perturb::example_seed(0, 1), 0xE220_A839_7B1D_CDAF);
    // seed ^ i * GOLDEN_GAMMA: example 2 of seed 0 is the stream's second output
    assert_eq!(fanaroff_perturb::example_seed(0, 2), 0x6E78_9E6A_A1B9_65F4);
    assert_ne!(
        fanaroff_perturb::example_seed(7, 0),
        fanaroff_perturb::example_seed(7, 1)
    );
}
