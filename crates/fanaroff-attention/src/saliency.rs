//! Saliency maps to compare with attention: gradient, gradient x input and
//! layer-wise relevance propagation (LRP).

use fanaroff_nn::{Module, ModuleExt, Result, Sequential, in_training_mode, is_stochastic};
use fanaroff_tensor::Tensor;
use ndarray::{ArrayD, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

/// One-hot `[N, K]` selecting `classes[n]` in row `n`.
pub(crate) fn one_hot(shape: &[usize], classes: &[usize]) -> Result<ArrayD<f32>> {
    if shape.len() != 2 || shape[0] != classes.len() || classes.iter().any(|&c| c >= shape[1]) {
        return Err(fanaroff_core::input(
            "saliency",
            format!(
                "model output {shape:?} does not fit {} target classes {classes:?}",
                classes.len()
            ),
        ));
    }
    let mut m = ArrayD::zeros(ndarray::IxDyn(shape));
    for (n, &c) in classes.iter().enumerate() {
        m[[n, c]] = 1.0;
    }
    Ok(m)
}

/// Refuses a model with dropout or batch norm in training mode: dropout
/// would mask the explanation at random, and batch statistics would make
/// one image's explanation depend on the others in its batch.
pub(crate) fn require_eval_mode(model: &dyn Module, what: &'static str) -> Result<()> {
    if in_training_mode(model) {
        return Err(fanaroff_core::input(
            what,
            "the model is in training mode (dropout or batch norm); call eval() first",
        ));
    }
    Ok(())
}

/// `d logit[n, classes[n]] / d x[n]`: the gradient saliency of any model,
/// shaped like `x`. Stochastic layers draw from an RNG seeded with `seed`.
///
/// # Errors
/// Model errors; `classes` that do not fit the output; a model in training
/// mode ([`ModuleExt::eval`](fanaroff_nn::ModuleExt::eval) it first).
pub fn gradient(
    model: &dyn Module,
    x: &Tensor,
    classes: &[usize],
    seed: u64,
) -> Result<ArrayD<f32>> {
    require_eval_mode(model, "saliency")?;
    let leaf = Tensor::new(x.data().clone()).requires_grad(true);
    let logits = model.forward_rng(&leaf, &mut StdRng::seed_from_u64(seed))?;
    let pick = one_hot(logits.shape(), classes)?;
    let grads = logits.mul(&Tensor::new(pick))?.sum().backward()?;
    Ok(grads
        .get(&leaf)
        .cloned()
        .unwrap_or_else(|| ArrayD::zeros(x.data().raw_dim())))
}

/// Gradient times input, shaped like `x`.
///
/// # Errors
/// As [`gradient`].
pub fn gradient_x_input(
    model: &dyn Module,
    x: &Tensor,
    classes: &[usize],
    seed: u64,
) -> Result<ArrayD<f32>> {
    Ok(gradient(model, x, classes, seed)? * x.data())
}

/// The LRP rule of the first layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InputRule {
    /// The epsilon rule, as in every other layer.
    #[default]
    Epsilon,
    /// Relevance spread evenly over each output's receptive field (input
    /// and weights replaced by ones).
    Flat,
    /// The z^B rule for inputs bounded in `[low, high]` (Montavon et al.
    /// 2017), e.g. `[-1, 1]` for symmetric scaling.
    ZBox {
        /// Lowest input value.
        low: f32,
        /// Highest input value.
        high: f32,
    },
}

/// Settings of [`lrp`]; in a file every key may be left out (its default).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LrpConfig {
    /// Stabiliser of the epsilon rule: `R_i = a_i sum_j w_ij R_j / (z_j + eps sign(z_j))`.
    pub epsilon: f32,
    /// The first layer's rule.
    pub input_rule: InputRule,
}

impl Default for LrpConfig {
    fn default() -> Self {
        LrpConfig {
            epsilon: 1e-6,
            input_rule: InputRule::Epsilon,
        }
    }
}

/// `R_a = a * grad_a sum(z(a) * R / (z + eps sign z))`: the epsilon rule for
/// one module, whatever it is. For linear and conv layers (any module with
/// parameters) it is the LRP-eps rule. A module without parameters gets no
/// stabiliser (`R / z`, and 0 where `z = 0`), so relevance passes through
/// ReLU unchanged and through max pooling goes whole to each window's
/// maximum (winner takes all), as zennit's `Pass` rule and plain gradient
/// do; with the stabiliser each such step would shrink it by `z / (z + eps)`.
pub(crate) fn epsilon_step(
    m: &dyn Module,
    a: &ArrayD<f32>,
    r: &ArrayD<f32>,
    eps: f32,
) -> Result<ArrayD<f32>> {
    let leaf = Tensor::new(a.clone()).requires_grad(true);
    let z = m.forward_rng(&leaf, &mut StdRng::seed_from_u64(0))?;
    let mut has_params = false;
    m.visit_params("", &mut |_, _| has_params = true);
    let s = ndarray::Zip::from(r).and(z.data()).map_collect(|&r, &z| {
        if has_params {
            r / (z + eps * if z < 0.0 { -1.0 } else { 1.0 })
        } else if z == 0.0 {
            0.0
        } else {
            r / z
        }
    });
    let grads = z.mul(&Tensor::new(s))?.sum().backward()?;
    let c = grads
        .get(&leaf)
        .cloned()
        .unwrap_or_else(|| ArrayD::zeros(a.raw_dim()));
    Ok(c * a)
}

/// Runs `f` on `layer` with its weight (or weight mean) replaced by `w`
/// and its bias zeroed, then restores both.
fn with_weight<T>(
    layer: &mut dyn Module,
    w: impl Fn(&ArrayD<f32>) -> ArrayD<f32>,
    f: impl FnOnce(&dyn Module) -> T,
) -> T {
    let mut saved = Vec::new();
    layer.visit_params_mut("", &mut |name, t| {
        let d = t.data().clone();
        let new = match name {
            "weight" | "weight_mu" => Some(w(&d)),
            "bias" | "bias_mu" => Some(ArrayD::zeros(d.raw_dim())),
            _ => None,
        };
        if let (Some(v), Ok(dm)) = (new, t.data_mut()) {
            dm.assign(&v);
            saved.push((name.to_string(), d));
        }
    });
    let out = f(layer);
    layer.visit_params_mut("", &mut |name, t| {
        if let (Some((_, d)), Ok(dm)) = (saved.iter().find(|(n, _)| n == name), t.data_mut()) {
            dm.assign(d);
        }
    });
    out
}

/// The first layer under the flat or z^B rule.
fn input_step(
    layer: &mut dyn Module,
    x: &ArrayD<f32>,
    r: &ArrayD<f32>,
    cfg: &LrpConfig,
) -> Result<ArrayD<f32>> {
    match cfg.input_rule {
        InputRule::Epsilon => epsilon_step(layer, x, r, cfg.epsilon),
        InputRule::Flat => {
            let ones = ArrayD::ones(x.raw_dim());
            with_weight(
                layer,
                |w| w.mapv(|_| 1.0),
                |m| epsilon_step(m, &ones, r, cfg.epsilon),
            )
        }
        InputRule::ZBox { low, high } => z_box(layer, x, r, low, high, cfg.epsilon),
    }
}

/// z^B: `z = f(x; W) - f(l; W+) - f(h; W-)`, relevance `x c_x + l c_l + h c_h`.
fn z_box(
    layer: &mut dyn Module,
    x: &ArrayD<f32>,
    r: &ArrayD<f32>,
    low: f32,
    high: f32,
    eps: f32,
) -> Result<ArrayD<f32>> {
    let leaf = |v: ArrayD<f32>| Tensor::new(v).requires_grad(true);
    let (tx, tl, th) = (
        leaf(x.clone()),
        leaf(x.mapv(|_| low)),
        leaf(x.mapv(|_| high)),
    );
    let mut rng = StdRng::seed_from_u64(0);
    let zx = with_weight(layer, |w| w.clone(), |m| m.forward_rng(&tx, &mut rng))?;
    let zl = with_weight(
        layer,
        |w| w.mapv(|v| v.max(0.0)),
        |m| m.forward_rng(&tl, &mut rng),
    )?;
    let zh = with_weight(
        layer,
        |w| w.mapv(|v| v.min(0.0)),
        |m| m.forward_rng(&th, &mut rng),
    )?;
    let z = zx.sub(&zl)?.sub(&zh)?;
    let s = ndarray::Zip::from(r)
        .and(z.data())
        .map_collect(|&r, &z| r / (z + eps * if z < 0.0 { -1.0 } else { 1.0 }));
    let g = z.mul(&Tensor::new(s))?.sum().backward()?;
    let grad = |t: &Tensor| {
        g.get(t)
            .cloned()
            .unwrap_or_else(|| ArrayD::zeros(x.raw_dim()))
    };
    Ok(grad(&tx) * x + grad(&tl) * tl.data() + grad(&th) * th.data())
}

/// Layer-wise relevance propagation of `logit[n, classes[n]]` back to the
/// input through a [`Sequential`] model (every model built by
/// `LeNetConfig::build`: plain, MC dropout or Bayesian with the posterior
/// mean): the epsilon rule in every layer (winner takes all through max
/// pooling, unchanged through ReLU), and `cfg.input_rule` in the first.
/// Without biases the relevance sums to the explained logit as `eps -> 0`;
/// biases absorb their share. Returns relevance shaped like `x`.
///
/// Put dropout in evaluation mode and variational layers in
/// `SampleMode::Mean` first.
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for a stochastic model, a model in training
/// mode, an empty model or `classes` that do not fit; model errors.
pub fn lrp(
    model: &mut Sequential,
    x: &Tensor,
    classes: &[usize],
    cfg: &LrpConfig,
) -> Result<ArrayD<f32>> {
    require_eval_mode(model, "lrp")?;
    if is_stochastic(model) || model.is_empty() {
        return Err(fanaroff_core::input(
            "lrp",
            "need a non-empty deterministic model (SampleMode::Mean for variational layers, eval mode for dropout)",
        ));
    }
    let acts = sequential_acts(model, x.data())?;
    let out = acts.last().expect("output");
    let r = one_hot(out.shape(), classes)? * out;
    sequential_backward(model, &acts, r, cfg, true)
}

/// The input and every child's output of a forward pass through `model`.
pub(crate) fn sequential_acts(model: &Sequential, x: &ArrayD<f32>) -> Result<Vec<ArrayD<f32>>> {
    let mut acts = vec![x.clone()];
    let mut rng = StdRng::seed_from_u64(0);
    for n in model.names() {
        let m = model.get(n).expect("named child");
        let next = m.forward_rng(&Tensor::new(acts.last().expect("input").clone()), &mut rng)?;
        acts.push(next.data().clone());
    }
    Ok(acts)
}

/// Relevance `r` at the output of `model` back to its input through the
/// epsilon rule, layer by layer (`acts` from [`sequential_acts`]); the
/// first layer uses `cfg.input_rule` when `input_layer` is set.
pub(crate) fn sequential_backward(
    model: &mut Sequential,
    acts: &[ArrayD<f32>],
    r: ArrayD<f32>,
    cfg: &LrpConfig,
    input_layer: bool,
) -> Result<ArrayD<f32>> {
    sequential_backward_where(model, acts, r, cfg, input_layer, None)
}

/// Keeps the relevance of some channels at the output of one layer of a
/// chain (conditional relevance, CRP): the others are set to zero there.
pub(crate) struct Condition<'a> {
    /// Index of the layer in the chain.
    pub layer: usize,
    /// Channels (axis 1) that keep their relevance.
    pub channels: &'a [usize],
}

impl Condition<'_> {
    fn apply(&self, r: &mut ArrayD<f32>) {
        for (c, mut lane) in r.axis_iter_mut(Axis(1)).enumerate() {
            if !self.channels.contains(&c) {
                lane.fill(0.0);
            }
        }
    }
}

/// [`sequential_backward`] with the relevance at the output of
/// `condition.layer` restricted to its channels.
pub(crate) fn sequential_backward_where(
    model: &mut Sequential,
    acts: &[ArrayD<f32>],
    mut r: ArrayD<f32>,
    cfg: &LrpConfig,
    input_layer: bool,
    condition: Option<&Condition<'_>>,
) -> Result<ArrayD<f32>> {
    let names: Vec<String> = model.names().iter().map(|s| s.to_string()).collect();
    let last_plain = if input_layer { 1 } else { 0 };
    let restrict = |i: usize, r: &mut ArrayD<f32>| {
        if let Some(c) = condition.filter(|c| c.layer == i) {
            c.apply(r);
        }
    };
    for i in (last_plain..names.len()).rev() {
        restrict(i, &mut r);
        r = epsilon_step(
            model.get(&names[i]).expect("named child"),
            &acts[i],
            &r,
            cfg.epsilon,
        )?;
    }
    if !input_layer {
        return Ok(r);
    }
    restrict(0, &mut r);
    let mut first = None;
    model.visit_children_mut("", &mut |name, m| {
        if name == names[0] && first.is_none() {
            first = Some(input_step(m, &acts[0], &r, cfg));
        }
    });
    first.unwrap_or_else(|| Err(fanaroff_core::input("lrp", "first layer not found")))
}

/// Sum over channels of a `[N, C, H, W]` map: one `[N, H, W]` heat map per image.
pub fn per_pixel(map: &ArrayD<f32>) -> ArrayD<f32> {
    if map.ndim() == 4 {
        map.sum_axis(Axis(1))
    } else {
        map.clone()
    }
}
