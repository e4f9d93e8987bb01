//! Exact t-SNE (van der Maaten & Hinton 2008) for 2-D figures of the
//! relevance features. O(N^2) memory and time per iteration; fine up to
//! about a thousand points.

use super::affinity::squared_distances;
use super::check_finite;
use fanaroff_nn::Result;
use ndarray::{Array2, ArrayView2};
use rand::Rng;

/// Settings of [`tsne`]. The defaults follow van der Maaten's reference
/// implementation and scikit-learn's exact method.
///
/// | name | default | meaning | valid range |
/// |---|---|---|---|
/// | `dims` | 2 | dimension of the embedding | `>= 1` |
/// | `perplexity` | 30 | effective number of neighbours of each point's Gaussian | `(0, N)`; larger than `N - 1` cannot be reached and gives near-uniform rows |
/// | `iterations` | 1000 | gradient steps | `>= 1` |
/// | `learning_rate` | 200 | step size | `> 0` |
/// | `early_exaggeration` | 12 | factor on `P` during the first `exaggeration_iters` steps | `>= 1` |
/// | `exaggeration_iters` | 250 | steps with exaggeration and `momentum` | `<= iterations` |
/// | `momentum` | 0.5 | momentum during the exaggeration phase | `[0, 1)` |
/// | `final_momentum` | 0.8 | momentum afterwards | `[0, 1)` |
/// | `init_std` | 1e-4 | standard deviation of the Gaussian initial positions | `> 0` |
/// | `min_gain` | 0.01 | floor of the per-coordinate adaptive gains (delta-bar-delta: +0.2 when the gradient changes sign against the last step, x0.8 otherwise) | `> 0` |
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TsneConfig {
    /// Dimension of the embedding.
    pub dims: usize,
    /// Target perplexity of the conditional Gaussians.
    pub perplexity: f64,
    /// Gradient steps.
    pub iterations: usize,
    /// Step size.
    pub learning_rate: f64,
    /// Factor on `P` during the first `exaggeration_iters` steps.
    pub early_exaggeration: f64,
    /// Steps with exaggeration.
    pub exaggeration_iters: usize,
    /// Momentum during the exaggeration phase.
    pub momentum: f64,
    /// Momentum afterwards.
    pub final_momentum: f64,
    /// Standard deviation of the initial positions.
    pub init_std: f64,
    /// Floor of the adaptive gains.
    pub min_gain: f64,
}

impl Default for TsneConfig {
    fn default() -> Self {
        TsneConfig {
            dims: 2,
            perplexity: 30.0,
            iterations: 1000,
            learning_rate: 200.0,
            early_exaggeration: 12.0,
            exaggeration_iters: 250,
            momentum: 0.5,
            final_momentum: 0.8,
            init_std: 1e-4,
            min_gain: 0.01,
        }
    }
}

impl TsneConfig {
    /// Checks every setting against the table on [`TsneConfig`]
    /// (`perplexity < N` is checked by [`tsne`]).
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) naming the
    /// first setting out of range.
    pub fn check(&self) -> Result<()> {
        let bad =
            |what: &str, why: String| Err(fanaroff_core::config(format!("TsneConfig.{what}"), why));
        let unit = 0.0..1.0;
        if self.dims == 0 {
            return bad("dims", "must be >= 1".into());
        }
        if !(self.perplexity > 0.0 && self.perplexity.is_finite()) {
            return bad("perplexity", format!("{} must be > 0", self.perplexity));
        }
        if self.iterations == 0 || self.exaggeration_iters > self.iterations {
            return bad(
                "iterations",
                "need iterations >= max(1, exaggeration_iters)".into(),
            );
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad(
                "learning_rate",
                format!("{} must be > 0", self.learning_rate),
            );
        }
        if !(self.early_exaggeration >= 1.0 && self.early_exaggeration.is_finite()) {
            return bad("early_exaggeration", "must be >= 1".into());
        }
        if !unit.contains(&self.momentum) || !unit.contains(&self.final_momentum) {
            return bad("momentum", "momenta must be in [0, 1)".into());
        }
        if !(self.init_std > 0.0 && self.init_std.is_finite()) {
            return bad("init_std", "must be > 0".into());
        }
        if !(self.min_gain > 0.0 && self.min_gain.is_finite()) {
            return bad("min_gain", "must be > 0".into());
        }
        Ok(())
    }
}

/// A t-SNE embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct Tsne {
    /// Positions `[N, dims]`, centred at the origin.
    pub embedding: Array2<f64>,
    /// Final Kullback-Leibler divergence `KL(P || Q)` (without
    /// exaggeration).
    pub kl: f64,
}

/// Exact t-SNE of the rows of `x`:
///
/// ```text
/// p_{j|i} = exp(-beta_i |x_i - x_j|^2) / sum_{k != i} exp(-beta_i |x_i - x_k|^2)
///           (beta_i by bisection so that exp(H(p_{.|i})) = perplexity)
/// p_ij    = (p_{j|i} + p_{i|j}) / 2N
/// q_ij    = (1 + |y_i - y_j|^2)^{-1} / sum_{k != l} (1 + |y_k - y_l|^2)^{-1}
/// dC/dy_i = 4 sum_j (p_ij - q_ij) (y_i - y_j) / (1 + |y_i - y_j|^2)
/// ```
///
/// Gradient descent with momentum, adaptive gains and early exaggeration
/// (see [`TsneConfig`]); the initial positions are drawn from
/// `N(0, init_std^2)` with `rng`, so the result is a function of the seed.
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) as
/// [`TsneConfig::check`] or for `perplexity >= N`;
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for fewer than 2
/// points or a non-finite value.
pub fn tsne<R: Rng + ?Sized>(
    x: ArrayView2<'_, f64>,
    cfg: &TsneConfig,
    rng: &mut R,
) -> Result<Tsne> {
    cfg.check()?;
    let n = x.nrows();
    if n < 2 {
        return Err(fanaroff_core::input("tsne", "need at least 2 points"));
    }
    if cfg.perplexity >= n as f64 {
        return Err(fanaroff_core::config(
            "TsneConfig.perplexity",
            format!("{} must be below the number of points {n}", cfg.perplexity),
        ));
    }
    check_finite("tsne", x.iter().copied())?;
    let p = joint_probabilities(&squared_distances(x), cfg.perplexity);
    let dims = cfg.dims;
    let mut y: Vec<f64> = (0..n * dims)
        .map(|_| cfg.init_std * standard_normal(rng))
        .collect();
    let mut update = vec![0.0f64; n * dims];
    let mut gains = vec![1.0f64; n * dims];
    let mut grad = vec![0.0f64; n * dims];
    let mut num = vec![0.0f64; n * n];
    for it in 0..cfg.iterations {
        let early = it < cfg.exaggeration_iters;
        let exaggeration = if early { cfg.early_exaggeration } else { 1.0 };
        let momentum = if early {
            cfg.momentum
        } else {
            cfg.final_momentum
        };
        gradient(&p, &y, dims, &mut num, &mut grad, exaggeration);
        for ((g, u), gain) in grad.iter().zip(update.iter_mut()).zip(gains.iter_mut()) {
            *gain = if (*g > 0.0) != (*u > 0.0) {
                *gain + 0.2
            } else {
                *gain * 0.8
            }
            .max(cfg.min_gain);
            *u = momentum * *u - cfg.learning_rate * *gain * g;
        }
        y.iter_mut().zip(&update).for_each(|(v, u)| *v += u);
        centre(&mut y, dims);
    }
    gradient(&p, &y, dims, &mut num, &mut grad, 1.0);
    let kl = kl_divergence(&p, &num);
    let embedding = Array2::from_shape_vec((n, dims), y)
        .map_err(|e| fanaroff_core::input::<fanaroff_nn::Error>("tsne", e.to_string()))?;
    Ok(Tsne { embedding, kl })
}

/// One standard normal draw (Box-Muller).
fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The symmetrised joint probabilities `P` (row-major `n x n`, zero
/// diagonal) from squared distances, each conditional row calibrated to
/// `perplexity`; floored at 1e-12.
fn joint_probabilities(d2: &Array2<f64>, perplexity: f64) -> Vec<f64> {
    let n = d2.nrows();
    let mut p = vec![0.0f64; n * n];
    for i in 0..n {
        let row: Vec<f64> = (0..n).filter(|&j| j != i).map(|j| d2[[i, j]]).collect();
        let cond = calibrated_row(&row, perplexity.ln());
        for (c, j) in cond.iter().zip((0..n).filter(|&j| j != i)) {
            p[i * n + j] = *c;
        }
    }
    let scale = 1.0 / (2.0 * n as f64);
    let mut joint = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            if i != j {
                joint[i * n + j] = ((p[i * n + j] + p[j * n + i]) * scale).max(1e-12);
            }
        }
    }
    joint
}

/// `p_j ∝ exp(-beta d_j)` with `beta` found by bisection (on a log scale
/// while unbounded) so that the entropy (nats) is `target` within 1e-5.
fn calibrated_row(d: &[f64], target: f64) -> Vec<f64> {
    let dmin = d.iter().copied().fold(f64::INFINITY, f64::min);
    let shifted: Vec<f64> = d.iter().map(|v| v - dmin).collect();
    let (mut lo, mut hi, mut beta) = (0.0f64, f64::INFINITY, 1.0f64);
    let mut probs = vec![0.0; d.len()];
    for _ in 0..200 {
        let mut z = 0.0;
        for (p, s) in probs.iter_mut().zip(&shifted) {
            *p = (-beta * s).exp();
            z += *p;
        }
        let mean: f64 = probs.iter().zip(&shifted).map(|(p, s)| p * s).sum::<f64>() / z;
        let entropy = z.ln() + beta * mean;
        probs.iter_mut().for_each(|p| *p /= z);
        let diff = entropy - target;
        if diff.abs() < 1e-5 {
            break;
        }
        if diff > 0.0 {
            lo = beta;
            beta = if hi.is_finite() {
                0.5 * (beta + hi)
            } else {
                beta * 2.0
            };
        } else {
            hi = beta;
            beta = 0.5 * (beta + lo);
        }
    }
    probs
}

/// The t-SNE gradient at `y` (row-major `n x dims`) into `grad`; leaves
/// the Student-t kernel `(1 + |y_i - y_j|^2)^{-1}` (zero diagonal) in
/// `num` (row-major `n x n`).
fn gradient(
    p: &[f64],
    y: &[f64],
    dims: usize,
    num: &mut [f64],
    grad: &mut [f64],
    exaggeration: f64,
) {
    let n = y.len() / dims;
    let mut total = 0.0;
    for i in 0..n {
        let yi = &y[i * dims..(i + 1) * dims];
        num[i * n + i] = 0.0;
        for j in 0..i {
            let yj = &y[j * dims..(j + 1) * dims];
            let d2: f64 = yi.iter().zip(yj).map(|(a, b)| (a - b) * (a - b)).sum();
            let k = 1.0 / (1.0 + d2);
            num[i * n + j] = k;
            num[j * n + i] = k;
            total += 2.0 * k;
        }
    }
    let inv_total = 1.0 / total;
    grad.iter_mut().for_each(|g| *g = 0.0);
    for i in 0..n {
        let (p_row, k_row) = (&p[i * n..i * n + n], &num[i * n..i * n + n]);
        let yi = &y[i * dims..(i + 1) * dims];
        let gi = &mut grad[i * dims..(i + 1) * dims];
        for (j, (pij, k)) in p_row.iter().zip(k_row).enumerate() {
            let f = 4.0 * (exaggeration * pij - k * inv_total) * k;
            let yj = &y[j * dims..(j + 1) * dims];
            for ((g, a), b) in gi.iter_mut().zip(yi).zip(yj) {
                *g += f * (a - b);
            }
        }
    }
}

fn centre(y: &mut [f64], dims: usize) {
    let n = (y.len() / dims) as f64;
    for c in 0..dims {
        let mean = y.iter().skip(c).step_by(dims).sum::<f64>() / n;
        y.iter_mut().skip(c).step_by(dims).for_each(|v| *v -= mean);
    }
}

/// `KL(P || Q)` with `Q` from the kernel `num`.
fn kl_divergence(p: &[f64], num: &[f64]) -> f64 {
    let total: f64 = num.iter().sum();
    p.iter()
        .zip(num)
        .filter(|(pij, _)| **pij > 0.0)
        .map(|(pij, k)| pij * (pij / (k / total).max(1e-300)).ln())
        .sum()
}
