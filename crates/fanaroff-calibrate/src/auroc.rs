//! Ranking quality of an uncertainty score: AUROC and AUPR (average
//! precision) for separating positives (errors, or out-of-distribution
//! inputs) from negatives (correct, or in-distribution inputs).

use ndarray::ArrayView2;
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::input::{check_pair, check_scores};
use crate::uncertainty::{argmax, entropy_of};

/// Area under the ROC curve of `scores` for detecting `positives`.
///
/// A higher score should mean "more likely positive". Equivalent to the
/// Mann–Whitney statistic; **ties count one half**:
///
/// ```text
/// AUROC = (1 / (P * Q)) sum_{i positive} sum_{j negative} ( 1[s_i > s_j] + 0.5 * 1[s_i = s_j] )
/// ```
///
/// This equals the trapezoidal area under the ROC curve whose thresholds are
/// the distinct score values (scikit-learn's `roc_auc_score`).
/// Computed in `O(N log N)` by ranking with average ranks for ties.
///
/// # Errors
/// [`Error::Empty`], [`Error::ShapeMismatch`], [`Error::NonFinite`] for bad
/// scores; [`Error::Undefined`] if there are no positives or no negatives.
///
/// # Example
/// ```
/// use approx::assert_abs_diff_eq;
/// use fanaroff_calibrate::auroc;
/// // pairs (pos, neg): (0.9,0.1) win, (0.9,0.5) win, (0.5,0.1) win, (0.5,0.5) tie -> 3.5 / 4
/// let a = auroc(&[0.9, 0.5, 0.5, 0.1], &[true, true, false, false]).unwrap();
/// assert_abs_diff_eq!(a, 0.875, epsilon = 1e-12);
/// ```
pub fn auroc(scores: &[f64], positives: &[bool]) -> Result<f64> {
    let (p, q) = check_ranking(scores, positives, "AUROC")?;
    let order = sorted_order(scores);
    // Average 1-based ranks in ascending score order.
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &idx in &order[i..=j] {
            if positives[idx] {
                rank_sum_pos += avg_rank;
            }
        }
        i = j + 1;
    }
    let (p, q) = (p as f64, q as f64);
    Ok((rank_sum_pos - p * (p + 1.0) / 2.0) / (p * q))
}

/// Area under the precision–recall curve as **average precision**
/// (step interpolation, no trapezoids):
///
/// ```text
/// AP = sum_t (R_t - R_{t-1}) P_t
/// ```
///
/// over the distinct score values `t` taken as thresholds in decreasing
/// order (predict positive if `score >= t`), with `R_0 = 0`. Tied scores
/// enter together at one threshold, so the result does not depend on the
/// order of the inputs. This is scikit-learn's `average_precision_score`.
/// A random score gives about the positive rate `P / N`.
///
/// # Errors
/// As [`auroc`].
///
/// # Example
/// ```
/// use approx::assert_abs_diff_eq;
/// use fanaroff_calibrate::aupr;
/// // thresholds 0.9: P=1/1, R=1/2 ; 0.5: P=2/3, R=2/2 -> AP = 0.5*1 + 0.5*2/3
/// let a = aupr(&[0.9, 0.5, 0.5, 0.1], &[true, true, false, false]).unwrap();
/// assert_abs_diff_eq!(a, 0.5 + 1.0 / 3.0, epsilon = 1e-12);
/// ```
pub fn aupr(scores: &[f64], positives: &[bool]) -> Result<f64> {
    let (p, _) = check_ranking(scores, positives, "AUPR")?;
    let mut order = sorted_order(scores);
    order.reverse();
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut ap = 0.0;
    let mut prev_recall = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        for &idx in &order[i..=j] {
            if positives[idx] {
                tp += 1;
            } else {
                fp += 1;
            }
        }
        let recall = tp as f64 / p as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
        i = j + 1;
    }
    Ok(ap)
}

fn check_ranking(scores: &[f64], positives: &[bool], what: &str) -> Result<(usize, usize)> {
    check_scores(scores, positives.len(), &format!("{what} scores"))?;
    let p = positives.iter().filter(|&&b| b).count();
    let q = positives.len() - p;
    if p == 0 || q == 0 {
        return Err(Error::Undefined {
            what: what.into(),
            reason: format!(
                "needs both positives and negatives, got {p} positives and {q} negatives"
            ),
        });
    }
    Ok((p, q))
}

fn sorted_order(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    order
}

/// AUROC and AUPR of one score.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Separation {
    /// Area under the ROC curve (0.5 = chance).
    pub auroc: f64,
    /// Average precision (chance = positive rate).
    pub aupr: f64,
    /// Number of positives (errors, or OOD inputs).
    pub positives: usize,
    /// Number of negatives.
    pub negatives: usize,
}

/// AUROC and AUPR for one score and one set of positives.
///
/// # Errors
/// As [`auroc`].
pub fn separation(scores: &[f64], positives: &[bool]) -> Result<Separation> {
    let p = positives.iter().filter(|&&b| b).count();
    Ok(Separation {
        auroc: auroc(scores, positives)?,
        aupr: aupr(scores, positives)?,
        positives: p,
        negatives: positives.len() - p,
    })
}

/// How well predictive entropy flags misclassified inputs: errors
/// (`argmax_k p_nk != y_n`) are the positives, the score is `H[p_n]`.
///
/// To use another score (mutual information, `1 - max p`), call
/// [`separation`] with it and the error indicator.
///
/// # Errors
/// As [`check_probabilities`](crate::check_probabilities) and
/// [`check_labels`](crate::check_labels); [`Error::Undefined`] if every
/// prediction is correct or every prediction is wrong.
pub fn error_detection(probs: ArrayView2<'_, f64>, labels: &[usize]) -> Result<Separation> {
    check_pair(probs, labels)?;
    let h: Vec<f64> = probs.outer_iter().map(entropy_of).collect();
    let errors: Vec<bool> = probs
        .outer_iter()
        .zip(labels)
        .map(|(r, &y)| argmax(r) != y)
        .collect();
    separation(&h, &errors)
}

/// How well a score separates out-of-distribution inputs (positives) from
/// in-distribution ones: AUROC / AUPR with OOD as the positive class.
///
/// # Errors
/// [`Error::Empty`] if either set is empty, [`Error::NonFinite`] for NaN scores.
///
/// # Example
/// ```
/// use fanaroff_calibrate::ood_detection;
/// let s = ood_detection(&[0.1, 0.2], &[0.8, 0.9]).unwrap();
/// assert_eq!(s.auroc, 1.0);
/// ```
pub fn ood_detection(in_scores: &[f64], out_scores: &[f64]) -> Result<Separation> {
    if in_scores.is_empty() || out_scores.is_empty() {
        return Err(Error::empty(
            "OOD detection needs at least one in-distribution and one out-of-distribution score",
        ));
    }
    let scores: Vec<f64> = in_scores.iter().chain(out_scores).copied().collect();
    let positives: Vec<bool> = std::iter::repeat_n(false, in_scores.len())
        .chain(std::iter::repeat_n(true, out_scores.len()))
        .collect();
    separation(&scores, &positives)
}
