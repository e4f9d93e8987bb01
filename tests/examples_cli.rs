//! Every example refuses a mistyped flag, and every example that reads
//! MiraBest refuses a named release that does not exist (instead of
//! training on something else).

use std::path::PathBuf;
use std::process::Command;

const ALL: [&str; 17] = [
    "01_tensor_autodiff",
    "02_train_lenet",
    "03_mirabest_stats",
    "04_calibration_report",
    "05_mirabest_bbb",
    "06_custom_bayesian_model",
    "07_temperature_sweep",
    "08_pruning_sweep",
    "09_attention_gating",
    "10_attention_saliency",
    "11_attention_bayes",
    "12_robustness_study",
    "13_bench_lenet",
    "14_layer_profile",
    "15_bench_vs_reference",
    "bench_attention",
    "quickstart",
];

/// Examples with a `--data PATH` option.
const WITH_DATA: [&str; 9] = [
    "11_attention_bayes",
    "09_attention_gating",
    "15_bench_vs_reference",
    "bench_attention",
    "05_mirabest_bbb",
    "08_pruning_sweep",
    "12_robustness_study",
    "07_temperature_sweep",
    "quickstart",
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
fn every_example_explains_itself_with_help() {
    for name in ALL {
        let out = Command::new(example(name)).arg("--help").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name} --help failed");
        let base = name.trim_start_matches(|c: char| c.is_ascii_digit() || c == '_');
        assert!(
            text.contains(base),
            "{name} --help does not name itself:\n{text}"
        );
    }
}

#[test]
fn the_quickstart_runs_end_to_end_on_a_few_synthetic_images() {
    let dir = std::env::temp_dir().join(format!("fanaroff-quickstart-{}", std::process::id()));
    let args = [
        "--synthetic",
        "64",
        "--epochs",
        "1",
        "--attention-epochs",
        "1",
        "--samples",
        "2",
    ];
    let out = Command::new(example("quickstart"))
        .args(args)
        .args(["--no-progress", "--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "test error",
        "ECE",
        "UCE",
        "NLL",
        "pruned 30 % by SNR",
        "least sure",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    for stem in [
        "reliability",
        "uce_diagram",
        "entropy_histogram",
        "training",
        "most_and_least_certain",
        "attention_maps",
    ] {
        for ext in ["png", "svg"] {
            let p = dir.join(format!("{stem}.{ext}"));
            assert!(
                std::fs::metadata(&p).is_ok_and(|m| m.len() > 1000),
                "{} missing or tiny",
                p.display()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_named_release_that_does_not_exist_is_an_error() {
    let missing = "/nonexistent/MiraBest_full_batches.tar.gz";
    for name in WITH_DATA {
        fails_with(name, &["--data", missing], missing);
    }
    fails_with("03_mirabest_stats", &[missing], missing);
}

#[test]
fn attention_saliency_needs_something_to_explain_and_an_existing_release() {
    fails_with("10_attention_saliency", &[], "nothing to explain");
    fails_with(
        "10_attention_saliency",
        &["--runs", "/nonexistent/run"],
        "/nonexistent/run",
    );
    let bad = std::env::temp_dir().join(format!("fanaroff_bad_run_{}", std::process::id()));
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("record.json"), "{ not json").unwrap();
    fails_with(
        "10_attention_saliency",
        &[
            "--runs",
            &bad.to_string_lossy(),
            "--out",
            &bad.join("out").to_string_lossy(),
        ],
        "record.json",
    );
    let _ = std::fs::remove_dir_all(&bad);
    let missing = "/nonexistent/MiraBest_full_batches.tar.gz";
    fails_with(
        "10_attention_saliency",
        &["--lenet-epochs", "1", "--data", missing],
        missing,
    );
}

/// A small attention run of the runner and a LeNet trained for one epoch,
/// explained: every mass is a fraction, and the tables and figure are
/// written.
#[test]
fn attention_saliency_explains_an_attention_run_and_a_lenet() {
    use fanaroff::cli::{Experiment, RunOptions, run};
    let dir = std::env::temp_dir().join(format!("fanaroff_saliency_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let gated = Experiment::from_toml(
        r#"
        name = "gated"
        data = { synthetic = 16, scaling = "symmetric" }
        model = { kind = "attention_net", net = { blocks = [[4], [4], [8]], inter_channels = 4 } }
        training = { epochs = 1, batch_size = 8, progress = false, log_epochs = false }
        evaluation = { samples = 1, entropy_samples = 1 }
        "#,
    )
    .unwrap();
    let run_dir = dir.join("gated_run");
    run(&gated, &RunOptions::new(&run_dir)).unwrap();
    let out = dir.join("sal");
    let res = Command::new(example("10_attention_saliency"))
        .args(["--runs", &run_dir.to_string_lossy(), "--synthetic", "16"])
        .args([
            "--lenet-epochs",
            "1",
            "--lenet-seeds",
            "0",
            "--figure-rows",
            "1",
        ])
        .args(["--out", &out.to_string_lossy()])
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    for table in ["gated/rows.csv", "lenet/rows.csv"] {
        let text = std::fs::read_to_string(out.join(table)).unwrap();
        let mut lines = text.lines();
        let head: Vec<&str> = lines.next().unwrap().split(',').collect();
        let row: Vec<&str> = lines.next().unwrap().split(',').collect();
        let masses: Vec<f64> = head
            .iter()
            .zip(&row)
            .filter(|(h, _)| h.ends_with("_mass") || h.starts_with("attention_mass"))
            .map(|(_, v)| v.parse().unwrap())
            .collect();
        assert!(masses.len() >= 3, "{table}: {text}");
        assert!(masses.iter().all(|m| (0.0..=1.0).contains(m)), "{text}");
    }
    assert!(out.join("attention_saliency.png").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `bench_attention` writes the JSON keys of its PyTorch twin
/// (`bench/torch_attention_reference.py`), for the same network: the
/// parameter count is the twin's, and every key the twin writes is one the
/// Rust side writes.
#[test]
fn bench_attention_writes_the_keys_of_its_pytorch_twin() {
    let data = "../shared/data/mirabest/MiraBest_full_batches.tar.gz";
    if !std::path::Path::new(data).exists() {
        let require = std::env::var("FANAROFF_REQUIRE_DATA").is_ok_and(|v| v == "1");
        assert!(
            !require,
            "FANAROFF_REQUIRE_DATA=1: no MiraBest release at {data}"
        );
        eprintln!("skipped: no MiraBest release at {data}");
        return;
    }
    let out = std::env::temp_dir().join(format!("bench_attention_{}.json", std::process::id()));
    let args = [
        "--threads",
        "1",
        "--repeats",
        "1",
        "--mb-repeats",
        "1",
        "--no-epoch",
    ];
    let status = Command::new(example("bench_attention"))
        .args(args)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    std::fs::remove_file(&out).ok();
    assert_eq!(json["params_det"], 101_429, "the twin's parameter count");
    assert_eq!(json["params_bayes"], 118_136);
    assert_eq!(json["train_images"], 728);
    assert_eq!(json["test_images"], 104);
    for key in [
        "fwd_bwd_det",
        "inference_det",
        "fwd_bwd_bayes",
        "inference_bayes",
    ] {
        assert!(json[key]["median"].as_f64().unwrap() > 0.0, "{key}");
    }
    // `--only inference` times inference alone (its own peak memory)
    let status = Command::new(example("bench_attention"))
        .args([
            "--threads",
            "1",
            "--repeats",
            "1",
            "--det-only",
            "--only",
            "inference",
        ])
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let alone: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    std::fs::remove_file(&out).ok();
    assert!(alone["inference_det"]["median"].as_f64().unwrap() > 0.0);
    assert!(alone.get("fwd_bwd_det").is_none() && alone.get("epoch_det").is_none());
    let twin = std::fs::read_to_string("bench/torch_attention_reference.py").unwrap();
    assert!(twin.contains("\"--only\""), "the twin has --only too");
    for key in [
        "\"fwd_bwd_\"",
        "\"inference_\"",
        "\"epoch_\"",
        "\"params_\"",
        "\"peak_rss_mib\"",
        "\"train_images\"",
    ] {
        assert!(twin.contains(key), "the twin writes {key}");
    }
}
