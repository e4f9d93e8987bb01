//! The robustness study: a trained model's accuracy and uncertainty on
//! noisy copies of the test images, and the success of PGD and one-pixel
//! attacks on the images it classifies correctly. Works on any model;
//! latent distances need a [`Sequential`] (the penultimate layer's output).
//! Prints nothing; returns [`RobustnessRow`]s.
//!
//! ```
//! use fanaroff_data::{Scaling, SyntheticConfig};
//! use fanaroff_nn::models::{LeNetConfig, lenet};
//! use fanaroff_perturb::RobustnessStudy;
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! let net = lenet(&LeNetConfig { image_size: 54, ..Default::default() }, &mut StdRng::seed_from_u64(0))?;
//! let d = SyntheticConfig::default().with_image_size(54).with_size_range(4.0, 20.0).generate(8)?;
//! let raw = d.images().mapv(f32::from);
//! let study = RobustnessStudy { snr: vec![5.0], pgd_eps: vec![4.0], pgd_steps: 2, one_pixel: 0, ..Default::default() };
//! let rows = study.run(&net, false, &raw, d.labels(), Scaling::Symmetric, 0)?;
//! assert_eq!(rows.len(), 3); // clean, SNR 5, PGD at 4 pixel units
//! assert!(rows[1].latent_distance.unwrap() > 0.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::attack::Bounds;
use crate::attack::{Goal, Norm, OnePixel, Pgd};
use crate::classifier::{GradientClassifier, ModuleClassifier, mean_probabilities};
use crate::error::{Result, config, input};
use crate::flip_distance::flip_distance;
use crate::noise::GaussianSnr;
use crate::perturbation::perturb_batch;
use crate::steps::latent_distance;
use fanaroff_calibrate::{Uncertainty, auroc};
use fanaroff_data::Scaling;
use fanaroff_nn::{Module, Sequential};
use fanaroff_tensor::Tensor;
use fanaroff_train::{PredictConfig, predict_samples};
use ndarray::{Array3, Array4, Axis};
use serde::{Deserialize, Serialize};

/// Settings of the robustness study.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `snr` | 20, 10, 5, 2 | Gaussian noise levels (peak SNR) of the test copies |
/// | `draws` | 20 | weight draws per prediction (1 for a deterministic model) |
/// | `pgd_eps` | 1, 2, 4, 8 | L-inf PGD budgets in pixel units (0-255) |
/// | `pgd_steps` | 10 | PGD steps (step size eps / 4) |
/// | `eot` | 4 | PGD gradients averaged over weight draws |
/// | `one_pixel` | 10 | correctly classified images given to the one-pixel attack |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RobustnessStudy {
    /// Noise levels.
    pub snr: Vec<f64>,
    /// Weight draws per prediction.
    pub draws: usize,
    /// PGD budgets in pixel units.
    pub pgd_eps: Vec<f32>,
    /// PGD steps.
    pub pgd_steps: usize,
    /// Expectation over transformation: draws per PGD gradient.
    pub eot: usize,
    /// Images for the one-pixel attack.
    pub one_pixel: usize,
}

impl Default for RobustnessStudy {
    fn default() -> Self {
        RobustnessStudy {
            snr: vec![20.0, 10.0, 5.0, 2.0],
            draws: 20,
            pgd_eps: vec![1.0, 2.0, 4.0, 8.0],
            pgd_steps: 10,
            eot: 4,
            one_pixel: 10,
        }
    }
}

/// One test of the study: `test` is `clean`, `gaussian_snr`, `pgd_linf`,
/// `one_pixel` or `flip_distance`, `level` its SNR or budget (0 for the
/// others).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustnessRow {
    /// Which test.
    pub test: String,
    /// Its level.
    pub level: f64,
    /// Accuracy of the predictive mean (noise tests).
    pub accuracy: Option<f64>,
    /// Mean normalised predictive entropy (noise tests).
    pub entropy: Option<f64>,
    /// Mean mutual information (noise tests, stochastic models).
    pub mutual_information: Option<f64>,
    /// Mean latent distance to the clean image (noise tests and
    /// `flip_distance`, Sequential models).
    pub latent_distance: Option<f64>,
    /// `flip_distance`: the latent distance divided by the distance between
    /// the class centroids of the clean images.
    pub normalised_distance: Option<f64>,
    /// AUROC of entropy telling noisy from clean copies (noise tests).
    pub auroc_noisy_vs_clean: Option<f64>,
    /// Share of correctly classified images the attack flips (attacks).
    pub attack_success: Option<f64>,
    /// Images attacked (attacks).
    pub attacked: Option<usize>,
}

impl RobustnessRow {
    fn new(test: &str, level: f64) -> Self {
        RobustnessRow {
            test: test.into(),
            level,
            accuracy: None,
            entropy: None,
            mutual_information: None,
            latent_distance: None,
            normalised_distance: None,
            auroc_noisy_vs_clean: None,
            attack_success: None,
            attacked: None,
        }
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// What one set of inputs does to the model.
struct Measured {
    row: RobustnessRow,
    entropy: Vec<f64>,
}

impl RobustnessStudy {
    /// Checks the settings.
    ///
    /// # Errors
    /// Zero draws or steps, a non-positive level.
    pub fn check(&self) -> Result<()> {
        if self.draws == 0 || self.pgd_steps == 0 || self.eot == 0 {
            return Err(config(
                "RobustnessStudy",
                "draws, pgd_steps and eot must be >= 1",
            ));
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        let bad = !self.snr.iter().all(|&s| positive(s))
            || !self.pgd_eps.iter().all(|&e| positive(f64::from(e)));
        if bad {
            return Err(config(
                "RobustnessStudy",
                "noise levels and budgets must be > 0",
            ));
        }
        Ok(())
    }

    /// Runs every test on `model` with the raw test pixels `raw [N, 1, H,
    /// W]` (0-255), their labels and the model's input scaling; `seed`
    /// seeds the noise, the draws and the attacks: the rows of
    /// [`noise`](Self::noise), one per PGD budget, `one_pixel`, and for a
    /// [`Sequential`] model `flip_distance` (the distance in the
    /// penultimate layer between each attacked image and its misclassified
    /// copy, a one-pixel success or else PGD at the smallest flipping
    /// budget; absent when no attack flipped anything).
    ///
    /// # Errors
    /// Invalid settings or inputs; prediction and attack failures.
    pub fn run(
        &self,
        model: &dyn Module,
        stochastic: bool,
        raw: &Array4<f32>,
        labels: &[usize],
        scaling: Scaling,
        seed: u64,
    ) -> Result<Vec<RobustnessRow>> {
        let mut rows = self.noise(model, raw, labels, scaling, seed)?;
        let clean = raw.mapv(|v| scaling.apply_value(v));
        let cls = ModuleClassifier::new(model, stochastic);
        rows.extend(self.attacks(model, &cls, &clean, labels, scaling, seed)?);
        Ok(rows)
    }

    /// The noise tests alone: `clean`, then one `gaussian_snr` row per
    /// level, on `raw [N, 1, H, W]` (0-255) with `labels`.
    ///
    /// # Errors
    /// Invalid settings or inputs; prediction failures.
    pub fn noise(
        &self,
        model: &dyn Module,
        raw: &Array4<f32>,
        labels: &[usize],
        scaling: Scaling,
        seed: u64,
    ) -> Result<Vec<RobustnessRow>> {
        self.check()?;
        let scaled = |x: &Array4<f32>| x.mapv(|v| scaling.apply_value(v));
        let clean = scaled(raw);
        let base = self.measure(
            model,
            &clean,
            &clean,
            labels,
            RobustnessRow::new("clean", 0.0),
        )?;
        let mut rows = vec![base.row.clone()];
        for &snr in &self.snr {
            let noisy = scaled(&perturb_batch(
                &GaussianSnr::new(snr)?,
                raw.view(),
                seed ^ 0xa015e,
            )?);
            let mut m = self.measure(
                model,
                &noisy,
                &clean,
                labels,
                RobustnessRow::new("gaussian_snr", snr),
            )?;
            let scores: Vec<f64> = base.entropy.iter().chain(&m.entropy).copied().collect();
            let noisy_flag: Vec<bool> =
                (0..scores.len()).map(|i| i >= base.entropy.len()).collect();
            m.row.auroc_noisy_vs_clean = auroc(&scores, &noisy_flag).ok();
            rows.push(m.row);
        }
        Ok(rows)
    }

    fn measure(
        &self,
        model: &dyn Module,
        x: &Array4<f32>,
        clean: &Array4<f32>,
        labels: &[usize],
        mut row: RobustnessRow,
    ) -> Result<Measured> {
        let draws = if fanaroff_nn::is_stochastic(model) {
            self.draws
        } else {
            1
        };
        let cfg = PredictConfig::with_samples(draws).seed(7);
        let s = predict_samples(model, x.view().into_dyn(), &cfg)?.mapv(f64::from);
        let u = Uncertainty::from_samples(s.view())?;
        let right = u
            .predicted_class
            .iter()
            .zip(labels)
            .filter(|(p, y)| p == y)
            .count();
        row.accuracy = Some(right as f64 / labels.len().max(1) as f64);
        row.entropy = Some(mean(&u.normalised_entropy));
        row.mutual_information = u
            .mutual_information
            .as_deref()
            .filter(|_| draws > 1)
            .map(mean);
        if let Some(seq) = model.as_any().and_then(|a| a.downcast_ref::<Sequential>()) {
            let (c, p) = (
                Tensor::new(clean.clone().into_dyn()),
                Tensor::new(x.clone().into_dyn()),
            );
            row.latent_distance = Some(mean(&latent_distance(seq, seq.len() - 1, &c, &p, 7)?));
        }
        Ok(Measured {
            row,
            entropy: u.normalised_entropy,
        })
    }

    /// PGD per budget and the one-pixel attack on the correctly classified
    /// images, then the latent distance of each image to its first flip.
    fn attacks(
        &self,
        model: &dyn Module,
        cls: &dyn GradientClassifier,
        clean: &Array4<f32>,
        labels: &[usize],
        scaling: Scaling,
        seed: u64,
    ) -> Result<Vec<RobustnessRow>> {
        let predict = |x: &Array4<f32>| -> Result<Vec<usize>> {
            let p = mean_probabilities(cls, x.view(), self.draws, 11)?;
            Ok(p.outer_iter().map(|r| usize::from(r[1] > r[0])).collect())
        };
        let p0 = predict(clean)?;
        let right: Vec<usize> = (0..labels.len()).filter(|&i| p0[i] == labels[i]).collect();
        let (xs, ys) = (
            clean.select(Axis(0), &right),
            right.iter().map(|&i| labels[i]).collect::<Vec<_>>(),
        );
        let mut flips = Flips::new(ys.len());
        let targets = Targets {
            cls,
            xs: &xs,
            ys: &ys,
            bounds: Bounds::new(scaling.apply_value(0.0), scaling.apply_value(255.0))?,
            unit: scaling.apply_value(1.0) - scaling.apply_value(0.0),
            seed,
        };
        let mut rows = self.pgd(&targets, &predict, &mut flips)?;
        if self.one_pixel > 0 {
            rows.push(self.one_pixel(&targets, &mut flips)?);
        }
        if let Some(seq) = model.as_any().and_then(|a| a.downcast_ref::<Sequential>()) {
            rows.extend(flips.row(seq, &xs, clean, labels)?);
        }
        Ok(rows)
    }

    /// One row per PGD budget; records each image's flip at its smallest budget.
    fn pgd(
        &self,
        t: &Targets<'_>,
        predict: &dyn Fn(&Array4<f32>) -> Result<Vec<usize>>,
        flips: &mut Flips,
    ) -> Result<Vec<RobustnessRow>> {
        let (xs, ys, unit) = (t.xs, t.ys, t.unit);
        let mut rows = Vec::new();
        for &eps in &self.pgd_eps {
            let pgd = Pgd::new(Norm::LInf, eps * unit, t.bounds)?
                .steps(self.pgd_steps, 0.25 * eps * unit)?
                .eot(self.eot)?;
            let adv = pgd.attack(t.cls, xs.view(), ys, t.seed)?;
            let pred = predict(&adv)?;
            let mut flipped = 0;
            for (j, (a, b)) in pred.iter().zip(ys).enumerate() {
                if a != b {
                    flipped += 1;
                    flips.offer(j, f64::from(eps), || adv.index_axis(Axis(0), j).to_owned());
                }
            }
            let mut row = RobustnessRow::new("pgd_linf", f64::from(eps));
            row.attack_success = Some(flipped as f64 / ys.len().max(1) as f64);
            row.attacked = Some(ys.len());
            rows.push(row);
        }
        Ok(rows)
    }

    /// The one-pixel attack on the first `one_pixel` images; a success is
    /// each image's preferred flip.
    fn one_pixel(&self, t: &Targets<'_>, flips: &mut Flips) -> Result<RobustnessRow> {
        let de = OnePixel::new(Goal::PAPER_UNTARGETED, t.bounds);
        let n = self.one_pixel.min(t.ys.len());
        let mut wins = 0;
        for (j, &y) in t.ys.iter().enumerate().take(n) {
            let r = de.attack(t.cls, t.xs.index_axis(Axis(0), j), y, t.seed + j as u64)?;
            if r.success {
                wins += 1;
                flips.offer(j, 0.0, || r.image.clone());
            }
        }
        let mut row = RobustnessRow::new("one_pixel", 0.0);
        row.attack_success = Some(wins as f64 / n.max(1) as f64);
        row.attacked = Some(n);
        Ok(row)
    }
}

/// The correctly classified images the attacks work on, and their setting.
struct Targets<'a> {
    cls: &'a dyn GradientClassifier,
    xs: &'a Array4<f32>,
    ys: &'a [usize],
    /// Valid input range.
    bounds: Bounds,
    /// One pixel unit (of 0-255) in model input scale.
    unit: f32,
    seed: u64,
}

/// Per attacked image, its misclassified copy of lowest cost: a successful
/// one pixel (cost 0) before PGD at the smallest flipping budget.
struct Flips(Vec<Option<(f64, Array3<f32>)>>);

impl Flips {
    fn new(n: usize) -> Self {
        Flips(vec![None; n])
    }

    fn offer(&mut self, j: usize, cost: f64, image: impl FnOnce() -> Array3<f32>) {
        if self.0[j].as_ref().is_none_or(|(c, _)| cost < *c) {
            self.0[j] = Some((cost, image()));
        }
    }

    /// The `flip_distance` row: the mean latent distance of each flipped
    /// image to its clean original, normalised by the distance between the
    /// class centroids of all clean images; none when nothing flipped.
    fn row(
        &self,
        seq: &Sequential,
        xs: &Array4<f32>,
        clean: &Array4<f32>,
        labels: &[usize],
    ) -> Result<Option<RobustnessRow>> {
        let found: Vec<usize> = (0..self.0.len()).filter(|&j| self.0[j].is_some()).collect();
        if found.is_empty() {
            return Ok(None);
        }
        let views: Vec<_> = found
            .iter()
            .filter_map(|&j| self.0[j].as_ref().map(|(_, im)| im.view()))
            .collect();
        let flipped = ndarray::stack(Axis(0), &views)
            .map_err(|e| input::<crate::Error>("flip_distance", e.to_string()))?;
        let d = flip_distance(seq, &xs.select(Axis(0), &found), &flipped, clean, labels, 7)?;
        let mut row = RobustnessRow::new("flip_distance", 0.0);
        row.latent_distance = Some(d.mean);
        row.normalised_distance = Some(d.normalised());
        row.attacked = Some(d.pairs);
        Ok(Some(row))
    }
}
