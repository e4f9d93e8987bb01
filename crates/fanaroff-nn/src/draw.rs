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
    /// One weight-noise stream per draw of the pass (taken out while in use).
    weights: Option<Vec<StdRng>>,
    weight_sampling: bool,
    /// Examples of the pass's input, when it carries several draws.
    batch: Option<usize>,
}

/// Several posterior draws evaluated in one forward pass (see
/// [`WeightDraw::begin_group`]): `draws` networks, an input of `batch`
/// examples shared by all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrawGroup {
    /// Draws in the pass.
    pub draws: usize,
    /// Examples of the input the draws share.
    pub batch: usize,
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
        Self::install(Active {
            weights: Some(vec![StdRng::seed_from_u64(seed)]),
            weight_sampling,
            batch: None,
        })
    }

    /// Starts a pass that evaluates one draw per seed at once, on an input
    /// of `batch` examples. Variational layers that support groups
    /// (`fanaroff-bayes`'s do, see [`group`]) take weight noise for draw
    /// `g` from `StdRng::seed_from_u64(seeds[g])` (the stream
    /// [`begin`](Self::begin) would give it) and return `seeds.len()`
    /// blocks of `batch` rows, block `g` computed with draw `g`'s weights.
    /// Groups sample weights (`weight_sampling` on). A single seed is an
    /// ordinary draw.
    ///
    /// ```
    /// use fanaroff_nn::draw::{DrawGroup, WeightDraw, group, weight_noises};
    /// use rand::{RngCore, SeedableRng, rngs::StdRng};
    /// let mut fallback = StdRng::seed_from_u64(0);
    /// let _pass = WeightDraw::begin_group(&[4, 9], 50);
    /// assert_eq!(group(), Some(DrawGroup { draws: 2, batch: 50 }));
    /// let noise = weight_noises(&mut fallback, |r| r.next_u64());
    /// assert_eq!(noise, vec![StdRng::seed_from_u64(4).next_u64(), StdRng::seed_from_u64(9).next_u64()]);
    /// ```
    pub fn begin_group(seeds: &[u64], batch: usize) -> Self {
        Self::install(Active {
            weights: Some(seeds.iter().map(|&s| StdRng::seed_from_u64(s)).collect()),
            weight_sampling: true,
            batch: (seeds.len() > 1).then_some(batch),
        })
    }

    fn install(active: Active) -> Self {
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
/// (the forward pass's RNG) outside a draw. In a group of several draws
/// this is the first draw's stream: layers that draw weights in a group
/// use [`weight_noises`].
pub fn weight_noise<T>(fallback: &mut dyn RngCore, f: impl FnOnce(&mut dyn RngCore) -> T) -> T {
    let mut f = Some(f);
    let mut out = with_streams(fallback, 1, &mut |r| (f.take().expect("called once"))(r));
    out.pop().expect("one value")
}

/// Runs `f` once per draw of the active group, each time with that draw's
/// weight-noise stream: one value per draw (one value, from the draw's
/// stream or `fallback`, outside a group).
pub fn weight_noises<T>(
    fallback: &mut dyn RngCore,
    mut f: impl FnMut(&mut dyn RngCore) -> T,
) -> Vec<T> {
    with_streams(fallback, usize::MAX, &mut f)
}

/// `f` with each of the first `limit` streams of the active draw, or with
/// `fallback` when no draw is active.
fn with_streams<T>(
    fallback: &mut dyn RngCore,
    limit: usize,
    f: &mut dyn FnMut(&mut dyn RngCore) -> T,
) -> Vec<T> {
    let taken = DRAW.with(|d| d.borrow_mut().as_mut().and_then(|a| a.weights.take()));
    let Some(mut streams) = taken else {
        return vec![f(fallback)];
    };
    let out = streams
        .iter_mut()
        .take(limit)
        .map(|r| f(r as &mut dyn RngCore))
        .collect();
    DRAW.with(|d| {
        if let Some(a) = d.borrow_mut().as_mut() {
            a.weights = Some(streams);
        }
    });
    out
}

/// Runs `f(g)` once per draw `g` of the active group with only that draw
/// active, as in an ordinary one-draw pass on the group's stream `g`: for
/// a layer that evaluates the draws of a group one at a time on an input
/// they share. Outside a group, `f(0)` once. Each stream continues where
/// `f` left it.
///
/// ```
/// use fanaroff_nn::draw::{WeightDraw, group, per_draw, weight_noise};
/// use rand::{RngCore, SeedableRng, rngs::StdRng};
/// let mut fallback = StdRng::seed_from_u64(0);
/// let _pass = WeightDraw::begin_group(&[4, 9], 50);
/// let noise = per_draw(|_| {
///     assert_eq!(group(), None); // one draw at a time
///     weight_noise(&mut fallback, |r| r.next_u64())
/// });
/// assert_eq!(noise, vec![StdRng::seed_from_u64(4).next_u64(), StdRng::seed_from_u64(9).next_u64()]);
/// assert_eq!(group().map(|g| g.draws), Some(2));
/// ```
pub fn per_draw<T>(mut f: impl FnMut(usize) -> T) -> Vec<T> {
    let Some(active) = group_taken() else {
        return vec![f(0)];
    };
    let (mut streams, sampling) = active;
    let mut out = Vec::with_capacity(streams.len());
    for (g, stream) in streams.iter_mut().enumerate() {
        let one = std::mem::replace(stream, StdRng::seed_from_u64(0));
        let guard = WeightDraw::install(Active {
            weights: Some(vec![one]),
            weight_sampling: sampling,
            batch: None,
        });
        out.push(f(g));
        let back = DRAW.with(|d| d.borrow_mut().as_mut().and_then(|a| a.weights.take()));
        drop(guard);
        if let Some(mut v) = back {
            *stream = v.pop().expect("one stream");
        }
    }
    DRAW.with(|d| {
        if let Some(a) = d.borrow_mut().as_mut() {
            a.weights = Some(streams);
        }
    });
    out
}

/// The streams of an active group of several draws, taken out (the group
/// stays installed without them), and its weight-sampling flag.
fn group_taken() -> Option<(Vec<StdRng>, bool)> {
    DRAW.with(|d| {
        let mut d = d.borrow_mut();
        let a = d.as_mut()?;
        a.batch?;
        Some((a.weights.take()?, a.weight_sampling))
    })
}

/// The active group of several draws, if any (`None` outside a pass, in
/// an ordinary one-draw pass and while [`WeightDraw::suspend`] holds).
pub fn group() -> Option<DrawGroup> {
    DRAW.with(|d| {
        let d = d.borrow();
        let a = d.as_ref()?;
        Some(DrawGroup {
            draws: a.weights.as_ref()?.len(),
            batch: a.batch?,
        })
    })
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

    #[test]
    fn a_group_gives_each_draw_its_own_stream() {
        let mut fallback = StdRng::seed_from_u64(0);
        assert_eq!(group(), None);
        let pass = WeightDraw::begin_group(&[5, 6, 7], 10);
        assert_eq!(
            group(),
            Some(DrawGroup {
                draws: 3,
                batch: 10
            })
        );
        assert!(weight_sampling(), "groups sample weights");
        let first = weight_noises(&mut fallback, |r| r.next_u64());
        let second = weight_noises(&mut fallback, |r| r.next_u64());
        for (g, seed) in [5u64, 6, 7].into_iter().enumerate() {
            let mut own = StdRng::seed_from_u64(seed);
            assert_eq!(first[g], own.next_u64(), "draw {g} starts its own stream");
            assert_eq!(second[g], own.next_u64(), "and continues it");
        }
        {
            let _fixed = WeightDraw::suspend();
            assert_eq!(group(), None, "a fixed-seed layer sees no group");
        }
        assert_eq!(group().map(|g| g.draws), Some(3));
        drop(pass);
        assert_eq!(group(), None);
        let _one = WeightDraw::begin_group(&[5], 10);
        assert_eq!(group(), None, "one seed is an ordinary draw");
        assert_eq!(
            weight_noise(&mut fallback, |r| r.next_u64()),
            StdRng::seed_from_u64(5).next_u64()
        );
    }
}
