//! A finished run folder opened again with `SavedRun`: its predictive
//! reproduces the record's test error exactly, pruning and attention maps
//! work on it, and bad folders or images are errors.

use fanaroff_cli::{Experiment, RunOptions, SavedRun, as_nchw, run};
use fanaroff_prune::CriterionName;
use fanaroff_train::per_sample_error;
use ndarray::{Array4, ArrayD, IxDyn};
use std::path::PathBuf;

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fanaroff-saved-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn trained(tag: &str, kind: &str) -> PathBuf {
    let dir = temp_dir(tag).join("run");
    let text = format!(
        r#"
        name = "tiny"
        seed = 5
        data = {{ synthetic = 32 }}
        model = {{ kind = "{kind}" }}
        training = {{ epochs = 1, batch_size = 8, progress = false, log_epochs = false }}
        evaluation = {{ samples = 3, entropy_samples = 2 }}
        "#
    );
    run(
        &Experiment::from_toml(&text).unwrap(),
        &RunOptions::new(&dir),
    )
    .unwrap();
    dir
}

#[test]
fn the_predictive_of_a_saved_run_reproduces_its_record() {
    let dir = trained("bbb", "bbb_lenet");
    let saved = SavedRun::open(&dir).unwrap();
    assert!(saved.stochastic());
    let data = saved.data().unwrap();
    assert_eq!(data.test.len(), saved.record().counts[2]);
    // the runner scores the test set with `samples` draws seeded seed ^ 0x5eed
    let p = saved.predict(data.test.images(), 3, 5 ^ 0x5eed).unwrap();
    assert_eq!(p.shape(), &[3, data.test.len(), 2]);
    let errs = per_sample_error(p.view(), data.test.labels()).unwrap();
    let (mean, std) = fanaroff_core::mean_std(&errs);
    assert_eq!(mean, saved.record().metrics["test_error_mean"]);
    assert_eq!(std, saved.record().metrics["test_error_std"]);
    // deterministic by seed, and the draws differ
    let again = saved.predict(data.test.images(), 3, 5 ^ 0x5eed).unwrap();
    assert_eq!(p, again);
    let other = saved.predict(data.test.images(), 3, 1).unwrap();
    assert_ne!(p, other);
    assert_ne!(
        p.index_axis(ndarray::Axis(0), 0),
        p.index_axis(ndarray::Axis(0), 1)
    );
}

#[test]
fn a_saved_run_prunes_in_memory() {
    let dir = trained("prune", "bbb_lenet");
    let mut saved = SavedRun::open(&dir).unwrap();
    let images = saved.data().unwrap().test;
    let before = saved.predict(images.images(), 2, 0).unwrap();
    let report = saved.prune(CriterionName::Snr, 0.9).unwrap();
    assert!((report.sparsity() - 0.9).abs() < 0.01, "{report:?}");
    let after = saved.predict(images.images(), 2, 0).unwrap();
    assert_ne!(before, after);
    // the folder is unchanged: opening it again gives the dense model
    let fresh = SavedRun::open(&dir).unwrap();
    assert_eq!(fresh.predict(images.images(), 2, 0).unwrap(), before);
    assert!(saved.prune(CriterionName::Magnitude, 1.5).is_err());
}

#[test]
fn attention_maps_need_an_attention_run() {
    let dir = trained("lenet", "lenet");
    let saved = SavedRun::open(&dir).unwrap();
    assert!(!saved.stochastic());
    let test = saved.data().unwrap().test;
    // a deterministic model gives one draw whatever is asked
    assert_eq!(saved.predict(test.images(), 4, 0).unwrap().shape()[0], 1);
    let err = saved
        .attention_maps(test.images(), 0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not an attention net"), "{err}");

    let dir = trained("gated", "attention_net");
    let saved = SavedRun::open(&dir).unwrap();
    let maps = saved.attention_maps(test.images(), 0).unwrap();
    assert_eq!(maps.len(), 3);
    for m in &maps {
        assert_eq!(m.shape(), &[test.len(), 150, 150]);
        assert!(m.iter().all(|v| v.is_finite() && *v >= 0.0));
    }
}

#[test]
fn bad_folders_and_images_are_errors() {
    let tmp = temp_dir("bad");
    let err = SavedRun::open(tmp.join("missing"))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("no run record"), "{err}");
    std::fs::write(tmp.join("record.json"), "{ not json").unwrap();
    assert!(SavedRun::open(&tmp).is_err());

    let dir = trained("shape", "lenet");
    let saved = SavedRun::open(&dir).unwrap();
    let small = Array4::<u8>::zeros((2, 1, 20, 20));
    assert!(saved.predict(small.view(), 1, 0).is_err());
    let none = Array4::<u8>::zeros((0, 1, 150, 150));
    let err = saved.predict(none.view(), 1, 0).unwrap_err().to_string();
    assert!(err.contains("no images"), "{err}");
    std::fs::remove_file(dir.join("model.safetensors")).unwrap();
    let err = SavedRun::open(&dir).err().unwrap().to_string();
    assert!(err.contains("no trained weights"), "{err}");
}

#[test]
fn images_come_as_nhw_or_n1hw() {
    let a = as_nchw(ArrayD::zeros(IxDyn(&[3, 4, 5]))).unwrap();
    assert_eq!(a.shape(), &[3, 1, 4, 5]);
    let b = as_nchw(ArrayD::zeros(IxDyn(&[3, 1, 4, 5]))).unwrap();
    assert_eq!(b.shape(), &[3, 1, 4, 5]);
    for bad in [vec![3, 2, 4, 5], vec![4, 5], vec![1, 1, 1, 1, 1]] {
        let err = as_nchw(ArrayD::zeros(IxDyn(&bad))).unwrap_err().to_string();
        assert!(err.contains("expected [N, H, W]"), "{err}");
    }
}
