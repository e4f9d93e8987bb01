//! Reliability and UCE diagrams, accuracy-rejection curves.

use crate::chart::LineChart;
use crate::color::Color;
use fanaroff_calibrate::{DiagramKind, RejectionCurve, ReliabilityDiagram};

/// A reliability diagram (or UCE diagram, for an uncertainty
/// [`ReliabilityDiagram`]) as a chart.
///
/// Bars span each non-empty bin with height = mean outcome (accuracy, or
/// error for an uncertainty diagram); red dots mark (mean score, mean
/// outcome) of each bin; the grey diagonal is perfect calibration; the
/// title states the calibration error, the binning and `N`.
///
/// ```
/// use fanaroff_calibrate::{Binning, reliability_diagram};
/// use fanaroff_plot::{Figure, reliability};
/// let probs = ndarray::array![[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]];
/// let d = reliability_diagram(probs.view(), &[0, 1, 1], Binning::new(5).unwrap()).unwrap();
/// let svg = reliability(&d).to_svg().unwrap();
/// assert!(svg.contains("ECE"));
/// ```
pub fn reliability(d: &ReliabilityDiagram) -> LineChart {
    let (name, x_label, y_label) = match d.kind {
        DiagramKind::Confidence => ("ECE", "confidence", "accuracy"),
        DiagramKind::Uncertainty => ("UCE", "uncertainty (H / ln K)", "error"),
        DiagramKind::Class(_) => ("class ECE", "p(class)", "frequency"),
        DiagramKind::Custom => ("CE", "score", "outcome"),
    };
    let class = match d.kind {
        DiagramKind::Class(k) => format!(" class {k}"),
        _ => String::new(),
    };
    let title = format!(
        "{name}{class} = {:.4}  ({} {} bins, N = {})",
        d.calibration_error,
        d.binning.bins(),
        d.binning.strategy().name(),
        d.n
    );
    let (mut lefts, mut rights, mut heights, mut px) = (vec![], vec![], vec![], vec![]);
    for bin in &d.bins {
        if let (Some(s), Some(o)) = (bin.mean_score, bin.mean_outcome) {
            lefts.push(bin.lower);
            rights.push(bin.upper);
            heights.push(o);
            px.push(s);
        }
    }
    LineChart::new(title)
        .x_label(x_label)
        .y_label(y_label)
        .x_range(0.0, 1.0)
        .y_range(0.0, 1.0)
        .bars(y_label, &lefts, &rights, &heights, Color::BLUE)
        .line("ideal", &[0.0, 1.0], &[0.0, 1.0], Color::GREY)
        .points("bin mean", &px, &heights, Color::RED)
}

/// An accuracy-rejection curve as a chart with one line named `name`; add
/// more scores with [`LineChart::series`].
///
/// ```
/// use fanaroff_calibrate::accuracy_rejection;
/// use fanaroff_plot::{Figure, rejection};
/// let c = accuracy_rejection(&[0.9, 0.1, 0.8, 0.2], &[false, true, false, true], &[0.0, 0.25, 0.5]).unwrap();
/// assert_eq!(rejection(&c, "entropy").dimensions(), (720, 540));
/// ```
pub fn rejection(c: &RejectionCurve, name: &str) -> LineChart {
    LineChart::new("accuracy-rejection curve")
        .x_label("fraction referred (most uncertain first)")
        .y_label("accuracy of the rest")
        .series(name, &c.fractions, &c.accuracy)
}
