//! Calibration report for saved predictions: every metric of
//! `fanaroff-calibrate` as a table (or JSON) plus reliability and
//! uncertainty diagrams as PNG or SVG. The same as `fanaroff calibrate`,
//! with the same flags (declared once, in `fanaroff_cli::CalibrateArgs`).
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

use clap::Parser;
use fanaroff_cli::CalibrateArgs;

/// 04_calibration_report: every calibration metric of saved predictions, with diagrams
#[derive(Parser)]
#[command(name = "04_calibration_report")]
struct Cli {
    #[command(flatten)]
    args: CalibrateArgs,
}

fn main() {
    let cli = Cli::parse();
    fanaroff_examples::exit_on_error((|| {
        println!("{}", cli.args.run()?);
        Ok(())
    })());
}
