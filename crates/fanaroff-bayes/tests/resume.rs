//! A run killed in the middle of an epoch and resumed with `resume = true`
//! ends with exactly the weights, optimiser state and history of an
//! uninterrupted run; checkpoint files are never left half-written.

use fanaroff_bayes::{
    BayesLinear, BayesModel, BayesSequential, Elbo, Plateau, TrainConfig, TrainData, Trainer,
    VariationalConfig,
};
use fanaroff_nn::{Activation, ModuleExt};
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

fn model() -> BayesSequential {
    let cfg = VariationalConfig::default();
    let mut rng = StdRng::seed_from_u64(1);
    BayesSequential::new()
        .linear("fc1", BayesLinear::new(4, 16, &cfg, &mut rng).unwrap())
        .plain("relu", Activation::Relu)
        .linear("fc2", BayesLinear::new(16, 2, &cfg, &mut rng).unwrap())
}

fn data(n: usize, seed: u64, noise: f32) -> TrainData {
    let mut rng = StdRng::seed_from_u64(seed);
    let y: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let x = ArrayD::from_shape_fn(IxDyn(&[n, 4]), |i| {
        let c = if y[i[0]] == 1 { 0.8 } else { -0.8 };
        c * (i[1] as f32 - 1.5) / 1.5 + rng.random_range(-noise..noise)
    });
    TrainData::new(x, y).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fanaroff-bayes-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn config(dir: &PathBuf) -> TrainConfig {
    TrainConfig::default()
        .epochs(6)
        .batch_size(8)
        .lr(2e-2)
        .seed(7)
        .elbo(Elbo::default().temperature(0.1))
        // patience 0: the rate changes during the run, so its state matters
        .plateau(Some(Plateau {
            patience: 0,
            factor: 0.5,
            threshold: 0.5,
            ..Plateau::default()
        }))
        .checkpoint_dir(dir)
        .progress(false)
        .log_epochs(false)
}

fn params(m: &BayesSequential) -> Vec<(String, Vec<f32>)> {
    m.named_parameters()
        .into_iter()
        .map(|(n, t)| (n, t.to_vec()))
        .collect()
}

#[test]
fn resume_after_kill_gives_the_uninterrupted_weights() {
    let (train, val) = (data(60, 0, 2.5), data(20, 1, 2.5));
    // an identity "augmentation" that lets the test kill the run mid-epoch
    let calls = AtomicUsize::new(0);
    let kill_at = AtomicUsize::new(usize::MAX);
    let aug = |x: ArrayViewD<'_, f32>, _r: &mut StdRng| -> ArrayD<f32> {
        let c = calls.fetch_add(1, Ordering::SeqCst);
        if c == kill_at.load(Ordering::SeqCst) {
            panic!("simulated kill");
        }
        x.to_owned()
    };

    // uninterrupted
    let dir_a = tmp("a");
    let mut a = model();
    let hist_a = Trainer::new(config(&dir_a))
        .unwrap()
        .fit(&mut a, &train, Some(&val), Some(&aug))
        .unwrap();
    assert_eq!(hist_a.records.len(), 6);
    assert!(
        hist_a.records.iter().any(|r| r.lr < 2e-2),
        "plateau never reduced the rate: {:?}",
        hist_a.records
    );

    // killed in the 2nd minibatch of epoch 4 (8 minibatches per epoch)
    let dir_b = tmp("b");
    calls.store(0, Ordering::SeqCst);
    kill_at.store(3 * 8 + 1, Ordering::SeqCst);
    let killed = std::thread::scope(|s| {
        s.spawn(|| {
            let mut b = model();
            Trainer::new(config(&dir_b))
                .unwrap()
                .fit(&mut b, &train, Some(&val), Some(&aug))
        })
        .join()
    });
    assert!(killed.is_err(), "the run should have been killed");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir_b.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["epochs_done"], 3);
    // no temporary files left behind, exactly one epoch checkpoint
    let names: Vec<String> = std::fs::read_dir(&dir_b)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
    assert_eq!(
        names.iter().filter(|n| n.starts_with("ckpt-")).count(),
        1,
        "{names:?}"
    );

    // resume in a fresh process-like setting: a new model, new trainer
    kill_at.store(usize::MAX, Ordering::SeqCst);
    let mut c = model();
    let hist_c = Trainer::new(config(&dir_b).resume(true))
        .unwrap()
        .fit(&mut c, &train, Some(&val), Some(&aug))
        .unwrap();
    assert_eq!(
        params(&a),
        params(&c),
        "resumed weights differ from the uninterrupted run"
    );
    assert_eq!(hist_a.best_epoch, hist_c.best_epoch);
    for (ra, rc) in hist_a.records.iter().zip(&hist_c.records) {
        assert_eq!(
            (ra.epoch, ra.lr, ra.loss, ra.val_nll),
            (rc.epoch, rc.lr, rc.loss, rc.val_nll)
        );
    }
    // resuming a finished run is a no-op that returns the same weights
    let mut d = model();
    Trainer::new(config(&dir_b).resume(true))
        .unwrap()
        .fit(&mut d, &train, Some(&val), None)
        .unwrap();
    assert_eq!(params(&a), params(&d));
    // a different seed is refused
    let mut e = model();
    assert!(
        Trainer::new(config(&dir_b).resume(true).seed(8))
            .unwrap()
            .fit(&mut e, &train, Some(&val), None)
            .is_err()
    );
    // the history files exist and have a row per epoch
    let csv = std::fs::read_to_string(dir_b.join("history.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7);
    for d in [dir_a, dir_b] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn training_learns_and_validates_inputs() {
    let (train, val) = (data(60, 2, 0.7), data(30, 3, 0.7));
    let mut m = model();
    let cfg = TrainConfig::default()
        .epochs(15)
        .batch_size(10)
        .lr(2e-2)
        .elbo(Elbo::default().temperature(0.1))
        .early_stopping(Some(50))
        .progress(false)
        .log_epochs(false);
    let h = Trainer::new(cfg)
        .unwrap()
        .fit(&mut m, &train, Some(&val), None)
        .unwrap();
    let last = h.records.last().unwrap();
    assert!(last.val_acc.unwrap() > 0.85, "{last:?}");
    assert!(m.is_stochastic());
    // bad inputs and settings
    assert!(TrainData::new(ArrayD::zeros(IxDyn(&[0, 4])), vec![]).is_err());
    assert!(TrainData::new(ArrayD::zeros(IxDyn(&[2, 4])), vec![0]).is_err());
    assert!(TrainData::new(ArrayD::from_elem(IxDyn(&[1, 4]), f32::NAN), vec![0]).is_err());
    assert!(TrainConfig::default().epochs(0).check().is_err());
    assert!(TrainConfig::default().lr(-1.0).check().is_err());
    assert!(TrainConfig::default().resume(true).check().is_err());
    let bad_labels = TrainData::new(ArrayD::zeros(IxDyn(&[2, 4])), vec![0, 5]).unwrap();
    let cfg = TrainConfig::default()
        .epochs(1)
        .progress(false)
        .log_epochs(false);
    assert!(
        Trainer::new(cfg)
            .unwrap()
            .fit(&mut model(), &bad_labels, None, None)
            .is_err()
    );
}
