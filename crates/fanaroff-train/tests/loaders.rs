//! Loaders: augmentation sees raw values before scaling, results depend on
//! the seed only, any channel count, and the two-stream loader pairs a
//! labelled source with unlabelled target examples.

use fanaroff_data::transform::Augment;
use fanaroff_data::{Scaling, Standardize, SyntheticConfig};
use fanaroff_train::{ArrayLoader, Loader, TwoStream};
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use rand::rngs::StdRng;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

#[test]
fn augmentation_sees_raw_values_then_scaling_applies() {
    // u8 images: raw values 0 ... 255; record the largest value augmentation sees
    let x = ArrayD::from_shape_fn(IxDyn(&[4, 2, 5, 5]), |i| (i[0] * 50 + i[1] * 5) as u8);
    let seen = Arc::new(AtomicU32::new(0));
    let s2 = Arc::clone(&seen);
    let loader = ArrayLoader::new(x, vec![0, 1, 0, 1], 2)
        .unwrap()
        .with_scaling(Scaling::Unit)
        .with_augment_fn(Arc::new(move |ex: ArrayViewD<'_, f32>, _r: &mut StdRng| {
            let m = ex.iter().copied().fold(0.0f32, f32::max);
            s2.fetch_max(m as u32, Ordering::SeqCst);
            ex.mapv(|v| v + 1.0) // raw + 1, then scaled by 1/255
        }));
    let b = loader.batch(&[3, 1], 0, true).unwrap();
    assert_eq!(b.inputs.shape(), &[2, 2, 5, 5]);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        155,
        "augmentation saw scaled values"
    );
    assert_eq!(b.inputs.data()[[0, 1, 0, 0]], 156.0 / 255.0);
    assert_eq!(b.labels, vec![1, 1]);
    // without augmentation (validation): just scaled
    let plain = loader.batch(&[3], 0, false).unwrap();
    assert_eq!(plain.inputs.data()[[0, 1, 0, 0]], 155.0 / 255.0);
    assert_eq!(loader.example_shape(), vec![2, 5, 5]);
}

#[test]
fn image_augmentation_is_seeded_and_thread_independent() {
    let ds = SyntheticConfig::default().with_seed(2).generate(8).unwrap();
    let loader = ArrayLoader::from_dataset(&ds, Scaling::Standardize(Standardize::MIRABEST))
        .unwrap()
        .with_augment(Augment::default().with_rotation(180.0).check().unwrap());
    let idx = [5, 0, 7];
    let a = loader.batch(&idx, 11, true).unwrap().inputs.to_vec();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let b = one.install(|| loader.batch(&idx, 11, true).unwrap().inputs.to_vec());
    assert_eq!(a, b, "the thread count changed the batch");
    let c = loader.batch(&idx, 12, true).unwrap().inputs.to_vec();
    assert_ne!(a, c, "another seed should rotate differently");
    let plain = loader.batch(&idx, 11, false).unwrap().inputs.to_vec();
    assert_ne!(a, plain);
    // the un-augmented batch is exactly the scaled dataset
    let all = ds.to_f32(Scaling::Standardize(Standardize::MIRABEST));
    assert_eq!(
        loader.batch(&[5], 0, false).unwrap().inputs.to_vec(),
        all.index_axis(ndarray::Axis(0), 5)
            .iter()
            .copied()
            .collect::<Vec<_>>()
    );
}

#[test]
fn two_stream_pairs_source_and_target() {
    let src = ArrayLoader::new(
        ArrayD::<f32>::zeros(IxDyn(&[6, 3])),
        vec![0, 1, 0, 1, 0, 1],
        2,
    )
    .unwrap();
    let tgt_x = ArrayD::from_shape_fn(IxDyn(&[9, 3]), |i| (i[0] + 1) as f32);
    let tgt = ArrayLoader::new(tgt_x, vec![0; 9], 2).unwrap();
    let both = TwoStream::new(src, tgt).unwrap();
    assert_eq!(both.len(), 6);
    let a = both.batch(&[0, 1, 2, 3], 5, true).unwrap();
    let b = both.batch(&[0, 1, 2, 3], 5, true).unwrap();
    let t = a.target.clone().unwrap();
    assert_eq!(t.shape(), &[4, 3]);
    assert_eq!(
        t.to_vec(),
        b.target.unwrap().to_vec(),
        "same seed, same target draw"
    );
    // target rows are distinct target examples (drawn without replacement)
    let mut rows: Vec<i32> = t.data().outer_iter().map(|r| r[0] as i32).collect();
    rows.sort();
    rows.dedup();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|&r| (1..=9).contains(&r)));
    assert_eq!(a.labels, vec![0, 1, 0, 1]);
    // shapes must agree
    let other = ArrayLoader::new(ArrayD::<f32>::zeros(IxDyn(&[3, 4])), vec![0; 3], 2).unwrap();
    let src = ArrayLoader::new(ArrayD::<f32>::zeros(IxDyn(&[2, 3])), vec![0, 1], 2).unwrap();
    assert!(TwoStream::new(src, other).is_err());
}
