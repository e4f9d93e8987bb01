//! `fanaroff calibrate` end to end: flags parsed by `CalibrateArgs`, files
//! written here read back by the functions the command calls.
//!
//! The files stay in `target-dir/tmp/calibration_report/` so the command
//! can be run on them by hand:
//!
//! ```text
//! fanaroff calibrate --probs <target>/tmp/calibration_report/samples.npy \
//!     --labels <target>/tmp/calibration_report/labels.npy --bins 15 --strategy mass
//! ```

use std::path::{Path, PathBuf};

use approx::assert_abs_diff_eq;
use fanaroff_calibrate::report::{ReportArgs, load_labels, load_predictions, run};
use fanaroff_calibrate::*;
use fanaroff_cli::CalibrateArgs;
use ndarray::{Array2, Array3, Axis};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("calibration_report");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// MC samples [S, N, K] of a synthetic 2-class model and labels.
fn synthetic(s: usize, n: usize, seed: u64) -> (Array3<f64>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Array3::zeros((s, n, 2));
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let c: f64 = rng.random_range(0.5..0.99);
        let k = rng.random_range(0..2usize);
        y.push(if rng.random::<f64>() < c * c {
            k
        } else {
            1 - k
        });
        for j in 0..s {
            let jitter: f64 = rng.random_range(-0.05..0.05);
            let cj = (c + jitter).clamp(0.0, 1.0);
            out[[j, i, k]] = cj;
            out[[j, i, 1 - k]] = 1.0 - cj;
        }
    }
    (out, y)
}

/// A diagram writer that records what it was asked to draw, as the
/// `04_calibration_report` example's `fanaroff-plot` writer would draw it.
fn record(
    seen: &mut Vec<(PathBuf, f64)>,
) -> impl FnMut(&ReliabilityDiagram, &Path) -> fanaroff_calibrate::Result<()> + '_ {
    |d, p| {
        std::fs::write(p, b"figure").map_err(|e| Error::Figure(e.to_string()))?;
        seen.push((p.to_path_buf(), d.calibration_error));
        Ok(())
    }
}

/// `run` with a writer that draws nothing.
fn run_quiet(a: &ReportArgs) -> fanaroff_calibrate::Result<fanaroff_calibrate::report::RunOutput> {
    run(a, &mut |_, _| Ok(()))
}

/// The command's flags as a parser sees them.
#[derive(clap::Parser)]
struct Cli {
    #[command(flatten)]
    args: CalibrateArgs,
}

fn parse(list: &[&str]) -> std::result::Result<ReportArgs, String> {
    use clap::Parser;
    let cli = Cli::try_parse_from(std::iter::once("calibrate").chain(list.iter().copied()))
        .map_err(|e| e.to_string())?;
    cli.args.report_args().map_err(|e| e.to_string())
}

fn args(list: &[&str]) -> ReportArgs {
    parse(list).unwrap()
}

#[test]
fn npy_files_round_trip_through_the_report() {
    let d = dir();
    let (samples, y) = synthetic(20, 500, 1);
    let (s, n, k) = samples.dim();
    let probs_path = d.join("samples.npy");
    let labels_path = d.join("labels.npy");
    npy::write_npy_f64(&probs_path, &[s, n, k], samples.as_slice().unwrap()).unwrap();
    let y64: Vec<i64> = y.iter().map(|&v| v as i64).collect();
    npy::write_npy_i64(&labels_path, &[n], &y64).unwrap();
    // Also an f32 mean [N, K] file and float labels, as Python often writes.
    let mean = samples.mean_axis(Axis(0)).unwrap();
    let mean32: Vec<f32> = mean.iter().map(|&v| v as f32).collect();
    npy::write_npy_f32(d.join("mean_f32.npy"), &[n, k], &mean32).unwrap();
    let yf: Vec<f64> = y.iter().map(|&v| v as f64).collect();
    npy::write_npy_f64(d.join("labels_f64.npy"), &[n], &yf).unwrap();

    // Reading back gives what was written.
    let p = load_predictions(&probs_path).unwrap();
    assert_eq!(p, Predictions::Samples(samples.clone()));
    assert_eq!(load_labels(&labels_path).unwrap(), y);
    assert_eq!(load_labels(d.join("labels_f64.npy")).unwrap(), y);

    let png = d.join("reliability.png");
    let a = args(&[
        "--probs",
        probs_path.to_str().unwrap(),
        "--labels",
        labels_path.to_str().unwrap(),
        "--bins",
        "15",
        "--strategy",
        "mass",
        "--png",
        png.to_str().unwrap(),
        "--bootstrap",
        "100",
        "--seed",
        "3",
    ]);
    let mut seen = Vec::new();
    let out = run(&a, &mut record(&mut seen)).unwrap();
    let r = &out.report;
    assert_eq!((r.n, r.classes, r.samples), (n, k, Some(s)));
    assert_eq!(r.binning.bins(), 15);
    assert_eq!(r.binning.strategy(), BinStrategy::EqualMass);
    // The report equals the individual metrics on the predictive mean.
    let b = Binning::new(15)
        .unwrap()
        .with_strategy(BinStrategy::EqualMass);
    assert_abs_diff_eq!(r.ece, ece(mean.view(), &y, b).unwrap(), epsilon = 1e-12);
    assert_abs_diff_eq!(r.uce, uce(mean.view(), &y, b).unwrap(), epsilon = 1e-12);
    assert_abs_diff_eq!(r.nll, nll(mean.view(), &y).unwrap(), epsilon = 1e-12);
    assert_abs_diff_eq!(r.brier, brier(mean.view(), &y).unwrap(), epsilon = 1e-12);
    assert_abs_diff_eq!(
        r.accuracy,
        accuracy(mean.view(), &y).unwrap(),
        epsilon = 1e-12
    );
    let mi = mutual_information(samples.view()).unwrap().mean().unwrap();
    assert_abs_diff_eq!(r.mean_mutual_information.unwrap(), mi, epsilon = 1e-12);
    assert!(r.error_detection_mi.is_some() && r.error_detection_entropy.is_some());
    let ci = r.intervals.as_ref().unwrap();
    assert_eq!(ci.len(), 5);
    assert!(ci["ece"].lower <= ci["ece"].upper);
    // The table names the conventions and the numbers.
    for needle in [
        "ECE (top-label)",
        "not /K",
        "cUCE",
        "equal-mass",
        "20 MC samples",
        "reliability bins",
    ] {
        assert!(
            out.text.contains(needle),
            "missing {needle} in\n{}",
            out.text
        );
    }
    assert!(out.text.contains(&format!("{:.4}", r.ece)));
    // Both diagrams were handed to the writer with their paths.
    assert_eq!(
        out.written,
        vec![png.clone(), d.join("reliability_uce.png")]
    );
    assert_eq!(seen[0], (png.clone(), r.ece));
    assert_eq!(seen[1], (d.join("reliability_uce.png"), r.uce));
    assert!(out.written.iter().all(|p| p.exists()));

    // Same seed, same intervals: rerun gives the identical report.
    assert_eq!(run_quiet(&a).unwrap().report, out.report);

    // JSON output parses and carries the same numbers.
    let mut a = a;
    a.json = true;
    a.png = None;
    a.uce_png = None;
    let out = run_quiet(&a).unwrap();
    let v: serde_json::Value = serde_json::from_str(&out.text).unwrap();
    assert_abs_diff_eq!(v["ece"].as_f64().unwrap(), r.ece, epsilon = 1e-15);
    assert_abs_diff_eq!(
        v["class_uce"]["cuce"].as_f64().unwrap(),
        r.class_uce.cuce,
        epsilon = 1e-15
    );
    assert_eq!(v["binning"]["strategy"], "equal_mass");
    assert_eq!(v["reliability"]["bins"].as_array().unwrap().len(), 15);
    assert!(out.written.is_empty());

    // The f32 mean file gives the same headline numbers (up to f32 rounding).
    let a = args(&[
        "--probs",
        d.join("mean_f32.npy").to_str().unwrap(),
        "--labels",
        d.join("labels_f64.npy").to_str().unwrap(),
        "--no-png",
    ]);
    let out = run_quiet(&a).unwrap();
    assert_eq!(out.report.samples, None);
    assert_abs_diff_eq!(out.report.nll, r.nll, epsilon = 1e-6);
}

#[test]
fn csv_files_work_too() {
    let d = dir();
    // Two MC samples of three inputs, blank line between samples.
    let probs = "p_fri,p_frii\n0.9,0.1\n0.3,0.7\n0.6,0.4\n\n0.8,0.2\n0.1,0.9\n0.4,0.6\n";
    let labels = "label\n0\n1\n0\n";
    std::fs::write(d.join("samples.csv"), probs).unwrap();
    std::fs::write(d.join("labels.csv"), labels).unwrap();
    let a = args(&[
        "--probs",
        d.join("samples.csv").to_str().unwrap(),
        "--labels",
        d.join("labels.csv").to_str().unwrap(),
        "--bins",
        "2",
        "--no-png",
    ]);
    let r = run_quiet(&a).unwrap().report;
    // Mean: (0.85, 0.15), (0.2, 0.8), (0.5, 0.5): all three argmaxes are right
    // (the tie at 0.5 goes to class 0, the label).
    assert_eq!(r.samples, Some(2));
    assert_abs_diff_eq!(r.accuracy, 1.0);
    // Bins on confidence: [0, .5) empty; [.5, 1] = {.85, .8, .5}: conf .7167, acc 1.
    assert_abs_diff_eq!(r.ece, 1.0 - (0.85 + 0.8 + 0.5) / 3.0, epsilon = 1e-12);
    // No errors: AUROC of error detection is undefined and reported as such.
    assert!(r.error_detection_entropy.is_none());
    assert!(r.to_string().contains("undefined"));
}

#[test]
fn cli_errors_are_clear() {
    let d = dir();
    let e = parse(&["--probs"]).unwrap_err();
    assert!(e.contains("--probs"), "{e}");
    let e = parse(&["--labels", "y.npy"]).unwrap_err();
    assert!(e.contains("--probs"), "{e}");
    let e = parse(&["--probs", "a", "--labels", "b", "--frobnicate"]).unwrap_err();
    assert!(e.contains("--frobnicate"), "{e}");
    let e = parse(&["--probs", "a", "--labels", "b", "--strategy", "quantiles"]).unwrap_err();
    assert!(e.contains("strategy"), "{e}");
    let e = parse(&["--probs", "a", "--labels", "b", "--bins", "0"]).unwrap_err();
    assert!(e.contains("bins must be at least 1"), "{e}");
    // Labels for another N than the predictions.
    let p = Array2::from_elem((4, 2), 0.5);
    npy::write_npy_f64(d.join("p4.npy"), &[4, 2], p.as_slice().unwrap()).unwrap();
    npy::write_npy_i64(d.join("y3.npy"), &[3], &[0, 1, 0]).unwrap();
    let a = args(&[
        "--probs",
        d.join("p4.npy").to_str().unwrap(),
        "--labels",
        d.join("y3.npy").to_str().unwrap(),
        "--no-png",
    ]);
    assert!(matches!(run_quiet(&a), Err(Error::ShapeMismatch { .. })));
    // Unnormalised rows in the file.
    npy::write_npy_f64(d.join("bad.npy"), &[2, 2], &[0.5, 0.6, 0.5, 0.5]).unwrap();
    npy::write_npy_i64(d.join("y2.npy"), &[2], &[0, 1]).unwrap();
    let a = args(&[
        "--probs",
        d.join("bad.npy").to_str().unwrap(),
        "--labels",
        d.join("y2.npy").to_str().unwrap(),
        "--no-png",
    ]);
    let e = run_quiet(&a).unwrap_err();
    assert!(e.to_string().contains("row 0 sum to 1.1"), "{e}");
}
