//! [`Pass`]: everything one forward pass carries besides its input.
//!
//! A forward pass of a model needs more than the batch: stochastic layers
//! need random numbers, variational layers report KL terms to the ELBO,
//! and Monte Carlo prediction tells every layer which posterior draw the
//! pass belongs to. All of it travels down in one value, handed to every
//! [`Module::forward`](crate::Module::forward) and back up to the caller:
//!
//! - **the RNG** for per-example noise (dropout masks, local
//!   reparameterisation, Flipout signs): [`Pass::rng`];
//! - **the KL accumulator**: a variational layer calls
//!   [`Pass::record_kl`], which evaluates its KL only when the caller asked
//!   for it ([`Pass::collecting_kl`]); the caller reads the sum with
//!   [`Pass::kl`];
//! - **the draw plan** of Monte Carlo prediction ([`Pass::with_draw`],
//!   [`Pass::with_group`]): weight noise comes from the draw's own stream
//!   ([`Pass::weight_noise`]) so that draw `s` is the same network in every
//!   batch, and the plan may ask every variational layer to sample its
//!   weights whatever its training estimator ([`Pass::weight_sampling`]);
//! - **the sampling mode for this pass**, when the caller sets one
//!   ([`Pass::at_mean`], [`Pass::sampling`]): it overrides each stochastic
//!   layer's own [`SampleMode`], so a model shared between threads can be
//!   evaluated at its posterior mean without being changed;
//! - **taps**: named intermediate outputs a caller asked for
//!   ([`Pass::tapping`], [`Pass::tap`], [`Pass::take_taps`]), such as the
//!   penultimate features of a classifier.
//!
//! The layers' own sampling modes ([`ModuleExt::set_sample_mode`](crate::ModuleExt::set_sample_mode),
//! with the per-layer seeds of `Fixed`) and the training mode stay layer
//! state: they outlive a pass, and batch normalisation keeps its running
//! statistics by the training mode.
//!
//! ```
//! use fanaroff_nn::Pass;
//! use rand::{RngCore, SeedableRng, rngs::StdRng};
//! let mut batch_rng = StdRng::seed_from_u64(1);
//! let a = Pass::new(&mut batch_rng).with_draw(7, true).weight_noise(|r| r.next_u64());
//! let b = Pass::new(&mut batch_rng).with_draw(7, true).weight_noise(|r| r.next_u64());
//! assert_eq!(a, b); // the same weights in every batch of draw 7
//! ```

use crate::kl::KlTerms;
use crate::module::SampleMode;
use fanaroff_tensor::Tensor;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// Several posterior draws evaluated in one forward pass (see
/// [`Pass::with_group`]): `draws` networks, an input of `batch` examples
/// shared by all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrawGroup {
    /// Draws in the pass.
    pub draws: usize,
    /// Examples of the input the draws share.
    pub batch: usize,
}

/// The weight-draw plan of a prediction pass.
#[derive(Debug, Clone)]
struct Plan {
    /// One weight-noise stream per draw of the pass.
    streams: Vec<StdRng>,
    weight_sampling: bool,
    /// Examples of the input, when the pass carries several draws.
    batch: Option<usize>,
}

/// The context of one forward pass; see the [module docs](self).
pub struct Pass<'r> {
    rng: &'r mut dyn RngCore,
    kl: Option<KlTerms>,
    collecting: bool,
    plan: Option<Plan>,
    mode: Option<SampleMode>,
    taps: Option<Taps>,
}

/// Requested and recorded intermediate outputs.
#[derive(Debug, Clone, Default)]
struct Taps {
    wanted: Vec<String>,
    got: Vec<(String, Tensor)>,
}

impl std::fmt::Debug for Pass<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pass")
            .field("collecting", &self.collecting)
            .field("plan", &self.plan)
            .field("mode", &self.mode)
            .field("taps", &self.taps)
            .finish_non_exhaustive()
    }
}

impl<'r> Pass<'r> {
    /// A plain pass: all noise from `rng`, no KL, no draw plan.
    pub fn new(rng: &'r mut dyn RngCore) -> Self {
        Pass {
            rng,
            kl: None,
            collecting: false,
            plan: None,
            mode: None,
            taps: None,
        }
    }

    /// Every stochastic layer runs at its mean for this pass, whatever its
    /// own mode: variational layers use `mu` and record no KL, dropout is
    /// off.
    ///
    /// ```
    /// use fanaroff_nn::{Dropout, Module, Pass};
    /// use fanaroff_tensor::Tensor;
    /// use rand::{SeedableRng, rngs::StdRng};
    /// let drop = Dropout::new(0.5)?; // in training mode: active
    /// let x = Tensor::ones(&[4, 8]);
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let y = drop.forward(&x, &mut Pass::new(&mut rng).at_mean())?;
    /// assert_eq!(y.data(), x.data());
    /// # Ok::<(), fanaroff_nn::Error>(())
    /// ```
    pub fn at_mean(mut self) -> Self {
        self.mode = Some(SampleMode::Mean);
        self
    }

    /// Every stochastic layer samples for this pass, whatever its own mode
    /// (MC dropout on, variational layers set to `Mean` or `Fixed` draw
    /// from the pass).
    pub fn sampling(mut self) -> Self {
        self.mode = Some(SampleMode::Sample);
        self
    }

    /// The sampling mode the caller set for this pass, if any.
    pub fn mode(&self) -> Option<SampleMode> {
        self.mode
    }

    /// The mode a stochastic layer whose own mode is `own` runs in: the
    /// pass's when the caller set one, else `own`.
    pub fn sample_mode(&self, own: SampleMode) -> SampleMode {
        self.mode.unwrap_or(own)
    }

    /// Asks variational layers for their KL terms (training).
    pub fn collecting_kl(mut self) -> Self {
        self.collecting = true;
        self
    }

    /// One posterior draw of a prediction pass: weight noise from
    /// `StdRng::seed_from_u64(seed)`, per-example noise from the pass's RNG;
    /// with `weight_sampling` every variational layer samples weights.
    pub fn with_draw(mut self, seed: u64, weight_sampling: bool) -> Self {
        self.plan = Some(Plan {
            streams: vec![StdRng::seed_from_u64(seed)],
            weight_sampling,
            batch: None,
        });
        self
    }

    /// One draw per seed at once, on an input of `batch` examples.
    /// Variational layers that support groups (`fanaroff-bayes`'s do) take
    /// draw `g`'s weight noise from `StdRng::seed_from_u64(seeds[g])` (the
    /// stream [`with_draw`](Self::with_draw) would give it) and return
    /// `seeds.len()` blocks of `batch` rows, block `g` computed with draw
    /// `g`'s weights. Groups sample weights. A single seed is an ordinary
    /// draw.
    ///
    /// ```
    /// use fanaroff_nn::{DrawGroup, Pass};
    /// use rand::{RngCore, SeedableRng, rngs::StdRng};
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let mut pass = Pass::new(&mut rng).with_group(&[4, 9], 50);
    /// assert_eq!(pass.group(), Some(DrawGroup { draws: 2, batch: 50 }));
    /// let noise = pass.weight_noises(|r| r.next_u64());
    /// assert_eq!(noise, vec![StdRng::seed_from_u64(4).next_u64(), StdRng::seed_from_u64(9).next_u64()]);
    /// ```
    pub fn with_group(mut self, seeds: &[u64], batch: usize) -> Self {
        self.plan = Some(Plan {
            streams: seeds.iter().map(|&s| StdRng::seed_from_u64(s)).collect(),
            weight_sampling: true,
            batch: (seeds.len() > 1).then_some(batch),
        });
        self
    }

    /// Asks the layers that offer them for the named intermediate outputs
    /// (see [`tap`](Self::tap)).
    pub fn tapping(mut self, names: &[&str]) -> Self {
        self.taps = Some(Taps {
            wanted: names.iter().map(|s| s.to_string()).collect(),
            got: Vec::new(),
        });
        self
    }

    /// The RNG for per-example noise (and for weight noise outside a draw,
    /// through [`weight_noise`](Self::weight_noise)).
    pub fn rng(&mut self) -> &mut dyn RngCore {
        &mut *self.rng
    }

    /// Whether the caller asked for KL terms.
    pub fn is_collecting(&self) -> bool {
        self.collecting
    }

    /// Adds one layer's KL terms, computed by `terms` (with the pass's
    /// RNG, for Monte Carlo estimates) only when the caller collects them.
    ///
    /// # Errors
    /// Whatever `terms` returns; tensor errors.
    pub fn record_kl<E>(
        &mut self,
        terms: impl FnOnce(&mut dyn RngCore) -> std::result::Result<KlTerms, E>,
    ) -> std::result::Result<(), E>
    where
        E: From<crate::Error>,
    {
        if !self.collecting {
            return Ok(());
        }
        let t = terms(&mut *self.rng)?;
        self.kl = Some(match self.kl.take() {
            None => t,
            Some(acc) => acc.add(&t).map_err(E::from)?,
        });
        Ok(())
    }

    /// The KL terms recorded so far (zero when none were), leaving none.
    pub fn kl(&mut self) -> KlTerms {
        self.kl.take().unwrap_or_default()
    }

    /// Runs `f` with the draw's weight-noise stream, or with the pass's RNG
    /// outside a draw. In a group of several draws this is the first
    /// draw's stream: layers that draw weights in a group use
    /// [`weight_noises`](Self::weight_noises).
    pub fn weight_noise<T>(&mut self, f: impl FnOnce(&mut dyn RngCore) -> T) -> T {
        match self.plan.as_mut().and_then(|p| p.streams.first_mut()) {
            Some(stream) => f(stream),
            None => f(&mut *self.rng),
        }
    }

    /// Runs `f` once per draw of the group, each time with that draw's
    /// weight-noise stream: one value per draw (one value, from the draw's
    /// stream or the pass's RNG, outside a group).
    pub fn weight_noises<T>(&mut self, mut f: impl FnMut(&mut dyn RngCore) -> T) -> Vec<T> {
        match self.plan.as_mut() {
            Some(p) => p.streams.iter_mut().map(|r| f(r)).collect(),
            None => vec![f(&mut *self.rng)],
        }
    }

    /// The group of several draws of this pass, if any.
    pub fn group(&self) -> Option<DrawGroup> {
        let p = self.plan.as_ref()?;
        Some(DrawGroup {
            draws: p.streams.len(),
            batch: p.batch?,
        })
    }

    /// Whether the draw plan asks variational layers to sample weights
    /// whatever their training estimator (false outside a draw).
    pub fn weight_sampling(&self) -> bool {
        self.plan.as_ref().is_some_and(|p| p.weight_sampling)
    }

    /// Runs `f(g, pass)` once per draw `g` of the group, `pass` an ordinary
    /// one-draw pass on the group's stream `g` (sharing this pass's RNG, KL
    /// and taps): for a layer that evaluates the draws of a group one at a
    /// time on an input they share. Outside a group, `f(0, self)` once.
    /// Each stream continues where `f` left it.
    ///
    /// ```
    /// use fanaroff_nn::Pass;
    /// use rand::{RngCore, SeedableRng, rngs::StdRng};
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let mut pass = Pass::new(&mut rng).with_group(&[4, 9], 50);
    /// let noise = pass.per_draw(|_, one| {
    ///     assert_eq!(one.group(), None); // one draw at a time
    ///     one.weight_noise(|r| r.next_u64())
    /// });
    /// assert_eq!(noise, vec![StdRng::seed_from_u64(4).next_u64(), StdRng::seed_from_u64(9).next_u64()]);
    /// assert_eq!(pass.group().map(|g| g.draws), Some(2));
    /// ```
    pub fn per_draw<T>(&mut self, mut f: impl FnMut(usize, &mut Pass<'_>) -> T) -> Vec<T> {
        let Some(plan) = self.plan.take_if(|p| p.batch.is_some()) else {
            return vec![f(0, self)];
        };
        let mut out = Vec::with_capacity(plan.streams.len());
        let mut streams = Vec::with_capacity(plan.streams.len());
        for stream in plan.streams {
            let one = Plan {
                streams: vec![stream],
                weight_sampling: plan.weight_sampling,
                batch: None,
            };
            let (value, back) = self.sub_pass(Some(one), None, |p| f(out.len(), p));
            out.push(value);
            streams.extend(back.map(|b| b.streams).unwrap_or_default());
        }
        self.plan = Some(Plan { streams, ..plan });
        out
    }

    /// Runs `f` with a pass whose noise all comes from `rng` and that has
    /// no draw plan (sharing this pass's KL and taps): for a layer with its
    /// own fixed seed ([`SampleMode::Fixed`](crate::SampleMode::Fixed)),
    /// which keeps it inside a prediction pass.
    pub fn with_own_rng<T>(
        &mut self,
        rng: &mut dyn RngCore,
        f: impl FnOnce(&mut Pass<'_>) -> T,
    ) -> T {
        self.sub_pass(None, Some(rng), f).0
    }

    /// `f` on a pass with the given plan and RNG (this pass's RNG when
    /// `None`) that shares this pass's KL and taps; returns the sub-pass's
    /// plan after `f`.
    fn sub_pass<T>(
        &mut self,
        plan: Option<Plan>,
        rng: Option<&mut dyn RngCore>,
        f: impl FnOnce(&mut Pass<'_>) -> T,
    ) -> (T, Option<Plan>) {
        let mut sub = Pass {
            rng: match rng {
                Some(r) => r,
                None => &mut *self.rng,
            },
            kl: self.kl.take(),
            collecting: self.collecting,
            plan,
            mode: self.mode,
            taps: self.taps.take(),
        };
        let out = f(&mut sub);
        let Pass { kl, taps, plan, .. } = sub;
        (self.kl, self.taps) = (kl, taps);
        (out, plan)
    }

    /// Whether the caller asked for the intermediate output `name`.
    pub fn wants(&self, name: &str) -> bool {
        self.taps
            .as_ref()
            .is_some_and(|t| t.wanted.iter().any(|w| w == name))
    }

    /// Keeps `value` as the intermediate output `name` if the caller asked
    /// for it ([`tapping`](Self::tapping)); a later tap of the same name
    /// replaces it.
    pub fn tap(&mut self, name: &str, value: &Tensor) {
        if !self.wants(name) {
            return;
        }
        let got = &mut self.taps.as_mut().expect("wanted").got;
        got.retain(|(n, _)| n != name);
        got.push((name.to_string(), value.clone()));
    }

    /// The intermediate outputs recorded so far, leaving none.
    pub fn take_taps(&mut self) -> Vec<(String, Tensor)> {
        self.taps
            .as_mut()
            .map(|t| std::mem::take(&mut t.got))
            .unwrap_or_default()
    }

    /// The recorded intermediate output `name`, if any.
    pub fn tapped(&self, name: &str) -> Option<&Tensor> {
        let got = &self.taps.as_ref()?.got;
        got.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}
