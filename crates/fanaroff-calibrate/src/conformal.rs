//! Split conformal prediction: sets of classes that contain the true class
//! with probability at least `1 - alpha`, whatever the model, provided the
//! calibration and test images are exchangeable.
//!
//! Scores of the true class on `n` calibration images give the threshold
//! `q = s_(m)`, the `m`-th smallest with `m = ceil((n + 1)(1 - alpha))`
//! (infinite when `m > n`); the set of a test image holds every class whose
//! score is at most `q`. Then `P(y in set) >= 1 - alpha` over the draw of
//! calibration and test images (Vovk et al. 2005; Angelopoulos & Bates
//! 2023). Class-conditional (Mondrian) calibration takes one threshold per
//! class from that class's calibration images, so the guarantee holds for
//! each class separately, which matters when FRI and FRII are unbalanced.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::conformity::ConformityScore;
use crate::error::{Error, Result};
use crate::input::{DEFAULT_SUM_TOLERANCE, check_labels, check_probabilities};
use ndarray::ArrayView2;
use rand::{Rng, RngCore};

/// Split conformal prediction with a score and a miscoverage level.
///
/// # Example
/// ```
/// use fanaroff_calibrate::{ConformityScore, SplitConformal, set_coverage};
/// use ndarray::array;
/// use rand::{SeedableRng, rngs::StdRng};
/// let cal = array![[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.6, 0.4]];
/// let labels = [0, 0, 1, 1, 1];
/// let mut rng = StdRng::seed_from_u64(0);
/// let cp = SplitConformal::new(ConformityScore::Lac, 0.2)?.calibrate(cal.view(), &labels, &mut rng)?;
/// // m = ceil(6 * 0.8) = 5: the largest of the scores 0.1, 0.2, 0.3, 0.4, 0.6
/// assert_eq!(cp.thresholds(), &[0.6]);
/// let sets = cp.predict_sets(array![[0.95, 0.05], [0.5, 0.5]].view(), &mut rng)?;
/// assert_eq!(sets, vec![vec![0], vec![0, 1]]);
/// assert_eq!(set_coverage(&sets, &[0, 1])?, 1.0);
/// # Ok::<(), fanaroff_calibrate::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct SplitConformal {
    /// The conformity score.
    pub score: ConformityScore,
    /// Miscoverage level, in `(0, 1)`.
    pub alpha: f64,
    /// One threshold per class (Mondrian) instead of one for all.
    pub class_conditional: bool,
}

/// A calibrated conformal predictor (see [`SplitConformal::calibrate`]).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ConformalPredictor {
    score: ConformityScore,
    /// One threshold, or one per class.
    thresholds: Vec<f64>,
    classes: usize,
}

/// The `m`-th smallest of `scores` with `m = ceil((n + 1)(1 - alpha))`,
/// infinite when `m > n`.
pub fn conformal_quantile(scores: &[f64], alpha: f64) -> f64 {
    let n = scores.len();
    let m = (((n + 1) as f64) * (1.0 - alpha) - 1e-12).ceil() as usize;
    if m > n || m == 0 {
        return if m == 0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let mut s = scores.to_vec();
    s.sort_by(f64::total_cmp);
    s[m - 1]
}

impl SplitConformal {
    /// Marginal calibration with `score` at level `alpha`.
    ///
    /// # Errors
    /// `alpha` outside `(0, 1)`; invalid score parameters.
    pub fn new(score: ConformityScore, alpha: f64) -> Result<Self> {
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(Error::param("alpha", alpha, "must be in (0, 1)"));
        }
        score.check()?;
        Ok(SplitConformal {
            score,
            alpha,
            class_conditional: false,
        })
    }

    /// One threshold per class (Mondrian calibration).
    pub fn class_conditional(mut self, on: bool) -> Self {
        self.class_conditional = on;
        self
    }

    /// Thresholds from the calibration probabilities `[N, K]` and labels.
    /// `rng` draws the uniform numbers of randomised scores.
    ///
    /// # Errors
    /// Invalid probabilities or labels; calibration labels of a single
    /// class; with class-conditional calibration, a class without
    /// calibration images.
    pub fn calibrate(
        &self,
        probs: ArrayView2<'_, f64>,
        labels: &[usize],
        rng: &mut dyn RngCore,
    ) -> Result<ConformalPredictor> {
        let u = draw_uniforms(&self.score, probs.nrows(), rng);
        self.calibrate_with_uniforms(probs, labels, &u)
    }

    /// [`calibrate`](Self::calibrate) with the uniform number of every
    /// calibration image given, `u[i]` in `[0, 1]`, whether or not the
    /// score is `randomised` (LAC ignores them). This reproduces another
    /// implementation's draws: MAPIE's randomised APS score
    /// `cumsum - v p_y` is ours with `u = 1 - v`.
    ///
    /// # Errors
    /// As [`calibrate`](Self::calibrate); `u` of another length than the
    /// rows, or outside `[0, 1]`.
    pub fn calibrate_with_uniforms(
        &self,
        probs: ArrayView2<'_, f64>,
        labels: &[usize],
        u: &[f64],
    ) -> Result<ConformalPredictor> {
        check_probabilities(probs, DEFAULT_SUM_TOLERANCE)?;
        let (n, k) = probs.dim();
        check_labels(labels, n, k)?;
        check_uniforms(u, n)?;
        let mut by_class: Vec<Vec<f64>> = vec![Vec::new(); k];
        for ((row, &y), &u) in probs.outer_iter().zip(labels).zip(u) {
            by_class[y].push(self.score.scores(row, u)[y]);
        }
        let present = by_class.iter().filter(|v| !v.is_empty()).count();
        if k > 1 && present < 2 {
            return Err(Error::Undefined {
                what: "conformal calibration".into(),
                reason: "the calibration labels hold a single class".into(),
            });
        }
        Ok(ConformalPredictor {
            score: self.score,
            thresholds: self.thresholds(by_class)?,
            classes: k,
        })
    }

    fn thresholds(&self, by_class: Vec<Vec<f64>>) -> Result<Vec<f64>> {
        if !self.class_conditional {
            return Ok(vec![conformal_quantile(&by_class.concat(), self.alpha)]);
        }
        if let Some(c) = by_class.iter().position(Vec::is_empty) {
            return Err(Error::Undefined {
                what: "class-conditional conformal calibration".into(),
                reason: format!("class {c} has no calibration images"),
            });
        }
        Ok(by_class
            .iter()
            .map(|s| conformal_quantile(s, self.alpha))
            .collect())
    }
}

impl SplitConformal {
    /// Calibration with soft labels `[N, K]` (each row a distribution over
    /// the classes, such as the share of annotators who chose each class):
    /// one pseudo-label is drawn from each row, then [`calibrate`](Self::calibrate)
    /// runs on them. This is Monte Carlo conformal prediction with one
    /// draw per image (Stutz et al. 2023), whose sets cover a label drawn
    /// from the soft label with probability at least `1 - alpha`; hard
    /// (majority) labels cover only the majority label, and under-cover
    /// the annotators when they disagree.
    ///
    /// # Errors
    /// Soft labels that are not probability rows of the same shape as
    /// `probs`; as [`calibrate`](Self::calibrate).
    pub fn calibrate_soft(
        &self,
        probs: ArrayView2<'_, f64>,
        soft_labels: ArrayView2<'_, f64>,
        rng: &mut dyn RngCore,
    ) -> Result<ConformalPredictor> {
        check_probabilities(soft_labels, DEFAULT_SUM_TOLERANCE)?;
        if soft_labels.dim() != probs.dim() {
            return Err(Error::shape(
                "soft labels",
                format!("{:?}", probs.dim()),
                format!("{:?}", soft_labels.dim()),
            ));
        }
        let labels: Vec<usize> = soft_labels
            .outer_iter()
            .map(|row| {
                let mut u = rng.random::<f64>();
                let last = row.iter().rposition(|&p| p > 0.0).unwrap_or(0);
                for (k, &p) in row.iter().enumerate() {
                    if u < p {
                        return k;
                    }
                    u -= p;
                }
                last
            })
            .collect();
        self.calibrate(probs, &labels, rng)
    }
}

/// One uniform number per image for a randomised score, else 1.
fn draw_uniforms(score: &ConformityScore, n: usize, rng: &mut dyn RngCore) -> Vec<f64> {
    if score.is_randomised() {
        (0..n).map(|_| rng.random::<f64>()).collect()
    } else {
        vec![1.0; n]
    }
}

fn check_uniforms(u: &[f64], n: usize) -> Result<()> {
    if u.len() != n {
        return Err(Error::shape(
            "conformal uniform numbers",
            format!("{n} (one per image)"),
            format!("{}", u.len()),
        ));
    }
    match u.iter().find(|v| !(0.0..=1.0).contains(*v)) {
        Some(v) => Err(Error::param("u", v, "must be in [0, 1]")),
        None => Ok(()),
    }
}

impl ConformalPredictor {
    /// The threshold (one), or one per class.
    pub fn thresholds(&self) -> &[f64] {
        &self.thresholds
    }

    /// The prediction set of every row of `probs` `[N, K]`: the classes,
    /// in increasing order, whose score is at most their threshold.
    ///
    /// # Errors
    /// Invalid probabilities; a class count other than the calibration's.
    pub fn predict_sets(
        &self,
        probs: ArrayView2<'_, f64>,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<Vec<usize>>> {
        let u = draw_uniforms(&self.score, probs.nrows(), rng);
        self.predict_sets_with_uniforms(probs, &u)
    }

    /// [`predict_sets`](Self::predict_sets) with the uniform number of
    /// every image given, whether or not the score is `randomised`. For
    /// APS, `u = 1` gives the sets without the class that crosses the
    /// threshold (MAPIE's `include_last_label = False`, except that MAPIE
    /// then keeps the top class in an empty set), `u = 0` the sets with it
    /// (`True`), and `u = 1 - v` MAPIE's `"randomized"` sets drawn with `v`.
    ///
    /// # Errors
    /// As [`predict_sets`](Self::predict_sets); `u` of another length than
    /// the rows, or outside `[0, 1]`.
    pub fn predict_sets_with_uniforms(
        &self,
        probs: ArrayView2<'_, f64>,
        u: &[f64],
    ) -> Result<Vec<Vec<usize>>> {
        check_probabilities(probs, DEFAULT_SUM_TOLERANCE)?;
        if probs.ncols() != self.classes {
            return Err(Error::shape(
                "conformal prediction probabilities",
                format!("{} classes", self.classes),
                format!("{} classes", probs.ncols()),
            ));
        }
        check_uniforms(u, probs.nrows())?;
        let threshold = |c: usize| self.thresholds[c.min(self.thresholds.len() - 1)];
        Ok(probs
            .outer_iter()
            .zip(u)
            .map(|(row, &u)| {
                let s = self.score.scores(row, u);
                (0..self.classes)
                    .filter(|&c| s[c] <= threshold(c))
                    .collect()
            })
            .collect())
    }
}

/// The fraction of sets that hold their label.
///
/// # Errors
/// No sets, or a label count that differs from the set count.
pub fn set_coverage(sets: &[Vec<usize>], labels: &[usize]) -> Result<f64> {
    check_sets(sets, labels.len())?;
    let hit = sets
        .iter()
        .zip(labels)
        .filter(|(s, y)| s.contains(y))
        .count();
    Ok(hit as f64 / sets.len() as f64)
}

/// The mean number of classes per set.
///
/// # Errors
/// No sets.
pub fn mean_set_size(sets: &[Vec<usize>]) -> Result<f64> {
    check_sets(sets, sets.len())?;
    Ok(sets.iter().map(Vec::len).sum::<usize>() as f64 / sets.len() as f64)
}

fn check_sets(sets: &[Vec<usize>], labels: usize) -> Result<()> {
    if sets.is_empty() {
        return Err(Error::empty("no prediction sets"));
    }
    if labels != sets.len() {
        return Err(Error::shape(
            "labels of the prediction sets",
            format!("{} labels", sets.len()),
            format!("{labels} labels"),
        ));
    }
    Ok(())
}
