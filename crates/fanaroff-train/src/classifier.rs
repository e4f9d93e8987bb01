//! One predictive interface for everything that classifies: a single
//! model (deterministic, MC dropout or Bayesian) and a deep ensemble give
//! class probabilities per draw and Monte Carlo samples the same way, so
//! metrics, studies and attacks take any of them.

use crate::error::{Result, input};
use crate::loader::mix_seed;
use crate::predict::{PredictConfig, check_input, predict_samples};
use fanaroff_nn::{Module, ModuleExt};
use fanaroff_tensor::{Tensor, no_grad};
use ndarray::{Array2, Array3, ArrayViewD, Axis, Ix2};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// A classifier with a predictive distribution. `seed` picks one draw
/// (weights, dropout mask or ensemble member); a deterministic classifier
/// ignores it.
///
/// ```
/// use fanaroff_nn::{Linear, LinearConfig, Sequential};
/// use fanaroff_train::{Classifier, ModuleClassifier, PredictConfig};
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let net = Sequential::new().push("fc", Linear::new(LinearConfig::new(3, 2), &mut rng).unwrap());
/// let x = ndarray::ArrayD::<f32>::ones(ndarray::IxDyn(&[4, 3]));
/// let c = ModuleClassifier::new(&net, false);
/// // a deterministic model gives one draw, whatever the asked number
/// let s = c.predict(x.view(), &PredictConfig::with_samples(10)).unwrap();
/// assert_eq!(s.shape(), &[1, 4, 2]);
/// assert_eq!(c.probabilities(x.view(), 7).unwrap(), s.index_axis(ndarray::Axis(0), 0));
/// ```
pub trait Classifier: Sync {
    /// Class probabilities `[N, K]` of inputs `[N, ...]` for the draw `seed`.
    ///
    /// # Errors
    /// Model failures; invalid input.
    fn probabilities(&self, x: ArrayViewD<'_, f32>, seed: u64) -> Result<Array2<f32>>;

    /// Whether outputs differ between draws.
    fn stochastic(&self) -> bool {
        false
    }

    /// Monte Carlo samples `[S, N, K]`: `cfg.samples` draws (one for a
    /// deterministic classifier), draw `s` from `mix(cfg.seed, s)`.
    ///
    /// # Errors
    /// As [`probabilities`](Classifier::probabilities).
    fn predict(&self, x: ArrayViewD<'_, f32>, cfg: &PredictConfig) -> Result<Array3<f32>> {
        let cfg = cfg.check()?;
        let draws = if self.stochastic() { cfg.samples } else { 1 };
        let p: Vec<Array2<f32>> = (0..draws)
            .map(|s| self.probabilities(x.view(), mix_seed(cfg.seed, s as u64)))
            .collect::<Result<_>>()?;
        let views: Vec<_> = p.iter().map(|a| a.view()).collect();
        ndarray::stack(Axis(0), &views).map_err(|e| input("predict", e.to_string()))
    }
}

/// Any model of the workspace as a [`Classifier`].
pub struct ModuleClassifier<'a, M: ?Sized> {
    model: &'a M,
    stochastic: bool,
}

impl<'a, M: Module + ?Sized> ModuleClassifier<'a, M> {
    /// Wraps `model`; `stochastic` says whether its outputs vary by draw.
    pub fn new(model: &'a M, stochastic: bool) -> Self {
        ModuleClassifier { model, stochastic }
    }

    /// The wrapped model.
    pub fn model(&self) -> &'a M {
        self.model
    }
}

impl<M: Module + Sync + ?Sized> Classifier for ModuleClassifier<'_, M> {
    /// One forward pass over the whole input, its RNG seeded by `seed`.
    fn probabilities(&self, x: ArrayViewD<'_, f32>, seed: u64) -> Result<Array2<f32>> {
        check_input(&x)?;
        let t = Tensor::new(x.to_owned());
        let logits = no_grad(|| self.model.forward_rng(&t, &mut StdRng::seed_from_u64(seed)))?;
        logits
            .softmax(1)?
            .data()
            .clone()
            .into_dimensionality::<Ix2>()
            .map_err(|e| input("probabilities", e.to_string()))
    }

    fn stochastic(&self) -> bool {
        self.stochastic
    }

    /// [`predict_samples`] (batched, parallel over draws, grouped weight
    /// draws), with one draw for a deterministic model.
    fn predict(&self, x: ArrayViewD<'_, f32>, cfg: &PredictConfig) -> Result<Array3<f32>> {
        let mut cfg = *cfg;
        if !self.stochastic {
            cfg.samples = 1;
        }
        predict_samples(self.model, x, &cfg)
    }
}
