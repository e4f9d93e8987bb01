//! The binary refuses what it does not understand: unknown flags, bad
//! values, missing files, a named data path that does not exist.

use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_fanaroff");

fn run(args: &[&str]) -> (bool, i32, String, String) {
    let o = Command::new(EXE).args(args).output().unwrap();
    (
        o.status.success(),
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn help_lists_every_command_and_flag() {
    let (ok, _, out, _) = run(&["--help"]);
    assert!(ok);
    for cmd in ["train", "evaluate", "sweep", "data"] {
        assert!(out.contains(cmd), "{out}");
    }
    let (_, _, out, _) = run(&["sweep", "--help"]);
    for cmd in ["plan", "run", "local", "slurm", "collect"] {
        assert!(out.contains(cmd), "{out}");
    }
    let (_, _, out, _) = run(&["sweep", "slurm", "--help"]);
    for flag in [
        "--partition",
        "--time",
        "--mem",
        "--cpus",
        "--throttle",
        "--account",
        "--submit",
    ] {
        assert!(out.contains(flag), "{out}");
    }
    let (_, _, out, _) = run(&["data", "--help"]);
    assert!(out.contains("stats") && out.contains("fits"));
}

#[test]
fn a_mistyped_flag_or_bad_value_is_an_error() {
    let (ok, code, _, err) = run(&["train", "x.toml", "--epocs", "1"]);
    assert!(!ok && code == 2, "{err}");
    assert!(err.contains("--epocs"), "{err}");
    let (ok, _, _, err) = run(&["sweep", "local", "g.toml", "-j", "two"]);
    assert!(!ok && err.contains("two"), "{err}");
    let (ok, _, _, err) = run(&["frobnicate"]);
    assert!(!ok && err.contains("frobnicate"), "{err}");
}

#[test]
fn missing_files_and_a_missing_named_data_path_are_errors() {
    let dir = std::env::temp_dir().join(format!("fanaroff-cli-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ok, _, _, err) = run(&["train", "/nonexistent/exp.toml"]);
    assert!(!ok && err.contains("/nonexistent/exp.toml"), "{err}");
    let exp = dir.join("exp.toml");
    std::fs::write(
        &exp,
        "[data]\nmirabest = \"/nonexistent/MiraBest.tar.gz\"\n[training]\nepochs = 1\n",
    )
    .unwrap();
    let out = dir.join("out");
    let (ok, _, _, err) = run(&[
        "train",
        exp.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("/nonexistent/MiraBest.tar.gz"), "{err}");
    assert!(!out.join("record.json").exists());
    std::fs::write(&exp, "[data]\nsynthetic = 64\n[training]\nepocs = 1\n").unwrap();
    let (ok, _, _, err) = run(&["train", exp.to_str().unwrap()]);
    assert!(!ok && err.contains("epocs"), "{err}");
    let (ok, _, _, err) = run(&["data", "stats", "/nonexistent/release"]);
    assert!(!ok && err.contains("/nonexistent/release"), "{err}");
    let (ok, _, _, err) = run(&["data", "fits", "/nonexistent/x.fits"]);
    assert!(!ok && err.contains("/nonexistent/x.fits"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
