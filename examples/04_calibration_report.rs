//! Calibration report for saved predictions: every metric of
//! `fanaroff-calibrate` as a table (or JSON) plus reliability and
//! uncertainty diagrams as PNG or SVG.
//!
//! ```text
//! cargo run --release --example 04_calibration_report -- \
//!     --probs preds.npy --labels labels.npy [--bins 10] [--strategy width|mass] \
//!     [--json] [--png reliability.png] [--bootstrap 1000 --seed 0]
//! ```
//!
//! `preds` is `[N, K]` probabilities or `[S, N, K]` Monte Carlo samples
//! (`.npy`, float32 or float64), or CSV with one row per input and blank
//! lines between samples; labels are integer class indices (`.npy` or CSV).
//! From Python: `np.save("preds.npy", probs)`, `np.save("labels.npy", y)`.

use fanaroff::calibrate::report::{ReportArgs, USAGE, run};
use fanaroff::calibrate::{Error, ReliabilityDiagram};
use fanaroff::plot::{Figure, reliability};
use std::path::Path;

/// Draws a diagram with `fanaroff-plot`, as PNG or SVG by the extension.
fn draw(d: &ReliabilityDiagram, path: &Path) -> Result<(), Error> {
    reliability(d)
        .save(path)
        .map(|_| ())
        .map_err(|e| Error::Figure(e.to_string()))
}

fn main() {
    let args = match ReportArgs::parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return;
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    match run(&args, &mut draw) {
        Ok(out) => println!("{}", out.text),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
