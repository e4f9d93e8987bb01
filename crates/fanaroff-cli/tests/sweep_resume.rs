//! A sweep killed mid-run and run again finishes with every result once;
//! a single index run alone gives the same record as the local pool.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_fanaroff");

const GRID: &str = r#"
[base]
name = "tiny"
data = { synthetic = 32 }
model = { kind = "lenet" }
training = { epochs = 40, batch_size = 8, progress = false, log_epochs = false }
evaluation = { samples = 2, entropy_samples = 2 }

[grid]
seed = [0, 1, 2]
"#;

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fanaroff-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fanaroff(args: &[&str]) -> std::process::Output {
    Command::new(EXE).args(args).output().unwrap()
}

fn record(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("runs/{i:04}/record.json"))
}

/// The pid of the `sweep run` worker of `index` writing to `out`, from /proc.
fn worker_pid(out: &Path, index: usize) -> Option<u32> {
    let want = ["--index".to_string(), index.to_string()];
    let out = out.to_str()?.to_string();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
        let args: Vec<String> = cmd
            .split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let is_worker = args.iter().any(|a| a == "run")
            && args.contains(&out)
            && args.windows(2).any(|w| w == want);
        is_worker.then_some(pid)
    })
}

fn wait_for(p: &Path, limit: Duration) {
    let t = Instant::now();
    while !p.exists() {
        assert!(t.elapsed() < limit, "{} did not appear", p.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn killed_sweep_resumes_without_losing_or_repeating_a_result() {
    let tmp = temp_dir("resume");
    let grid = tmp.join("grid.toml");
    std::fs::write(&grid, GRID).unwrap();
    let out = tmp.join("sweep");
    let (g, o) = (grid.to_str().unwrap(), out.to_str().unwrap());

    // start the pool; kill the worker of index 1 once it is past its first
    // epoch (the pool goes on with index 2 and reports index 1 as failed)
    let mut pool = Command::new(EXE)
        .args(["sweep", "local", g, "--out", o, "-j", "1", "--threads", "1"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(
        &out.join("runs/0001/ckpt/state.json"),
        Duration::from_secs(300),
    );
    let worker = worker_pid(&out, 1).expect("worker of index 1");
    assert!(worker > 1);
    Command::new("kill")
        .args(["-s", "KILL", &worker.to_string()])
        .status()
        .unwrap();
    let mut err = String::new();
    pool.stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!pool.wait().unwrap().success());
    assert!(err.contains("indices [1] failed"), "{err}");
    assert!(record(&out, 0).exists() && record(&out, 2).exists());
    assert!(
        !record(&out, 1).exists(),
        "index 1 finished before the kill"
    );
    let first = std::fs::read(record(&out, 0)).unwrap();

    let again = fanaroff(&["sweep", "local", g, "--out", o, "-j", "2", "--threads", "1"]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("1 of 3 runs to do"));
    assert_eq!(
        std::fs::read(record(&out, 0)).unwrap(),
        first,
        "finished run was redone"
    );
    let r1: serde_json::Value =
        serde_json::from_slice(&std::fs::read(record(&out, 1)).unwrap()).unwrap();
    assert!(r1["resumed_after_epoch"].as_u64().unwrap() >= 1, "{r1}");
    assert_eq!(r1["epochs_run"].as_u64(), Some(40));

    let collected = fanaroff(&["sweep", "collect", g, "--out", o]);
    assert!(collected.status.success());
    let csv = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let indices: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(indices, ["0", "1", "2"]);
    assert!(String::from_utf8_lossy(&collected.stdout).contains("missing: none"));

    // a rerun is a no-op
    let idle = fanaroff(&["sweep", "local", g, "--out", o]);
    assert!(String::from_utf8_lossy(&idle.stderr).contains("0 of 3 runs to do"));
    assert_eq!(std::fs::read(record(&out, 0)).unwrap(), first);

    // the same index run alone (as a SLURM task would) gives the same metrics
    let alone = tmp.join("alone");
    let one = fanaroff(&[
        "sweep",
        "run",
        g,
        "--out",
        alone.to_str().unwrap(),
        "--index",
        "2",
        "--threads",
        "1",
        "--no-progress",
    ]);
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    let a: serde_json::Value =
        serde_json::from_slice(&std::fs::read(record(&alone, 2)).unwrap()).unwrap();
    let b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(record(&out, 2)).unwrap()).unwrap();
    assert_eq!(a["metrics"], b["metrics"]);

    // `fanaroff evaluate` on the saved weights gives the record's metrics again
    let run2 = out.join("runs/0002");
    let ev = fanaroff(&[
        "evaluate",
        run2.join("experiment.toml").to_str().unwrap(),
        "--model",
        run2.join("model.safetensors").to_str().unwrap(),
        "--threads",
        "1",
    ]);
    assert!(
        ev.status.success(),
        "{}",
        String::from_utf8_lossy(&ev.stderr)
    );
    let m: serde_json::Value = serde_json::from_slice(&ev.stdout).unwrap();
    assert_eq!(m, b["metrics"]);
    for key in ["entropy_mwu_p", "mi_uncertain", "uce_study", "cuce_study"] {
        assert!(m.get(key).is_some(), "{key} missing from {m}");
    }

    // `sweep reevaluate` rewrites each record's metrics from its saved model:
    // with the same code they come out the same, and the old record is kept
    let re = fanaroff(&["sweep", "reevaluate", g, "--out", o, "--threads", "1"]);
    assert!(
        re.status.success(),
        "{}",
        String::from_utf8_lossy(&re.stderr)
    );
    let c: serde_json::Value =
        serde_json::from_slice(&std::fs::read(record(&out, 2)).unwrap()).unwrap();
    assert_eq!(c["metrics"], b["metrics"]);
    assert!(run2.join("record.before-reevaluate.json").exists());
    let _ = std::fs::remove_dir_all(&tmp);
}
