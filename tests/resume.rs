//! A run killed in the middle of an epoch and resumed from its checkpoint
//! folder ends with exactly the weights, buffers and history of an
//! uninterrupted run: for a BBB model (ELBO step, plateau schedule that
//! changes the rate) and for a model with batch normalisation.

mod common;

use fanaroff::bayes::{BayesLinear, Elbo, ElboStep, VariationalConfig};
use fanaroff::nn::{
    Activation, BatchNorm2d, Conv2d, Conv2dConfig, Flatten, Linear, LinearConfig, Module,
    Sequential,
};
use fanaroff::train::{
    BatchInfo, Callback, History, Loader, ScheduleConfig, TrainConfig, Trainer, Validation,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::path::Path;

/// Panics at one (epoch, step): a kill in the middle of an epoch.
struct KillAt(Option<(usize, usize)>);

impl<M> Callback<M> for KillAt {
    fn name(&self) -> String {
        "kill".into()
    }
    fn after_optimizer_step(
        &mut self,
        _m: &mut M,
        info: &BatchInfo,
    ) -> fanaroff::train::Result<()> {
        if self.0 == Some((info.epoch, info.step)) {
            panic!("simulated kill");
        }
        Ok(())
    }
}

fn bbb() -> Sequential {
    let cfg = VariationalConfig::default();
    let mut rng = StdRng::seed_from_u64(1);
    Sequential::new()
        .push(
            "fc1",
            BayesLinear::new(LinearConfig::new(4, 16), &cfg, &mut rng).unwrap(),
        )
        .push("relu", Activation::Relu)
        .push(
            "fc2",
            BayesLinear::new(LinearConfig::new(16, 2), &cfg, &mut rng).unwrap(),
        )
}

fn batchnorm() -> Sequential {
    let mut rng = StdRng::seed_from_u64(2);
    Sequential::new()
        .push(
            "conv",
            Conv2d::new(Conv2dConfig::new(2, 4, 3).padding(1), &mut rng).unwrap(),
        )
        .push("bn", BatchNorm2d::new(4).unwrap())
        .push("relu", Activation::Relu)
        .push("flatten", Flatten)
        .push(
            "fc",
            Linear::new(LinearConfig::new(4 * 6 * 6, 2), &mut rng).unwrap(),
        )
}

fn config(dir: &Path) -> TrainConfig {
    TrainConfig::default()
        .epochs(6)
        .batch_size(8)
        .adam(2e-2)
        .seed(7)
        // patience 0: the rate changes during the run, so its state matters
        .schedule(Some(ScheduleConfig::Plateau {
            factor: 0.5,
            patience: 0,
            threshold: 0.5,
            min_lr: 0.0,
        }))
        .checkpoint_dir(dir)
        .progress(false)
        .log_epochs(false)
}

fn fit<M: Module + 'static>(
    model: &mut M,
    cfg: TrainConfig,
    bayes: bool,
    train: &dyn Loader,
    val: &dyn Loader,
    kill: Option<(usize, usize)>,
) -> fanaroff::train::Result<History> {
    let t = Trainer::new(cfg)?
        .validation(Validation::new(val))
        .callback(KillAt(kill));
    let mut t = if bayes {
        t.step(ElboStep::new(Elbo::default().temperature(0.1)).unwrap())
    } else {
        t
    };
    t.fit(model, train)
}

fn check_resume(
    make: fn() -> Sequential,
    bayes: bool,
    train: &dyn Loader,
    val: &dyn Loader,
    name: &str,
) {
    let dir_a = common::tmp(&format!("{name}-a"));
    let mut a = make();
    let hist_a = fit(&mut a, config(&dir_a), bayes, train, val, None).unwrap();
    assert_eq!(hist_a.records.len(), 6);
    assert!(
        hist_a.records.iter().any(|r| r.lr < 2e-2),
        "plateau never reduced the rate"
    );

    // killed in the 2nd minibatch of epoch 4
    let dir_b = common::tmp(&format!("{name}-b"));
    let killed = std::thread::scope(|s| {
        s.spawn(|| fit(&mut make(), config(&dir_b), bayes, train, val, Some((3, 1))))
            .join()
    });
    assert!(killed.is_err(), "the run should have been killed");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir_b.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["epochs_done"], 3);
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

    // resume with a new model and a new trainer
    let mut c = make();
    let hist_c = fit(&mut c, config(&dir_b).resume(true), bayes, train, val, None).unwrap();
    assert_eq!(
        common::state(&a),
        common::state(&c),
        "{name}: resumed weights or buffers differ"
    );
    assert_eq!(hist_a.best_epoch, hist_c.best_epoch);
    for (ra, rc) in hist_a.records.iter().zip(&hist_c.records) {
        assert_eq!(
            (ra.epoch, ra.lr, &ra.metrics),
            (rc.epoch, rc.lr, &rc.metrics)
        );
    }
    // resuming a finished run is a no-op with the same (best) weights
    let mut d = make();
    fit(&mut d, config(&dir_b).resume(true), bayes, train, val, None).unwrap();
    assert_eq!(common::state(&a), common::state(&d));
    // other settings are refused, naming the setting
    let changed = [
        (config(&dir_b).resume(true).seed(8), "seed"),
        (config(&dir_b).resume(true).batch_size(4), "batch_size"),
    ];
    for (cfg, setting) in changed {
        let err = fit(&mut make(), cfg, bayes, train, val, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains(setting), "{err}");
    }
    let csv = std::fs::read_to_string(dir_b.join("history.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7);
    for d in [dir_a, dir_b] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn resume_after_kill_is_bit_identical_for_bbb() {
    let (train, val) = (common::blobs(60, 4, 0, 2.5), common::blobs(20, 4, 1, 2.5));
    check_resume(bbb, true, &train, &val, "bbb");
}

#[test]
fn resume_after_kill_is_bit_identical_with_batchnorm() {
    let (train, val) = (common::images(60, 2, 6, 0), common::images(20, 2, 6, 1));
    let bn = batchnorm();
    assert_eq!(bn.named_buffers_len(), 2);
    check_resume(batchnorm, false, &train, &val, "batchnorm");
}

trait BufferCount {
    fn named_buffers_len(&self) -> usize;
}

impl<M: Module> BufferCount for M {
    fn named_buffers_len(&self) -> usize {
        let mut n = 0;
        self.visit_buffers("", &mut |_, _| n += 1);
        n
    }
}

#[test]
fn a_changed_objective_is_refused_on_resume() {
    let (train, val) = (common::blobs(20, 4, 0, 1.0), common::blobs(10, 4, 1, 1.0));
    let dir = common::tmp("objective");
    let run = |t: f64| {
        Trainer::new(config(&dir).epochs(1).resume(true))?
            .step(ElboStep::new(Elbo::default().temperature(t)).unwrap())
            .validation(Validation::new(&val))
            .fit(&mut bbb(), &train)
    };
    run(0.1).unwrap();
    let err = run(0.2).unwrap_err().to_string();
    assert!(err.contains("temperature"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
