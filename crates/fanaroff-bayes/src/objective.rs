//! The minibatch ELBO with KL weighting and temperature.

use crate::error::{Result, config, input};
use fanaroff_nn::kl::KlTerms;
use fanaroff_nn::{Reduction, cross_entropy};
use fanaroff_tensor::Tensor;
use serde::{Deserialize, Serialize};

/// How the KL of minibatch `i` (1-based) of `M` is weighted.
///
/// ```text
/// Uniform:  pi_i = 1 / M
/// Blundell: pi_i = 2^(M-i) / (2^M - 1)      (sums to 1 over an epoch)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum KlWeighting {
    /// `1 / M` (the paper's `T / M` with the temperature).
    #[default]
    Uniform,
    /// Blundell et al.'s `2^(M-i) / (2^M - 1)`.
    Blundell,
}

impl KlWeighting {
    /// `pi_i` for minibatch `i` (0-based here) of `m`.
    pub fn weight(self, i: usize, m: usize) -> f64 {
        match self {
            KlWeighting::Uniform => 1.0 / m as f64,
            KlWeighting::Blundell => {
                // 2^(M-i-1) / (2^M - 1) with 0-based i, computed without overflow
                let k = (m - i - 1) as f64;
                let mf = m as f64;
                (k * std::f64::consts::LN_2
                    - mf * std::f64::consts::LN_2
                    - (-(-mf * std::f64::consts::LN_2).exp()).ln_1p())
                .exp()
            }
        }
    }
}

/// Where the temperature `T` enters.
///
/// ```text
/// KlScaled (paper, "cold posterior"): L_i = NLL_i + pi_i T (ln q - ln p)
/// Likelihood (tempered likelihood):   L_i = NLL_i / T + pi_i (ln q - ln p)
/// Posterior (Wenzel et al., prior and likelihood both tempered):
///                                     L_i = NLL_i + pi_i (T ln q - ln p)
/// ```
/// `KlScaled` and `Likelihood` have the same minimiser (they differ by the
/// factor `T`; with Adam also the same steps up to its `eps`). `T = 1` is
/// the true ELBO in every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Tempering {
    /// The paper's KL scaling.
    #[default]
    KlScaled,
    /// Likelihood raised to the power `1 / T`.
    Likelihood,
    /// The whole posterior tempered: only the entropy term is scaled.
    Posterior,
}

/// The per-minibatch objective (negative ELBO). NLL is the cross-entropy
/// **summed over the minibatch**; the KL is summed over all weights.
///
/// | name | default | meaning | valid range |
/// |---|---|---|---|
/// | `temperature` | 0.01 | posterior temperature `T` | > 0, finite |
/// | `weighting` | `Uniform` | [`KlWeighting`] | |
/// | `tempering` | `KlScaled` | [`Tempering`] | |
///
/// # Example
/// ```
/// use fanaroff_bayes::Elbo;
/// use fanaroff_nn::kl::KlTerms;
/// use fanaroff_tensor::Tensor;
/// let elbo = Elbo::default().temperature(1.0).check().unwrap();
/// let logits = Tensor::from_vec(vec![0.0, 0.0], &[1, 2]).unwrap();
/// let kl = KlTerms::from_tensor(Tensor::from_vec(vec![5.0, 1.0], &[2]).unwrap()).unwrap();
/// let out = elbo.loss(&logits, &[0], &kl, 0, 2).unwrap();
/// // ln 2 + (1/2) * (5 - 1)
/// assert!((out.loss.item().unwrap() as f64 - (2f64.ln() + 2.0)).abs() < 1e-5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Elbo {
    /// Temperature `T`.
    pub temperature: f64,
    /// KL weighting over minibatches.
    pub weighting: KlWeighting,
    /// Where `T` enters.
    pub tempering: Tempering,
}

impl Default for Elbo {
    fn default() -> Self {
        Elbo {
            temperature: 1e-2,
            weighting: KlWeighting::Uniform,
            tempering: Tempering::KlScaled,
        }
    }
}

/// One evaluation of [`Elbo::loss`].
#[derive(Debug, Clone)]
pub struct ElboOutput {
    /// The differentiable loss.
    pub loss: Tensor,
    /// Summed NLL of the minibatch.
    pub nll: f64,
    /// `ln q - ln p` of the draw (unweighted).
    pub kl: f64,
    /// The KL weight `pi_i` used.
    pub kl_weight: f64,
    /// Correct predictions (argmax of the logits) in the minibatch.
    pub correct: usize,
}

impl Elbo {
    /// Sets the temperature.
    pub fn temperature(mut self, t: f64) -> Self {
        self.temperature = t;
        self
    }
    /// Sets the KL weighting.
    pub fn weighting(mut self, w: KlWeighting) -> Self {
        self.weighting = w;
        self
    }
    /// Sets the tempering.
    pub fn tempering(mut self, t: Tempering) -> Self {
        self.tempering = t;
        self
    }
    /// Validates the settings.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless `T > 0` and finite.
    pub fn check(self) -> Result<Self> {
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return Err(config(
                "Elbo",
                format!(
                    "temperature {} must be positive and finite",
                    self.temperature
                ),
            ));
        }
        Ok(self)
    }

    /// The loss of minibatch `i` (0-based) of `m` from logits `[N, K]`.
    ///
    /// # Errors
    /// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for an empty
    /// batch, `i >= m`, label count mismatch, labels out of range or
    /// non-finite logits.
    pub fn loss(
        &self,
        logits: &Tensor,
        targets: &[usize],
        kl: &KlTerms,
        i: usize,
        m: usize,
    ) -> Result<ElboOutput> {
        if targets.is_empty() || logits.ndim() != 2 || logits.shape()[0] != targets.len() {
            return Err(input(
                "Elbo::loss",
                format!(
                    "logits {:?} do not fit {} targets (need [N, K], N > 0)",
                    logits.shape(),
                    targets.len()
                ),
            ));
        }
        if i >= m {
            return Err(input("Elbo::loss", format!("minibatch {i} of {m}")));
        }
        if logits.data().iter().any(|v| !v.is_finite()) {
            return Err(input("Elbo::loss", "non-finite logits"));
        }
        let nll = cross_entropy(logits, targets, Reduction::Sum)?;
        let pi = self.weighting.weight(i, m);
        let t = self.temperature;
        let loss = match self.tempering {
            Tempering::KlScaled => nll.add(&kl.weighted(pi * t, pi * t)?)?,
            Tempering::Likelihood => nll
                .mul_scalar((1.0 / t) as f32)
                .add(&kl.weighted(pi, pi)?)?,
            Tempering::Posterior => nll.add(&kl.weighted(pi * t, pi)?)?,
        };
        let k = logits.shape()[1];
        let correct = logits
            .data()
            .as_standard_layout()
            .as_slice()
            .map(|v| {
                v.chunks(k)
                    .zip(targets)
                    .filter(|(row, t)| fanaroff_train::argmax(row) == **t)
                    .count()
            })
            .unwrap_or(0);
        Ok(ElboOutput {
            nll: nll.item()? as f64,
            kl: kl.kl_value(),
            kl_weight: pi,
            loss,
            correct,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn blundell_weights_sum_to_one_and_halve() {
        for m in [1, 2, 12, 60] {
            let w: Vec<f64> = (0..m).map(|i| KlWeighting::Blundell.weight(i, m)).collect();
            assert_relative_eq!(w.iter().sum::<f64>(), 1.0, max_relative = 1e-12);
            for i in 1..m {
                assert_relative_eq!(w[i - 1] / w[i], 2.0, max_relative = 1e-9);
            }
        }
        // M = 3: 4/7, 2/7, 1/7
        assert_relative_eq!(
            KlWeighting::Blundell.weight(0, 3),
            4.0 / 7.0,
            max_relative = 1e-12
        );
        assert_relative_eq!(KlWeighting::Uniform.weight(5, 12), 1.0 / 12.0);
        // very long epochs do not overflow
        assert!(KlWeighting::Blundell.weight(0, 5000).is_finite());
    }

    #[test]
    fn tempering_variants() {
        let logits = Tensor::from_vec(vec![1.0, -1.0, 0.5, 0.5], &[2, 2]).unwrap();
        let kl = KlTerms::from_tensor(Tensor::from_vec(vec![10.0, 4.0], &[2]).unwrap()).unwrap();
        let y = [0, 1];
        let nll = {
            let a = (1.0f64 + (-2.0f64).exp()).ln();
            a + 2f64.ln()
        };
        let t = 0.1;
        let e = Elbo::default().temperature(t);
        let l1 = e.loss(&logits, &y, &kl, 0, 4).unwrap();
        assert_relative_eq!(
            l1.loss.item().unwrap() as f64,
            nll + 0.25 * t * 6.0,
            max_relative = 1e-6
        );
        assert_eq!(l1.correct, 1);
        let l2 = e
            .tempering(Tempering::Likelihood)
            .loss(&logits, &y, &kl, 0, 4)
            .unwrap();
        assert_relative_eq!(
            l2.loss.item().unwrap() as f64,
            nll / t + 0.25 * 6.0,
            max_relative = 1e-6
        );
        let l3 = e
            .tempering(Tempering::Posterior)
            .loss(&logits, &y, &kl, 0, 4)
            .unwrap();
        assert_relative_eq!(
            l3.loss.item().unwrap() as f64,
            nll + 0.25 * (t * 10.0 - 4.0),
            max_relative = 1e-6
        );
    }

    #[test]
    fn bad_inputs_are_errors() {
        let logits = Tensor::from_vec(vec![1.0, f32::NAN], &[1, 2]).unwrap();
        let kl = KlTerms::zero();
        let e = Elbo::default();
        assert!(e.loss(&logits, &[0], &kl, 0, 1).is_err());
        let ok = Tensor::zeros(&[1, 2]);
        assert!(e.loss(&ok, &[], &kl, 0, 1).is_err());
        assert!(e.loss(&ok, &[0, 1], &kl, 0, 1).is_err());
        assert!(e.loss(&ok, &[0], &kl, 1, 1).is_err());
        assert!(e.loss(&ok, &[2], &kl, 0, 1).is_err());
        assert!(Elbo::default().temperature(0.0).check().is_err());
        assert!(Elbo::default().temperature(f64::NAN).check().is_err());
    }
}
