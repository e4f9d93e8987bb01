//! Augmentation and batching: determinism, coverage, thread independence.

use approx::assert_abs_diff_eq;
use fanaroff_data::transform::{Augment, rotate};
use fanaroff_data::{Dataset, Scaling, Standardize, SyntheticConfig};
use ndarray::Array4;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn small() -> Dataset {
    SyntheticConfig::default()
        .with_seed(2)
        .generate(23)
        .unwrap()
}

fn collect(ds: &Dataset, threads: usize) -> Vec<(Vec<usize>, Array4<f32>)> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        ds.batches(8)
            .unwrap()
            .shuffle(99)
            .scaling(Scaling::Standardize(Standardize::MIRABEST))
            .augment(
                Augment::default()
                    .with_rotation(180.0)
                    .with_flips(0.5, 0.5)
                    .with_shift(3.0)
                    .with_scale(0.9, 1.1)
                    .with_center_crop(100)
                    .with_circular_mask(50.0)
                    .check()
                    .unwrap(),
            )
            .map(|b| (b.indices, b.images))
            .collect()
    })
}

#[test]
fn batches_cover_everything_once_and_do_not_depend_on_threads() {
    let ds = small();
    let one = collect(&ds, 1);
    let two = collect(&ds, 2);
    assert_eq!(one.len(), 3);
    for ((ia, xa), (ib, xb)) in one.iter().zip(&two) {
        assert_eq!(ia, ib);
        assert_eq!(xa, xb);
        assert_eq!(&xa.shape()[1..], &[1, 100, 100]);
    }
    let mut all: Vec<usize> = one.iter().flat_map(|(i, _)| i.clone()).collect();
    assert_ne!(all, (0..23).collect::<Vec<_>>(), "shuffled");
    all.sort();
    assert_eq!(all, (0..23).collect::<Vec<_>>());
    // Different shuffle seed, different order.
    let other: Vec<usize> = ds
        .batches(8)
        .unwrap()
        .shuffle(100)
        .flat_map(|b| b.indices)
        .collect();
    assert_ne!(
        other,
        one.iter().flat_map(|(i, _)| i.clone()).collect::<Vec<_>>()
    );
    // drop_last
    assert_eq!(ds.batches(8).unwrap().drop_last(true).count(), 2);
    assert_eq!(ds.batches(8).unwrap().len(), 3);
    assert!(ds.batches(0).is_err());
}

#[test]
fn plain_batches_match_scaling() {
    let ds = small();
    let b = ds
        .batches(5)
        .unwrap()
        .scaling(Scaling::Symmetric)
        .next()
        .unwrap();
    let full = ds.to_f32(Scaling::Symmetric);
    for (k, &i) in b.indices.iter().enumerate() {
        assert_eq!(
            b.images.index_axis(ndarray::Axis(0), k),
            full.index_axis(ndarray::Axis(0), i)
        );
        assert_eq!(b.labels[k], ds.labels()[i]);
    }
    let x = ds.to_f32(Scaling::Unit);
    assert!(x.iter().all(|&v| (0.0..=1.0).contains(&v)));
    let s = Scaling::Standardize(Standardize::MIRABEST);
    assert_abs_diff_eq!(s.apply_pixel(255), (1.0 - 0.0031) / 0.0350, epsilon = 1e-4);
    assert!(Standardize::new(0.0, 0.0).is_err());
}

#[test]
fn rotation_preserves_flux_and_augment_is_seeded() {
    let ds = small();
    let img = ds.image(0).mapv(f32::from);
    // A smooth off-centre blob keeps its flux under rotation (bilinear
    // resampling conserves a smooth image's sum to well under 1 %).
    let blob = ndarray::Array2::from_shape_fn((150, 150), |(r, c)| {
        let (dy, dx) = (r as f32 - 60.0, c as f32 - 95.0);
        (-(dx * dx + dy * dy) / (2.0 * 16.0)).exp()
    });
    for angle in [17.0f32, 90.0, 233.0] {
        let r = rotate(blob.view(), angle);
        let rel = (r.sum() - blob.sum()).abs() / blob.sum();
        assert!(rel < 0.005, "angle {angle}: flux changed by {rel}");
    }
    // Images inside the inscribed circle stay in frame.
    let masked = fanaroff_data::transform::circular_mask(img.view(), 74.0);
    let r = rotate(masked.view(), 41.0);
    assert!((r.sum() - masked.sum()).abs() / masked.sum() < 0.05);
    let aug = Augment::default()
        .with_rotation(180.0)
        .with_shift(5.0)
        .check()
        .unwrap();
    let a = aug.apply(img.view(), &mut StdRng::seed_from_u64(1));
    let b = aug.apply(img.view(), &mut StdRng::seed_from_u64(1));
    let c = aug.apply(img.view(), &mut StdRng::seed_from_u64(2));
    assert_eq!(a, b);
    assert_ne!(a, c);
    let batch = ds.to_f32(Scaling::Raw);
    let x = aug.apply_batch(batch.view(), &mut StdRng::seed_from_u64(4));
    let y = aug.apply_batch(batch.view(), &mut StdRng::seed_from_u64(4));
    assert_eq!(x, y);
    // Identity augmentation leaves images unchanged.
    let id = Augment::default().check().unwrap();
    assert_eq!(id.apply(img.view(), &mut StdRng::seed_from_u64(0)), img);
    assert!(Augment::default().with_rotation(200.0).check().is_err());
    assert!(Augment::default().with_scale(0.0, 1.0).check().is_err());
}

#[test]
fn crop_larger_than_a_side_is_capped_consistently() {
    let aug = Augment::default()
        .with_center_crop(25)
        .with_rotation(30.0)
        .check()
        .unwrap();
    assert_eq!(aug.output_size(20, 30), (20, 20));
    let x = Array4::<f32>::ones((2, 1, 20, 30));
    let y = aug.apply_batch(x.view(), &mut StdRng::seed_from_u64(0));
    assert_eq!(y.shape(), &[2, 1, 20, 20]);
}
