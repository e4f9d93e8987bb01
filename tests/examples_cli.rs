//! Every example refuses a mistyped flag, and every example that reads
//! MiraBest refuses a named release that does not exist (instead of
//! training on something else).

use std::path::PathBuf;
use std::process::Command;

const ALL: [&str; 13] = [
    "attention_bayes",
    "attention_gating",
    "bench_lenet",
    "bench_vs_reference",
    "calibration_report",
    "custom_bayesian_model",
    "layer_profile",
    "mirabest_bbb",
    "mirabest_stats",
    "pruning_sweep",
    "robustness_study",
    "temperature_sweep",
    "train_lenet",
];

/// Examples with a `--data PATH` option.
const WITH_DATA: [&str; 7] = [
    "attention_bayes",
    "attention_gating",
    "bench_vs_reference",
    "mirabest_bbb",
    "pruning_sweep",
    "robustness_study",
    "temperature_sweep",
];

/// `cargo test` builds the examples next to the test binaries.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("examples");
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{} not built (run through `cargo test`)",
        p.display()
    );
    p
}

fn fails_with(name: &str, args: &[&str], needle: &str) {
    let out = Command::new(example(name)).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{name} {args:?} succeeded");
    assert!(
        err.contains(needle),
        "{name} {args:?}: stderr does not name {needle:?}:\n{err}"
    );
}

#[test]
fn a_mistyped_flag_is_an_error_in_every_example() {
    for name in ALL {
        fails_with(name, &["--epocs", "1"], "--epocs");
    }
}

#[test]
fn a_named_release_that_does_not_exist_is_an_error() {
    let missing = "/nonexistent/MiraBest_full_batches.tar.gz";
    for name in WITH_DATA {
        fails_with(name, &["--data", missing], missing);
    }
    fails_with("mirabest_stats", &[missing], missing);
}
