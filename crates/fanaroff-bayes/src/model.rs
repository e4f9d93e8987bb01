//! Models: the [`BayesModel`] trait, a sequential container of variational
//! and ordinary layers, the paper's BBB LeNet and the baselines
//! (deterministic twin, MC dropout, deep ensemble) in the same API.

use crate::error::{Error, Result, config};
use crate::layers::{BayesConv2d, BayesLinear, Estimator, KlTerms, SampleMode, VariationalConfig};
use fanaroff_nn::models::LeNetConfig;
use fanaroff_nn::{Activation, Dropout, Flatten, MaxPool2d, Module, join};
use fanaroff_tensor::Tensor;
use rand::{Rng, RngCore};

/// Converts this crate's error into `fanaroff_nn::Error` (for [`Module::forward`]).
pub(crate) fn to_nn_error(e: Error) -> fanaroff_nn::Error {
    match e {
        Error::Nn(e) => e,
        Error::Tensor(e) => fanaroff_nn::Error::Tensor(e),
        other => fanaroff_nn::Error::InvalidInput {
            what: "fanaroff-bayes",
            msg: other.to_string(),
        },
    }
}

/// A model trained with the ELBO: a forward pass that also returns the KL
/// terms of the weights it used. Deterministic models return zero KL.
pub trait BayesModel: Module {
    /// Output (logits) and KL terms of one stochastic forward pass.
    ///
    /// # Errors
    /// Shape errors and invalid inputs.
    fn forward_kl(&self, x: &Tensor, rng: &mut dyn RngCore) -> Result<(Tensor, KlTerms)>;

    /// Sets the sampling mode of every variational layer (no-op for
    /// deterministic models).
    fn set_sample_mode(&mut self, _mode: SampleMode) {}

    /// Whether two forward passes on the same input can differ (decides
    /// whether prediction needs more than one sample).
    fn is_stochastic(&self) -> bool;
}

/// One entry of a [`BayesSequential`].
#[derive(Debug)]
pub enum Layer {
    /// A variational fully connected layer.
    Linear(BayesLinear),
    /// A variational convolution.
    Conv(BayesConv2d),
    /// Any ordinary module (activation, pooling, flatten, dropout ...).
    Plain(PlainModule),
}

/// A boxed ordinary module with a `Debug` impl.
pub struct PlainModule(pub Box<dyn Module>);

impl std::fmt::Debug for PlainModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlainModule")
    }
}

/// A chain of variational and ordinary layers; parameters are named
/// `<layer>.weight_mu`, `<layer>.weight_rho`, `<layer>.bias_mu`,
/// `<layer>.bias_rho` (and the ordinary layers' own names).
///
/// # Example
/// ```
/// use fanaroff_bayes::{BayesLinear, BayesModel, BayesSequential, VariationalConfig};
/// use fanaroff_nn::Activation;
/// use fanaroff_tensor::Tensor;
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let cfg = VariationalConfig::default();
/// let net = BayesSequential::new()
///     .linear("fc1", BayesLinear::new(4, 8, &cfg, &mut rng).unwrap())
///     .plain("relu", Activation::Relu)
///     .linear("fc2", BayesLinear::new(8, 2, &cfg, &mut rng).unwrap());
/// let (logits, kl) = net.forward_kl(&Tensor::ones(&[3, 4]), &mut rng).unwrap();
/// assert_eq!(logits.shape(), &[3, 2]);
/// assert!(kl.kl_value() > 0.0);
/// assert_eq!(net.num_weights(), 4 * 8 + 8 + 8 * 2 + 2);
/// ```
#[derive(Debug, Default)]
pub struct BayesSequential {
    layers: Vec<(String, Layer)>,
}

impl BayesSequential {
    /// An empty chain.
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends a variational linear layer.
    pub fn linear(mut self, name: &str, l: BayesLinear) -> Self {
        self.layers.push((name.into(), Layer::Linear(l)));
        self
    }
    /// Appends a variational convolution.
    pub fn conv(mut self, name: &str, l: BayesConv2d) -> Self {
        self.layers.push((name.into(), Layer::Conv(l)));
        self
    }
    /// Appends an ordinary module.
    pub fn plain(mut self, name: &str, m: impl Module + 'static) -> Self {
        self.layers
            .push((name.into(), Layer::Plain(PlainModule(Box::new(m)))));
        self
    }
    /// The layers with their names.
    pub fn layers(&self) -> &[(String, Layer)] {
        &self.layers
    }
    /// Mutable access to the layers (pruning, changing estimators).
    pub fn layers_mut(&mut self) -> &mut [(String, Layer)] {
        &mut self.layers
    }
    /// Number of variational weights and biases.
    pub fn num_weights(&self) -> usize {
        self.layers
            .iter()
            .map(|(_, l)| match l {
                Layer::Linear(b) => b.params().num_weights(),
                Layer::Conv(b) => b.params().num_weights(),
                Layer::Plain(_) => 0,
            })
            .sum()
    }
    /// Changes the estimator of every variational layer.
    pub fn set_estimator(&mut self, e: Estimator) {
        for (_, l) in &mut self.layers {
            match l {
                Layer::Linear(b) => b.set_estimator(e),
                Layer::Conv(b) => b.set_estimator(e),
                Layer::Plain(_) => {}
            }
        }
    }

    fn run(&self, x: &Tensor, rng: &mut dyn RngCore, with_kl: bool) -> Result<(Tensor, KlTerms)> {
        let mut h = x.clone();
        let mut kl: Option<KlTerms> = None;
        for (_, l) in &self.layers {
            let (y, k) = match l {
                Layer::Linear(b) => {
                    let (y, k) = b.forward_kl(&h, rng, with_kl)?;
                    (y, Some(k))
                }
                Layer::Conv(b) => {
                    let (y, k) = b.forward_kl(&h, rng, with_kl)?;
                    (y, Some(k))
                }
                Layer::Plain(m) => (m.0.forward(&h, rng)?, None),
            };
            h = y;
            if with_kl && let Some(k) = k {
                kl = Some(match kl {
                    None => k,
                    Some(acc) => acc.add(&k)?,
                });
            }
        }
        Ok((h, kl.unwrap_or_default()))
    }
}

impl Module for BayesSequential {
    fn forward(&self, x: &Tensor, rng: &mut dyn RngCore) -> fanaroff_nn::Result<Tensor> {
        self.run(x, rng, false).map(|(y, _)| y).map_err(to_nn_error)
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        for (n, l) in &self.layers {
            let p = join(prefix, n);
            match l {
                Layer::Linear(b) => b.visit_params(&p, f),
                Layer::Conv(b) => b.visit_params(&p, f),
                Layer::Plain(m) => m.0.visit_params(&p, f),
            }
        }
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        for (n, l) in &mut self.layers {
            let p = join(prefix, n);
            match l {
                Layer::Linear(b) => b.visit_params_mut(&p, f),
                Layer::Conv(b) => b.visit_params_mut(&p, f),
                Layer::Plain(m) => m.0.visit_params_mut(&p, f),
            }
        }
    }
    fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        for (n, l) in &self.layers {
            if let Layer::Plain(m) = l {
                m.0.visit_buffers(&join(prefix, n), f);
            }
        }
    }
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        for (n, l) in &mut self.layers {
            if let Layer::Plain(m) = l {
                m.0.visit_buffers_mut(&join(prefix, n), f);
            }
        }
    }
    fn set_training(&mut self, training: bool) {
        for (_, l) in &mut self.layers {
            if let Layer::Plain(m) = l {
                m.0.set_training(training);
            }
        }
    }
}

impl BayesModel for BayesSequential {
    fn forward_kl(&self, x: &Tensor, rng: &mut dyn RngCore) -> Result<(Tensor, KlTerms)> {
        self.run(x, rng, true)
    }
    /// `Fixed(seed)` gives layer `i` the seed `seed + i`, so layers draw
    /// different noise.
    fn set_sample_mode(&mut self, mode: SampleMode) {
        for (i, (_, l)) in self.layers.iter_mut().enumerate() {
            let m = match mode {
                SampleMode::Fixed(s) => SampleMode::Fixed(s.wrapping_add(i as u64)),
                m => m,
            };
            match l {
                Layer::Linear(b) => b.set_mode(m),
                Layer::Conv(b) => b.set_mode(m),
                Layer::Plain(_) => {}
            }
        }
    }
    fn is_stochastic(&self) -> bool {
        self.layers.iter().any(|(_, l)| match l {
            Layer::Linear(b) => b.mode() != SampleMode::Mean,
            Layer::Conv(b) => b.mode() != SampleMode::Mean,
            Layer::Plain(_) => false,
        })
    }
}

/// The paper's BBB LeNet (METHODS.md section 1): four variational conv 5x5
/// (padding 1) -> ReLU -> max-pool 2x2 blocks, flatten, variational fc ->
/// ReLU -> fc -> ReLU -> fc; returns logits. Layer names `conv1..conv4`,
/// `fc1..fc3` as the deterministic [`fanaroff_nn::models::lenet`].
///
/// With the default sizes: 232,444 weights and biases, 464,888 variational
/// parameters.
///
/// # Errors
/// [`Error::InvalidConfig`] for sizes that do not fit or an invalid config.
///
/// # Example
/// ```
/// use fanaroff_bayes::{bbb_lenet, VariationalConfig};
/// use fanaroff_nn::{ModuleExt, models::LeNetConfig};
/// use rand::{SeedableRng, rngs::StdRng};
/// let net = bbb_lenet(&LeNetConfig::default(), &VariationalConfig::default(), &mut StdRng::seed_from_u64(0)).unwrap();
/// assert_eq!(net.num_weights(), 232_444);
/// assert_eq!(net.num_parameters(), 464_888);
/// ```
pub fn bbb_lenet<R: Rng + ?Sized>(
    lenet: &LeNetConfig,
    cfg: &VariationalConfig,
    rng: &mut R,
) -> Result<BayesSequential> {
    let side = lenet.feature_side()?;
    let mut net = BayesSequential::new();
    let mut cin = lenet.in_channels;
    for (i, &cout) in lenet.channels.iter().enumerate() {
        net = net
            .conv(
                &format!("conv{}", i + 1),
                BayesConv2d::new(cin, cout, 5, 1, 1, cfg, rng)?,
            )
            .plain(&format!("relu{}", i + 1), Activation::Relu)
            .plain(&format!("pool{}", i + 1), MaxPool2d::new(2, 2)?);
        cin = cout;
    }
    Ok(net
        .plain("flatten", Flatten)
        .linear(
            "fc1",
            BayesLinear::new(cin * side * side, lenet.hidden[0], cfg, rng)?,
        )
        .plain("relu5", Activation::Relu)
        .linear(
            "fc2",
            BayesLinear::new(lenet.hidden[0], lenet.hidden[1], cfg, rng)?,
        )
        .plain("relu6", Activation::Relu)
        .linear(
            "fc3",
            BayesLinear::new(lenet.hidden[1], lenet.classes, cfg, rng)?,
        ))
}

/// Any ordinary module as a [`BayesModel`] with zero KL: the deterministic
/// twin, or an MC-dropout network (`stochastic = true`).
///
/// # Example
/// ```
/// use fanaroff_bayes::{BayesModel, Deterministic};
/// use fanaroff_nn::models::{lenet, LeNetConfig};
/// use rand::{SeedableRng, rngs::StdRng};
/// let twin = Deterministic::new(lenet(&LeNetConfig::default(), &mut StdRng::seed_from_u64(0)).unwrap());
/// assert!(!twin.is_stochastic());
/// ```
#[derive(Debug, Clone)]
pub struct Deterministic<M> {
    /// The wrapped network.
    pub inner: M,
    stochastic: bool,
}

impl<M: Module> Deterministic<M> {
    /// Wraps a deterministic network.
    pub fn new(inner: M) -> Self {
        Deterministic {
            inner,
            stochastic: false,
        }
    }
    /// Wraps a network whose forward pass is random at prediction time
    /// (MC dropout).
    pub fn stochastic(inner: M) -> Self {
        Deterministic {
            inner,
            stochastic: true,
        }
    }
}

impl<M: Module> Module for Deterministic<M> {
    fn forward(&self, x: &Tensor, rng: &mut dyn RngCore) -> fanaroff_nn::Result<Tensor> {
        self.inner.forward(x, rng)
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        self.inner.visit_params(prefix, f)
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        self.inner.visit_params_mut(prefix, f)
    }
    fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        self.inner.visit_buffers(prefix, f)
    }
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        self.inner.visit_buffers_mut(prefix, f)
    }
    fn set_training(&mut self, training: bool) {
        self.inner.set_training(training)
    }
}

impl<M: Module> BayesModel for Deterministic<M> {
    fn forward_kl(&self, x: &Tensor, rng: &mut dyn RngCore) -> Result<(Tensor, KlTerms)> {
        Ok((self.inner.forward(x, rng)?, KlTerms::zero()))
    }
    fn is_stochastic(&self) -> bool {
        self.stochastic
    }
}

/// The LeNet with Monte Carlo dropout before each fully connected layer
/// (dropout stays active at prediction time): the MC-dropout baseline.
/// Parameter names match [`fanaroff_nn::models::lenet`].
///
/// # Errors
/// [`Error::InvalidConfig`] unless `0 <= p < 1` and the sizes fit.
///
/// # Example
/// ```
/// use fanaroff_bayes::{mc_dropout_lenet, BayesModel};
/// use fanaroff_nn::{ModuleExt, models::LeNetConfig};
/// use rand::{SeedableRng, rngs::StdRng};
/// let net = mc_dropout_lenet(&LeNetConfig::default(), 0.5, &mut StdRng::seed_from_u64(0)).unwrap();
/// assert!(net.is_stochastic());
/// assert_eq!(net.num_parameters(), 232_444);
/// ```
pub fn mc_dropout_lenet<R: Rng + ?Sized>(
    cfg: &LeNetConfig,
    p: f32,
    rng: &mut R,
) -> Result<Deterministic<fanaroff_nn::Sequential>> {
    if !(0.0..1.0).contains(&p) {
        return Err(config(
            "mc_dropout_lenet",
            format!("p = {p} must be in [0, 1)"),
        ));
    }
    let side = cfg.feature_side()?;
    let mut net = fanaroff_nn::Sequential::new();
    let mut cin = cfg.in_channels;
    for (i, &cout) in cfg.channels.iter().enumerate() {
        net = net
            .push(
                &format!("conv{}", i + 1),
                fanaroff_nn::Conv2d::new(cin, cout, 5, 1, 1, true, rng)?,
            )
            .push(&format!("relu{}", i + 1), Activation::Relu)
            .push(&format!("pool{}", i + 1), MaxPool2d::new(2, 2)?);
        cin = cout;
    }
    let net = net
        .push("flatten", Flatten)
        .push("drop1", Dropout::new(p)?.monte_carlo(true))
        .push(
            "fc1",
            fanaroff_nn::Linear::new(cin * side * side, cfg.hidden[0], true, rng)?,
        )
        .push("relu5", Activation::Relu)
        .push("drop2", Dropout::new(p)?.monte_carlo(true))
        .push(
            "fc2",
            fanaroff_nn::Linear::new(cfg.hidden[0], cfg.hidden[1], true, rng)?,
        )
        .push("relu6", Activation::Relu)
        .push("drop3", Dropout::new(p)?.monte_carlo(true))
        .push(
            "fc3",
            fanaroff_nn::Linear::new(cfg.hidden[1], cfg.classes, true, rng)?,
        );
    Ok(Deterministic::stochastic(net))
}

/// A deep ensemble: independently initialised and trained members; member
/// `s` plays the role of posterior sample `s` in prediction (see
/// [`predict_ensemble`](crate::predict_ensemble)). Parameters are named
/// `member<i>.<name>`.
#[derive(Debug, Clone)]
pub struct Ensemble<M> {
    /// The members.
    pub members: Vec<M>,
}

impl<M: Module> Ensemble<M> {
    /// An ensemble of the given members.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty list.
    pub fn new(members: Vec<M>) -> Result<Self> {
        if members.is_empty() {
            return Err(config("Ensemble", "need at least one member"));
        }
        Ok(Ensemble { members })
    }
}

impl<M: Module> Module for Ensemble<M> {
    /// The mean of the members' logits (use
    /// [`predict_ensemble`](crate::predict_ensemble) for the mixture of
    /// softmaxes).
    fn forward(&self, x: &Tensor, rng: &mut dyn RngCore) -> fanaroff_nn::Result<Tensor> {
        let mut acc: Option<Tensor> = None;
        for m in &self.members {
            let y = m.forward(x, rng)?;
            acc = Some(match acc {
                None => y,
                Some(a) => a.add(&y)?,
            });
        }
        let n = self.members.len() as f32;
        Ok(acc.expect("non-empty").mul_scalar(1.0 / n))
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        for (i, m) in self.members.iter().enumerate() {
            m.visit_params(&join(prefix, &format!("member{i}")), f);
        }
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        for (i, m) in self.members.iter_mut().enumerate() {
            m.visit_params_mut(&join(prefix, &format!("member{i}")), f);
        }
    }
    fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        for (i, m) in self.members.iter().enumerate() {
            m.visit_buffers(&join(prefix, &format!("member{i}")), f);
        }
    }
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        for (i, m) in self.members.iter_mut().enumerate() {
            m.visit_buffers_mut(&join(prefix, &format!("member{i}")), f);
        }
    }
    fn set_training(&mut self, training: bool) {
        for m in &mut self.members {
            m.set_training(training);
        }
    }
}
