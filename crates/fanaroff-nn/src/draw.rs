//! One posterior draw across the batches of a prediction pass.
//!
//! Monte Carlo prediction runs a model over a data set in batches. Two
//! kinds of noise behave differently there:
//!
//! - *weight noise* (a variational layer sampling its weights) must be the
//!   same in every batch of a draw, so that draw `s` is one network taken
//!   from the posterior;
//! - *per-example noise* (dropout masks, local-reparameterisation
//!   pre-activation noise, Flipout signs) must differ between examples,
//!   including examples at the same position of different batches.
//!
//! [`WeightDraw::begin`] installs a weight-noise stream on this thread for
//! the duration of a forward pass. Variational layers take their weight
//! noise from it through [`weight_noise`]; the forward pass's own RNG then
//! feeds per-example noise only and can be seeded per batch. Outside a
//! draw (training) layers use the forward pass's RNG for everything.
//!
//! A draw can also ask every variational layer to sample its weights
//! whatever estimator it was trained with ([`weight_sampling`]), so that
//! predictions come from the posterior `q(w)` itself rather than from the
//! local-reparameterisation approximation of it.
//!
//! ```
//! use fanaroff_nn::draw::{WeightDraw, weight_noise};
//! use rand::{RngCore, SeedableRng, rngs::StdRng};
//! let mut batch_rng = StdRng::seed_from_u64(1);
//! let a = {
//!     let _draw = WeightDraw::begin(7, true);
//!     weight_noise(&mut batch_rng, |r| r.next_u64())
//! };
//! let b = {
//!     let _draw = WeightDraw::begin(7, true);
//!     weight_noise(&mut batch_rng, |r| r.next_u64())
//! };
//! assert_eq!(a, b); // the same weights in every batch of draw 7
//! ```

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use std::cell::RefCell;

struct Active {
    weights: Option<StdRng>,
    weight_sampling: bool,
}

thread_local! {
    static DRAW: RefCell<Option<Active>> = const { RefCell::new(None) };
}

/// A weight draw active on this thread until it is dropped (the previous
/// one, if any, comes back: draws nest, e.g. when rayon runs another
/// draw's task on this thread while this one waits).
#[must_use = "the draw ends when this guard is dropped"]
pub struct WeightDraw {
    previous: Option<Active>,
}

impl WeightDraw {
    /// Starts a draw whose weight noise comes from `StdRng::seed_from_u64(seed)`;
    /// with `weight_sampling` every variational layer samples weights.
    pub fn begin(seed: u64, weight_sampling: bool) -> Self {
        let active = Active {
            weights: Some(StdRng::seed_from_u64(seed)),
            weight_sampling,
        };
        WeightDraw {
            previous: DRAW.with(|d| d.borrow_mut().replace(active)),
        }
    }

    /// Suspends any active draw until the guard is dropped: a layer with
    /// its own fixed seed ([`SampleMode::Fixed`](crate::SampleMode::Fixed))
    /// keeps it inside a prediction pass.
    pub fn suspend() -> Self {
        WeightDraw {
            previous: DRAW.with(|d| d.borrow_mut().take()),
        }
    }
}

impl Drop for WeightDraw {
    fn drop(&mut self) {
        let previous = self.previous.take();
        DRAW.with(|d| *d.borrow_mut() = previous);
    }
}

/// Runs `f` with the active draw's weight-noise stream, or with `fallback`
/// (the forward pass's RNG) outside a draw.
pub fn weight_noise<T>(fallback: &mut dyn RngCore, f: impl FnOnce(&mut dyn RngCore) -> T) -> T {
    let taken = DRAW.with(|d| d.borrow_mut().as_mut().and_then(|a| a.weights.take()));
    match taken {
        Some(mut rng) => {
            let out = f(&mut rng);
            DRAW.with(|d| {
                if let Some(a) = d.borrow_mut().as_mut() {
                    a.weights = Some(rng);
                }
            });
            out
        }
        None => f(fallback),
    }
}

/// Whether the active draw asks variational layers to sample weights
/// whatever their training estimator (false outside a draw).
pub fn weight_sampling() -> bool {
    DRAW.with(|d| d.borrow().as_ref().is_some_and(|a| a.weight_sampling))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_nest_and_end() {
        let mut fallback = StdRng::seed_from_u64(0);
        let outside = weight_noise(&mut StdRng::seed_from_u64(0), |r| r.next_u64());
        assert_eq!(weight_noise(&mut fallback, |r| r.next_u64()), outside);
        assert!(!weight_sampling());
        let outer = WeightDraw::begin(3, false);
        let first = weight_noise(&mut fallback, |r| r.next_u64());
        {
            let _inner = WeightDraw::begin(3, true);
            assert!(weight_sampling());
            assert_eq!(weight_noise(&mut fallback, |r| r.next_u64()), first);
        }
        {
            let _off = WeightDraw::suspend();
            assert_eq!(
                weight_noise(&mut StdRng::seed_from_u64(0), |r| r.next_u64()),
                outside
            );
        }
        assert!(!weight_sampling());
        let second = weight_noise(&mut fallback, |r| r.next_u64());
        assert_ne!(first, second, "the outer stream continues");
        drop(outer);
        let mut again = StdRng::seed_from_u64(0);
        again.next_u64();
        assert_eq!(
            weight_noise(&mut fallback, |r| r.next_u64()),
            again.next_u64(),
            "outside a draw the fallback is used"
        );
    }
}
