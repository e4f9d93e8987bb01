//! The KL terms of variational layers.
//!
//! A variational layer anywhere in a model (inside a user's struct, on a
//! skip path, in a two-input module) adds its terms to the forward pass's
//! accumulator with [`Pass::record_kl`](crate::Pass::record_kl); the
//! caller of a pass built with [`Pass::collecting_kl`](crate::Pass::collecting_kl)
//! reads the sum with [`Pass::kl`](crate::Pass::kl). Nothing is summed by
//! hand, nothing is dropped, and nothing travels beside the call stack.

use crate::error::{Result, input};
use fanaroff_tensor::Tensor;

/// The KL terms of a forward pass: `[ln q, ln p]` summed over all weights
/// (expectations under `q` when closed form, Monte Carlo values otherwise),
/// as a differentiable `[2]` tensor; `KL = ln q - ln p`. Also counts how
/// many layers contributed.
#[derive(Debug, Clone)]
pub struct KlTerms {
    terms: Tensor,
    layers: usize,
}

impl Default for KlTerms {
    fn default() -> Self {
        Self::zero()
    }
}

impl KlTerms {
    /// No KL (deterministic models, [`SampleMode::Mean`](crate::SampleMode::Mean)).
    pub fn zero() -> Self {
        KlTerms {
            terms: Tensor::zeros(&[2]),
            layers: 0,
        }
    }

    /// Wraps a `[2]` tensor `[ln q, ln p]` of one layer.
    ///
    /// # Errors
    /// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for another shape.
    pub fn from_tensor(terms: Tensor) -> Result<Self> {
        if terms.shape() != [2] {
            return Err(input(
                "KlTerms",
                format!("need shape [2], got {:?}", terms.shape()),
            ));
        }
        Ok(KlTerms { terms, layers: 1 })
    }

    /// The `[2]` tensor `[ln q, ln p]`.
    pub fn tensor(&self) -> &Tensor {
        &self.terms
    }

    /// Number of layer contributions summed in.
    pub fn layers(&self) -> usize {
        self.layers
    }

    /// Sum of two sets of terms.
    ///
    /// # Errors
    /// Tensor errors (none for well-formed terms).
    pub fn add(&self, other: &KlTerms) -> Result<KlTerms> {
        Ok(KlTerms {
            terms: self.terms.add(&other.terms)?,
            layers: self.layers + other.layers,
        })
    }

    /// `ln q` as a number.
    pub fn log_q(&self) -> f64 {
        self.terms.data()[[0]] as f64
    }
    /// `ln p` as a number.
    pub fn log_p(&self) -> f64 {
        self.terms.data()[[1]] as f64
    }
    /// `KL = ln q - ln p` as a number.
    pub fn kl_value(&self) -> f64 {
        self.log_q() - self.log_p()
    }

    /// The differentiable scalar `a * ln q - b * ln p` (`a = b`: `a * KL`).
    ///
    /// # Errors
    /// Tensor errors (none for well-formed terms).
    pub fn weighted(&self, a: f64, b: f64) -> Result<Tensor> {
        let c = Tensor::from_vec(vec![a as f32, -b as f32], &[2])?;
        Ok(self.terms.mul(&c)?.sum())
    }
}
