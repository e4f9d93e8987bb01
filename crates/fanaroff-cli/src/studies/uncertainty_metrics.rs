//! The numbers of the uncertainty study for one method: calibration,
//! risk-coverage and conformal sets on the test images, and how well each
//! uncertainty score tells a shifted set from the test images.

use crate::error::Result;
use fanaroff_calibrate::{
    BinStrategy, Binning, ConformityScore, Mahalanobis, SplitConformal, auroc, brier, ece,
    energy_score, entropy, error_rate, fpr_at_tpr, max_logit_score, max_probability, mean_set_size,
    mutual_information, nll, risk_coverage, set_coverage, uce,
};
use ndarray::{Array2, Array3};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;

/// What one method predicts on one set of images.
pub(crate) struct Predicted {
    /// The predictive `[N, K]`.
    pub mean: Array2<f64>,
    /// Draws `[S, N, K]`, when there are several (for the mutual information).
    pub samples: Option<Array3<f64>>,
    /// Logits of the network at its mean weights, if it has them.
    pub logits: Option<Array2<f64>>,
    /// Penultimate features, if the network exposes them.
    pub features: Option<Array2<f64>>,
}

/// The in-distribution row of a method.
#[derive(Debug, Serialize)]
pub(crate) struct IdRow {
    error: f64,
    nll: f64,
    brier: f64,
    /// 10 equal-width bins.
    ece: f64,
    /// 10 equal-mass bins.
    ece_adaptive: f64,
    uce: f64,
    aurc: f64,
    augrc: f64,
    excess_aurc: f64,
    /// LAC sets calibrated on the validation images, marginal threshold.
    set_size: f64,
    coverage: f64,
    /// The smaller of the per-class coverages of those sets.
    coverage_worst_class: f64,
    /// LAC sets with one threshold per class (Mondrian).
    set_size_mondrian: f64,
    coverage_mondrian: f64,
    coverage_worst_class_mondrian: f64,
}

/// Calibration, risk-coverage and conformal sets at miscoverage `alpha`
/// (calibrated on `cal`).
pub(crate) fn id_row(
    test: &Predicted,
    labels: &[usize],
    cal: &Predicted,
    cal_labels: &[usize],
    alpha: f64,
) -> Result<IdRow> {
    let p = test.mean.view();
    let bins = Binning::new(10)?;
    let confidence = max_probability(p)?.to_vec();
    let predicted = fanaroff_calibrate::predicted_classes(p);
    let correct: Vec<bool> = predicted.iter().zip(labels).map(|(a, b)| a == b).collect();
    let rc = risk_coverage(&confidence, &correct)?;
    let (set_size, coverage, worst) = conformal(test, labels, cal, cal_labels, alpha, false)?;
    let (size_m, coverage_m, worst_m) = conformal(test, labels, cal, cal_labels, alpha, true)?;
    Ok(IdRow {
        error: error_rate(p, labels)?,
        nll: nll(p, labels)?,
        brier: brier(p, labels)?,
        ece: ece(p, labels, bins)?,
        ece_adaptive: ece(p, labels, bins.with_strategy(BinStrategy::EqualMass))?,
        uce: uce(p, labels, bins)?,
        aurc: rc.aurc,
        augrc: rc.augrc,
        excess_aurc: rc.excess_aurc(),
        set_size,
        coverage,
        coverage_worst_class: worst,
        set_size_mondrian: size_m,
        coverage_mondrian: coverage_m,
        coverage_worst_class_mondrian: worst_m,
    })
}

/// Mean set size, coverage and worst per-class coverage of LAC sets.
fn conformal(
    test: &Predicted,
    labels: &[usize],
    cal: &Predicted,
    cal_labels: &[usize],
    alpha: f64,
    mondrian: bool,
) -> Result<(f64, f64, f64)> {
    let mut rng = StdRng::seed_from_u64(0); // LAC draws nothing
    let predictor = SplitConformal::new(ConformityScore::Lac, alpha)?
        .class_conditional(mondrian)
        .calibrate(cal.mean.view(), cal_labels, &mut rng)?;
    let sets = predictor.predict_sets(test.mean.view(), &mut rng)?;
    let mut worst = f64::INFINITY;
    for c in 0..test.mean.ncols() {
        let (s, y): (Vec<Vec<usize>>, Vec<usize>) = sets
            .iter()
            .zip(labels)
            .filter(|(_, y)| **y == c)
            .map(|(s, y)| (s.clone(), *y))
            .unzip();
        if !y.is_empty() {
            worst = worst.min(set_coverage(&s, &y)?);
        }
    }
    Ok((mean_set_size(&sets)?, set_coverage(&sets, labels)?, worst))
}

/// Every score the method has, per image, higher = more likely out of
/// distribution.
pub(crate) fn ood_scores(
    p: &Predicted,
    maha: Option<&Mahalanobis>,
) -> Result<Vec<(&'static str, Vec<f64>)>> {
    let mut out = vec![
        (
            "max_softmax",
            max_probability(p.mean.view())?
                .iter()
                .map(|m| 1.0 - m)
                .collect(),
        ),
        ("entropy", entropy(p.mean.view())?.to_vec()),
    ];
    if let Some(s) = &p.samples {
        out.push(("mutual_information", mutual_information(s.view())?.to_vec()));
    }
    if let Some(z) = &p.logits {
        out.push(("max_logit", max_logit_score(z.view())?));
        out.push(("energy", energy_score(z.view(), 1.0)?));
    }
    if let (Some(m), Some(f)) = (maha, &p.features) {
        out.push(("mahalanobis", m.score(f.view())?));
    }
    Ok(out)
}

/// AUROC (out-of-distribution images positive) and the false-positive
/// rate at 95 % true-positive rate (the fraction of shifted images
/// accepted when 95 % of test images are).
#[derive(Debug, Serialize)]
pub(crate) struct OodRow {
    pub auroc: f64,
    pub fpr95: f64,
}

/// One row per score both sets have.
pub(crate) fn ood_rows(
    id: &[(&'static str, Vec<f64>)],
    shifted: &[(&'static str, Vec<f64>)],
) -> Result<Vec<(&'static str, OodRow)>> {
    let mut rows = Vec::new();
    for (name, inside) in id {
        let Some((_, outside)) = shifted.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let scores: Vec<f64> = inside.iter().chain(outside).copied().collect();
        let positive: Vec<bool> = (0..scores.len()).map(|i| i >= inside.len()).collect();
        rows.push((
            *name,
            OodRow {
                auroc: auroc(&scores, &positive)?,
                fpr95: fpr_at_tpr(inside, outside, 0.95)?,
            },
        ));
    }
    Ok(rows)
}
