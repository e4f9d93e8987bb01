//! `fanaroff calibrate`: the calibration report of saved predictions, its
//! flags declared once (the `04_calibration_report` example reuses them).

use crate::error::Result;
use fanaroff_calibrate::report::{ReportArgs, run};
use fanaroff_calibrate::{
    BinStrategy, Binning, Bootstrap, DEFAULT_SUM_TOLERANCE, ReliabilityDiagram, ReportConfig,
};
use std::path::{Path, PathBuf};

/// Every metric of `fanaroff-calibrate` for saved predictions, as a table
/// or JSON, with reliability and uncertainty diagrams. `--probs` is `[N, K]`
/// probabilities or `[S, N, K]` MC samples (`.npy`, float32 or float64, or
/// CSV with blank lines between samples); `--labels` integer classes
/// (`.npy` or CSV). From Python: `np.save("preds.npy", probs)`.
#[derive(clap::Args, Debug, Clone)]
pub struct CalibrateArgs {
    /// Predictions: .npy ([N, K] or [S, N, K]) or CSV
    #[arg(long)]
    pub probs: PathBuf,
    /// Labels: .npy (integers, or floats with integral values) or CSV
    #[arg(long)]
    pub labels: PathBuf,
    /// Bins of ECE, MCE, classwise ECE and UCE
    #[arg(long, default_value_t = 10)]
    pub bins: usize,
    /// Binning: width (equal width) or mass (equal mass)
    #[arg(long, default_value = "width")]
    pub strategy: BinStrategy,
    /// Print the report as JSON instead of a table
    #[arg(long)]
    pub json: bool,
    /// Reliability diagram, .png or .svg
    #[arg(long, default_value = "reliability.png")]
    pub png: PathBuf,
    /// Uncertainty (UCE) diagram [the --png name with _uce]
    #[arg(long)]
    pub uce_png: Option<PathBuf>,
    /// Write no figure
    #[arg(long)]
    pub no_png: bool,
    /// Resamples of 95 % bootstrap intervals (0: none)
    #[arg(long, default_value_t = 0)]
    pub bootstrap: usize,
    /// Bootstrap seed
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Allowed |sum_k p_k - 1|
    #[arg(long, default_value_t = DEFAULT_SUM_TOLERANCE)]
    pub tolerance: f64,
}

impl CalibrateArgs {
    /// The report job these flags describe.
    ///
    /// # Errors
    /// Zero bins, a bad tolerance.
    pub fn report_args(&self) -> Result<ReportArgs> {
        let config = ReportConfig {
            binning: Binning::new(self.bins)?.with_strategy(self.strategy),
            sum_tolerance: self.tolerance,
            bootstrap: match self.bootstrap {
                0 => None,
                r => Some(Bootstrap::new(r, 0.95)?),
            },
            seed: self.seed,
            ..ReportConfig::default()
        };
        let mut a = ReportArgs::new(&self.probs, &self.labels, config)?;
        a.json = self.json;
        Ok(if self.no_png {
            a
        } else {
            a.figures(Some(self.png.clone()), self.uce_png.clone())
        })
    }

    /// Reads the files, computes the report, draws the diagrams; the text
    /// to print.
    ///
    /// # Errors
    /// Unreadable or invalid files, invalid settings, unwritable figures.
    pub fn run(&self) -> Result<String> {
        Ok(run(&self.report_args()?, &mut draw)?.text)
    }
}

/// Draws a diagram with `fanaroff-plot`, PNG or SVG by the extension.
fn draw(d: &ReliabilityDiagram, path: &Path) -> fanaroff_calibrate::Result<()> {
    use fanaroff_plot::Figure;
    fanaroff_plot::reliability(d)
        .save(path)
        .map(|_| ())
        .map_err(|e| fanaroff_calibrate::Error::Figure(e.to_string()))
}
