//! A sweep over two settings (and seeds) is collected into heat maps of
//! each summary metric's mean over seeds, as PNG and SVG.

use std::path::PathBuf;
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_fanaroff");

const GRID: &str = r#"
[base]
name = "heat"
data = { synthetic = 24 }
model = { kind = "lenet" }
training = { epochs = 1, batch_size = 8, progress = false, log_epochs = false }
evaluation = { samples = 2, entropy_samples = 2 }

[grid]
"training.batch_size" = [4, 8]
"data.val_fraction" = [0.2, 0.3]
seed = [0, 1]
"#;

#[test]
fn a_two_setting_sweep_gets_heat_maps_of_its_metrics() {
    let dir = std::env::temp_dir().join(format!("fanaroff-heat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let grid = dir.join("grid.toml");
    std::fs::write(&grid, GRID).unwrap();
    let out: PathBuf = dir.join("sweep");
    let (g, o) = (grid.to_str().unwrap(), out.to_str().unwrap());
    let run = |args: &[&str]| Command::new(EXE).args(args).output().unwrap();
    let local = run(&["sweep", "local", g, "--out", o, "--jobs", "2"]);
    assert!(
        local.status.success(),
        "{}",
        String::from_utf8_lossy(&local.stderr)
    );
    let collected = run(&["sweep", "collect", g, "--out", o]);
    let text = String::from_utf8_lossy(&collected.stdout);
    assert!(
        collected.status.success(),
        "{}",
        String::from_utf8_lossy(&collected.stderr)
    );
    for ext in ["png", "svg"] {
        let p = out.join(format!("heatmap_test_error_mean.{ext}"));
        assert!(text.contains(&p.display().to_string()), "{text}");
        assert!(std::fs::metadata(&p).unwrap().len() > 1000);
    }
    let svg = std::fs::read_to_string(out.join("heatmap_nll.svg")).unwrap();
    assert!(
        svg.contains("data.val_fraction") && svg.contains("0.3"),
        "axis names and values are drawn"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
