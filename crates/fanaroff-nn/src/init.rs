//! Weight initialisers. Each draws from the generator it is given.
//!
//! `fan_in` / `fan_out` of a weight `[O, I, kh, kw]` (or `[O, I]`) are
//! `I kh kw` and `O kh kw`.

use crate::error::{Result, config};
use crate::module::Module;
use fanaroff_tensor::Tensor;
use rand::Rng;
use rand_distr::{Distribution, Normal};

/// `(fan_in, fan_out)` of a weight shape in PyTorch layout.
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for shapes of rank below 2.
pub fn fans(shape: &[usize]) -> Result<(usize, usize)> {
    if shape.len() < 2 {
        return Err(config(
            "init",
            format!("weight shape {shape:?} needs at least 2 axes"),
        ));
    }
    let receptive: usize = shape[2..].iter().product();
    Ok((shape[1] * receptive, shape[0] * receptive))
}

/// Uniform on `[low, high)`.
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless `low < high`.
pub fn uniform<R: Rng + ?Sized>(
    shape: &[usize],
    low: f32,
    high: f32,
    rng: &mut R,
) -> Result<Tensor> {
    Ok(Tensor::rand_uniform(shape, low, high, rng)?)
}

/// Kaiming (He) uniform: `U(-b, b)` with `b = gain * sqrt(3 / fan_in)` and
/// `gain = sqrt(2 / (1 + a^2))`. `a = sqrt(5)` gives PyTorch's default for
/// `Linear` and `Conv2d` weights, `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`.
///
/// # Errors
/// As [`fans`].
pub fn kaiming_uniform<R: Rng + ?Sized>(shape: &[usize], a: f32, rng: &mut R) -> Result<Tensor> {
    let (fan_in, _) = fans(shape)?;
    let gain = (2.0 / (1.0 + a * a)).sqrt();
    let b = gain * (3.0 / fan_in.max(1) as f32).sqrt();
    uniform(shape, -b, b, rng)
}

/// Kaiming (He) normal for ReLU networks: `N(0, 2 / fan_in)`.
///
/// # Errors
/// As [`fans`].
pub fn kaiming_normal<R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> Result<Tensor> {
    let (fan_in, _) = fans(shape)?;
    let std = (2.0 / fan_in.max(1) as f32).sqrt();
    Ok(Tensor::randn(shape, rng).mul_scalar(std))
}

/// Xavier (Glorot) uniform: `U(-b, b)`, `b = sqrt(6 / (fan_in + fan_out))`.
///
/// # Errors
/// As [`fans`].
pub fn xavier_uniform<R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> Result<Tensor> {
    let (i, o) = fans(shape)?;
    let b = (6.0 / (i + o).max(1) as f32).sqrt();
    uniform(shape, -b, b, rng)
}

/// Xavier (Glorot) normal: `N(0, 2 / (fan_in + fan_out))`.
///
/// # Errors
/// As [`fans`].
pub fn xavier_normal<R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> Result<Tensor> {
    let (i, o) = fans(shape)?;
    let std = (2.0 / (i + o).max(1) as f32).sqrt();
    Ok(Tensor::randn(shape, rng).mul_scalar(std))
}

/// Re-draws the weights of a built model the way the attention-gating code
/// of Oktay et al. 2018 (and the Bowles et al. 2021 study code built on it)
/// initialises its networks: every parameter named `weight` of rank 2 or
/// more (convolutions, linear layers) from [`kaiming_normal`], every rank-1
/// `weight` (batch-norm scales) from `N(1, 0.02^2)`. Biases, running
/// statistics and variational parameters (other names) keep their values.
/// Parameters are visited in the model's fixed order, so the result is
/// deterministic by seed.
///
/// ```
/// use fanaroff_nn::{Linear, LinearConfig, init};
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let mut layer = Linear::new(LinearConfig::new(200, 100), &mut rng).unwrap();
/// init::reinit_kaiming_normal(&mut layer, &mut rng).unwrap();
/// let w = layer.weight.data();
/// let std = (w.mapv(|v| v * v).mean().unwrap()).sqrt();
/// assert!((std - (2.0f32 / 200.0).sqrt()).abs() < 0.005);
/// ```
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) if a weight is
/// part of a graph (it cannot be overwritten in place).
pub fn reinit_kaiming_normal<R: Rng + ?Sized>(model: &mut dyn Module, rng: &mut R) -> Result<()> {
    reinit_kaiming_where(model, rng, |_| true)
}

/// As [`reinit_kaiming_normal`], but only convolution weights (rank 3 or
/// more) and batch-norm scales (rank 1): linear layers keep their own
/// initialisation. This is the scope of the Bowles et al. (2021) study
/// code, which applies `init_weights(kaiming)` to its `Conv2d` and
/// `BatchNorm2d` modules only.
///
/// ```
/// use fanaroff_nn::{Linear, LinearConfig, init};
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let mut layer = Linear::new(LinearConfig::new(200, 100), &mut rng).unwrap();
/// let before = layer.weight.data().clone();
/// init::reinit_kaiming_normal_convs(&mut layer, &mut rng).unwrap();
/// assert_eq!(layer.weight.data(), &before);
/// ```
///
/// # Errors
/// As [`reinit_kaiming_normal`].
pub fn reinit_kaiming_normal_convs<R: Rng + ?Sized>(
    model: &mut dyn Module,
    rng: &mut R,
) -> Result<()> {
    reinit_kaiming_where(model, rng, |rank| rank != 2)
}

/// Re-draws every `weight` whose rank passes `keep`.
fn reinit_kaiming_where<R: Rng + ?Sized>(
    model: &mut dyn Module,
    rng: &mut R,
    keep: impl Fn(usize) -> bool,
) -> Result<()> {
    let scale = Normal::new(1.0f32, 0.02).expect("valid normal");
    let mut err = None;
    model.visit_params_mut("", &mut |name, t| {
        let rank = t.shape().len();
        if err.is_some() || name.rsplit('.').next() != Some("weight") || !keep(rank) {
            return;
        }
        let shape = t.shape().to_vec();
        let fresh = if shape.len() >= 2 {
            match kaiming_normal(&shape, rng) {
                Ok(w) => w.data().clone(),
                Err(e) => return err = Some(e),
            }
        } else {
            ndarray::ArrayD::from_shape_simple_fn(shape, || scale.sample(rng))
        };
        match t.data_mut() {
            Ok(d) => d.assign(&fresh),
            Err(e) => err = Some(config("init", format!("{name}: {e}"))),
        }
    });
    err.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn bounds_and_spread() {
        let mut r = StdRng::seed_from_u64(0);
        let w = kaiming_uniform(&[64, 16, 5, 5], 5f32.sqrt(), &mut r).unwrap();
        let b = 1.0 / 400f32.sqrt();
        assert!(w.data().iter().all(|v| v.abs() <= b));
        assert!(w.data().iter().any(|v| v.abs() > 0.9 * b));
        let w = kaiming_normal(&[256, 100], &mut r).unwrap();
        let var = w.data().iter().map(|v| v * v).sum::<f32>() / w.len() as f32;
        assert!((var - 0.02).abs() < 0.002, "{var}");
        let w = xavier_uniform(&[30, 10], &mut r).unwrap();
        assert!(w.data().iter().all(|v| v.abs() <= (6.0f32 / 40.0).sqrt()));
        assert!(fans(&[3]).is_err());
    }

    #[test]
    fn reinit_follows_the_attention_code() {
        use crate::{BatchNorm2d, Conv2d, Conv2dConfig, Sequential};
        let mut r = StdRng::seed_from_u64(1);
        let conv = Conv2d::new(Conv2dConfig::new(16, 32, 3), &mut r).unwrap();
        let bias_before = conv.bias.as_ref().unwrap().data().clone();
        let mut net = Sequential::new()
            .push("conv", conv)
            .push("bn", BatchNorm2d::new(32).unwrap());
        reinit_kaiming_normal(&mut net, &mut r).unwrap();
        let mut seen = Vec::new();
        net.visit_params("", &mut |n, t| seen.push((n.to_string(), t.data().clone())));
        let get = |n: &str| seen.iter().find(|(m, _)| m == n).unwrap().1.clone();
        let w = get("conv.weight");
        let var = w.iter().map(|v| v * v).sum::<f32>() / w.len() as f32;
        assert!((var - 2.0 / 144.0).abs() < 0.0015, "{var}");
        assert_eq!(get("conv.bias"), bias_before);
        let g = get("bn.weight");
        assert!(g.iter().all(|v| (v - 1.0).abs() < 0.1) && g.iter().any(|&v| v != 1.0));
        assert!(get("bn.bias").iter().all(|&v| v == 0.0));
    }

    #[test]
    fn the_conv_scope_leaves_linear_layers_alone() {
        use crate::{Conv2d, Conv2dConfig, Flatten, Linear, LinearConfig, Sequential};
        let mut r = StdRng::seed_from_u64(2);
        let mut net = Sequential::new()
            .push(
                "conv",
                Conv2d::new(Conv2dConfig::new(1, 4, 3), &mut r).unwrap(),
            )
            .push("flat", Flatten)
            .push("fc", Linear::new(LinearConfig::new(36, 2), &mut r).unwrap());
        let snapshot = |net: &Sequential| {
            let mut seen = Vec::new();
            net.visit_params("", &mut |n, t| seen.push((n.to_string(), t.data().clone())));
            seen
        };
        let before = snapshot(&net);
        reinit_kaiming_normal_convs(&mut net, &mut r).unwrap();
        let after = snapshot(&net);
        for ((name, b), (_, a)) in before.iter().zip(&after) {
            assert_eq!(a == b, name != "conv.weight", "{name}");
        }
    }
}
