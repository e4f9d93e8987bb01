//! The attention study code's protocol through an experiment file: several
//! passes per epoch, and test metrics logged along the way without
//! touching training or selection; grouped test draws change no metric.

use fanaroff_cli::{Experiment, RunOptions, RunRecord, run};
use std::path::PathBuf;

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fanaroff-curve-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn experiment(training: &str, evaluation: &str) -> Experiment {
    Experiment::from_toml(&format!(
        r#"
        name = "curve"
        seed = 5
        data = {{ synthetic = 32 }}
        model = {{ kind = "lenet" }}
        training = {{ epochs = 3, batch_size = 8, progress = false, log_epochs = false{training} }}
        evaluation = {{ samples = 1, entropy_samples = 1{evaluation} }}
        "#
    ))
    .unwrap()
}

/// Header and rows of a run's history.
fn history(dir: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(dir.join("ckpt/history.csv")).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (head, rows)
}

/// The plain run and one with `training` / `evaluation` additions, in
/// `tmp/plain` and `tmp/other`.
fn plain_and(
    tmp: &std::path::Path,
    training: &str,
    evaluation: &str,
) -> (RunRecord, RunRecord, Experiment) {
    let plain = run(&experiment("", ""), &RunOptions::new(tmp.join("plain"))).unwrap();
    let exp = experiment(training, evaluation);
    let other = run(&exp, &RunOptions::new(tmp.join("other"))).unwrap();
    (plain, other, exp)
}

#[test]
fn test_metrics_at_chosen_epochs_leave_training_alone() {
    let tmp = temp_dir("probe");
    let (plain, probed, probed_exp) = plain_and(&tmp, "", ", test_at_epochs = [1, 3]");
    assert_eq!(
        plain.metrics, probed.metrics,
        "same training, same selection"
    );
    let (head, rows) = history(&tmp.join("other"));
    let col = head
        .iter()
        .position(|c| c == "test_acc")
        .expect("a test_acc column");
    let acc: Vec<&str> = rows.iter().map(|r| r[col].as_str()).collect();
    assert!(
        acc[0].parse::<f64>().is_ok() && acc[2].parse::<f64>().is_ok(),
        "{acc:?}"
    );
    assert!(
        acc[1].parse::<f64>().is_err(),
        "epoch 2 is not probed: {acc:?}"
    );
    // the key round-trips through the run's experiment.toml
    let again = Experiment::from_toml(&probed_exp.to_toml().unwrap()).unwrap();
    assert_eq!(again.evaluation.test_at_epochs, [1, 3]);
}

#[test]
fn passes_per_epoch_trains_on_more_batches_per_epoch() {
    let tmp = temp_dir("passes");
    let (one, four, exp) = plain_and(&tmp, ", passes_per_epoch = 4", "");
    let (_, rows) = history(&tmp.join("other"));
    assert_eq!(rows.len(), 3, "still three epochs, one validation each");
    assert_ne!(one.metrics, four.metrics);
    let again = Experiment::from_toml(&exp.to_toml().unwrap()).unwrap();
    assert_eq!(again.training.passes_per_epoch, 4);
    assert!(
        Experiment::from_toml("data = { synthetic = 32 }\ntraining = { passes_per_epoch = 0 }\n")
            .is_err()
    );
}

#[test]
fn grouped_test_draws_give_the_same_metrics() {
    let tmp = temp_dir("groups");
    let bbb = |eval: &str| {
        Experiment::from_toml(&format!(
            "name = \"g\"\nseed = 2\ndata = {{ synthetic = 32 }}\nmodel = {{ kind = \"bbb_lenet\" }}\n\
             training = {{ epochs = 1, batch_size = 8, progress = false, log_epochs = false }}\n\
             evaluation = {{ samples = 6, entropy_samples = 4{eval} }}\n"
        ))
        .unwrap()
    };
    let one = run(&bbb(""), &RunOptions::new(tmp.join("one"))).unwrap();
    let grouped_exp = bbb(", draws_per_pass = 3");
    let three = run(&grouped_exp, &RunOptions::new(tmp.join("three"))).unwrap();
    for (k, v) in &one.metrics {
        let w = three.metrics[k];
        assert!((v - w).abs() <= 1e-4 * v.abs().max(1.0), "{k}: {v} vs {w}");
    }
    let again = Experiment::from_toml(&grouped_exp.to_toml().unwrap()).unwrap();
    assert_eq!(again.evaluation.draws_per_pass, 3);
}
