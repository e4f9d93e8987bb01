//! Collecting the KL terms of every variational layer of a forward pass.
//!
//! A variational layer anywhere in a model (inside a user's struct, on a
//! skip path, in a two-input module) calls [`record_kl`] during its forward
//! pass; [`collect_kl`] runs a closure with a fresh collector on this thread
//! and returns the sum. Nothing is summed by hand and nothing is dropped:
//! the ELBO step wraps the whole forward pass. Outside a collector (plain
//! prediction) layers skip the KL computation.
//!
//! The collector is per thread: a model that runs sub-modules on other
//! threads must collect there and [`record_kl`] the result on the caller's
//! thread.

use crate::error::{Result, input};
use fanaroff_tensor::Tensor;
use std::cell::RefCell;

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

thread_local! {
    static STACK: RefCell<Vec<Option<KlTerms>>> = const { RefCell::new(Vec::new()) };
}

/// Pops the collector even when the closure panics.
struct Pop;

impl Drop for Pop {
    fn drop(&mut self) {
        STACK.with(|s| {
            s.borrow_mut().pop();
        });
    }
}

/// Runs `f` (a forward pass) with a KL collector and returns its result
/// with the summed KL terms of every variational layer it ran. Collectors
/// nest: an inner one keeps its terms to itself.
///
/// # Errors
/// Whatever `f` returns.
///
/// # Example
/// ```
/// use fanaroff_nn::kl::{KlTerms, collect_kl, record_kl};
/// use fanaroff_tensor::Tensor;
/// let (y, kl) = collect_kl(|| {
///     record_kl(&KlTerms::from_tensor(Tensor::from_vec(vec![3.0, 1.0], &[2])?)?)?;
///     record_kl(&KlTerms::from_tensor(Tensor::from_vec(vec![1.0, 0.5], &[2])?)?)?;
///     Ok::<_, fanaroff_nn::Error>(7)
/// })?;
/// assert_eq!((y, kl.layers()), (7, 2));
/// assert!((kl.kl_value() - 2.5).abs() < 1e-6);
/// # Ok::<(), fanaroff_nn::Error>(())
/// ```
pub fn collect_kl<T, E>(
    f: impl FnOnce() -> std::result::Result<T, E>,
) -> std::result::Result<(T, KlTerms), E> {
    STACK.with(|s| s.borrow_mut().push(None));
    let pop = Pop;
    let out = f();
    let terms = STACK.with(|s| s.borrow_mut().last_mut().and_then(Option::take));
    drop(pop);
    Ok((out?, terms.unwrap_or_default()))
}

/// Whether a collector is active on this thread (layers skip computing
/// their KL when not).
pub fn is_collecting() -> bool {
    STACK.with(|s| !s.borrow().is_empty())
}

/// Adds one layer's terms to the innermost active collector; a no-op when
/// none is active.
///
/// # Errors
/// Tensor errors (none for well-formed terms).
pub fn record_kl(terms: &KlTerms) -> Result<()> {
    STACK.with(|s| {
        let mut s = s.borrow_mut();
        if let Some(slot) = s.last_mut() {
            *slot = Some(match slot.take() {
                None => terms.clone(),
                Some(acc) => acc.add(terms)?,
            });
        }
        Ok(())
    })
}
