//! Per-epoch evaluation on held-out data.

use crate::error::{Result, config};
use crate::loader::{Loader, mix_seed};
use crate::predict::{PredictConfig, error_rate, predict_samples, predictive_mean};
use fanaroff_calibrate::{Binning, uce};
use fanaroff_nn::{Module, ModuleExt, is_stochastic};
use ndarray::ArrayD;
use std::collections::BTreeMap;

/// What an evaluator is told about the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalInfo {
    /// Epoch, 0-based.
    pub epoch: usize,
    /// The run's seed.
    pub seed: u64,
    /// The run's minibatch size.
    pub batch_size: usize,
}

/// Computes metrics after every epoch; their names go into the epoch
/// record next to the training metrics (prefix them, e.g. `val_`).
pub trait Evaluate<M>: Send {
    /// Metrics of the model after an epoch.
    ///
    /// # Errors
    /// Model errors, invalid data.
    fn evaluate(&mut self, model: &mut M, info: &EvalInfo) -> Result<BTreeMap<String, f64>>;
}

/// A validation chosen at run time.
impl<M> Evaluate<M> for Box<dyn Evaluate<M> + '_> {
    fn evaluate(&mut self, model: &mut M, info: &EvalInfo) -> Result<BTreeMap<String, f64>> {
        (**self).evaluate(model, info)
    }
}

/// The Monte Carlo predictive on a validation loader: `val_nll` (per
/// example, of the predictive mean over `samples` draws, probabilities
/// floored at 1e-12), `val_acc`, `val_err`, and with
/// [`with_uce`](Validation::with_uce) `val_uce` (10 equal-width bins).
/// Deterministic models are evaluated with one pass. The model is put in
/// evaluation mode for the pass and back into training mode after it.
///
/// Draw `s` of epoch `e` uses the seed `mix(mix(seed ^ "validate", e), s)`.
pub struct Validation<'a> {
    loader: &'a dyn Loader,
    samples: usize,
    uce: bool,
    prob_ce: bool,
    prefix: String,
    data: Option<(ArrayD<f32>, Vec<usize>)>,
}

impl<'a> Validation<'a> {
    /// Validation on `loader` with 4 draws.
    pub fn new(loader: &'a dyn Loader) -> Self {
        Validation {
            loader,
            samples: 4,
            uce: false,
            prob_ce: false,
            prefix: "val".into(),
            data: None,
        }
    }

    /// Sets the number of draws for stochastic models.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for zero draws.
    pub fn samples(mut self, n: usize) -> Result<Self> {
        if n == 0 {
            return Err(config("Validation", "samples must be >= 1"));
        }
        self.samples = n;
        Ok(self)
    }

    /// Names the metrics `<prefix>_nll` ... instead of `val_nll` ... (e.g.
    /// `test` when a held-out test set is only watched, never used to select).
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_string();
        self
    }

    /// Also computes `val_uce`.
    pub fn with_uce(mut self, on: bool) -> Self {
        self.uce = on;
        self
    }

    /// Also reports `<prefix>_prob_ce`: the cross-entropy of the predictive
    /// probabilities taken as logits, `-p_y + ln sum_k exp(p_k)`, the
    /// validation loss of code that applies a cross-entropy loss to a
    /// network's softmax output (the attention study's), so a model can be
    /// selected the way that code selects it.
    pub fn with_probability_ce(mut self, on: bool) -> Self {
        self.prob_ce = on;
        self
    }

    fn data(&mut self) -> Result<&(ArrayD<f32>, Vec<usize>)> {
        if self.data.is_none() {
            let all: Vec<usize> = (0..self.loader.len()).collect();
            let b = self.loader.batch(&all, 0, false)?;
            self.data = Some((b.inputs.data().clone(), b.labels));
        }
        Ok(self.data.as_ref().expect("just set"))
    }
}

impl<M: Module> Evaluate<M> for Validation<'_> {
    fn evaluate(&mut self, model: &mut M, info: &EvalInfo) -> Result<BTreeMap<String, f64>> {
        let samples = if is_stochastic(&*model) {
            self.samples
        } else {
            1
        };
        self.data()?;
        let (x, y) = self.data.as_ref().expect("loaded above");
        model.eval();
        let cfg = PredictConfig::with_samples(samples)
            .batch_size(info.batch_size)
            .seed(mix_seed(
                info.seed ^ 0x7661_6c69_6461_7465,
                info.epoch as u64,
            ));
        let p = predict_samples(&*model, x.view(), &cfg);
        model.train();
        let mean = predictive_mean(p?.view());
        crate::step::check_probs(mean.view(), y)?;
        let nll = mean
            .outer_iter()
            .zip(y)
            .map(|(row, &c)| -(row[c].max(1e-12) as f64).ln())
            .sum::<f64>()
            / y.len() as f64;
        let err = error_rate(mean.view(), y);
        let key = |m: &str| format!("{}_{m}", self.prefix);
        let mut out = BTreeMap::new();
        out.insert(key("nll"), nll);
        out.insert(key("acc"), 1.0 - err);
        out.insert(key("err"), err);
        if self.prob_ce {
            out.insert(key("prob_ce"), probability_ce(mean.view(), y));
        }
        if self.uce {
            let p64 = mean.mapv(f64::from);
            out.insert(key("uce"), uce(p64.view(), y, Binning::new(10)?)?);
        }
        Ok(out)
    }
}

/// Mean over examples of `-p_y + ln sum_k exp(p_k)`.
pub(crate) fn probability_ce(p: ndarray::ArrayView2<'_, f32>, y: &[usize]) -> f64 {
    let total: f64 = p
        .outer_iter()
        .zip(y)
        .map(|(row, &c)| {
            let lse = row.iter().map(|&v| f64::from(v).exp()).sum::<f64>().ln();
            lse - f64::from(row[c])
        })
        .sum();
    total / y.len() as f64
}

#[cfg(test)]
mod tests {
    use super::probability_ce;
    use ndarray::array;

    #[test]
    fn probability_ce_known_values() {
        // p = (1/2, 1/2): ln 2; certain and right: ln(1 + 1/e); wrong: ln(1 + e)
        let p = array![[0.5f32, 0.5], [1.0, 0.0], [1.0, 0.0]];
        let want = [
            std::f64::consts::LN_2,
            (1.0 + (-1.0f64).exp()).ln(),
            (1.0 + 1.0f64.exp()).ln(),
        ];
        for (i, (&w, y)) in want.iter().zip([0, 0, 1]).enumerate() {
            let got = probability_ce(p.slice(ndarray::s![i..i + 1, ..]), &[y]);
            assert!((got - w).abs() < 1e-9, "row {i}: {got} vs {w}");
        }
        let all = probability_ce(p.view(), &[0, 0, 1]);
        assert!((all - want.iter().sum::<f64>() / 3.0).abs() < 1e-9);
    }
}
