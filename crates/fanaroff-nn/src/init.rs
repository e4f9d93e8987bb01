//! Weight initialisers. Each draws from the generator it is given.
//!
//! `fan_in` / `fan_out` of a weight `[O, I, kh, kw]` (or `[O, I]`) are
//! `I kh kw` and `O kh kw`.

use crate::error::{Result, config};
use fanaroff_tensor::Tensor;
use rand::Rng;

/// `(fan_in, fan_out)` of a weight shape in PyTorch layout.
///
/// # Errors
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for shapes of rank below 2.
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
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig) unless `low < high`.
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
}
