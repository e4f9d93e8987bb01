//! The mean-field Gaussian posterior of one weight tensor: the `sigma(rho)`
//! map, fused sampling ops and the KL terms.
//!
//! Conventions (they change numbers silently, so they are fixed here):
//!
//! * `w = mu + sigma(rho) * eps`, `eps ~ N(0, 1)`, with `sigma = exp(rho)`
//!   (the paper's code) or `sigma = softplus(rho) = ln(1 + exp(rho))`.
//! * KL terms are **summed over all weights**; a Monte Carlo estimate with
//!   `S` draws is the mean over the draws of that sum.
//! * `ln q(w)` at a draw is `sum(-eps^2 / 2 - ln sigma - ln sqrt(2 pi))`.
//!   By default its gradient is the total derivative (zero with respect to
//!   `mu`, `-sigma'/sigma` with respect to `rho`), which is what PyTorch gives
//!   for `Normal(mu, sigma).log_prob(w)` (the fixtures); with
//!   [`LogQGradient::DetachedMu`] the location `mu` inside `q` is a constant,
//!   as in the reference training script, adding the path term `-eps/sigma`.

use crate::error::{Result, input};
use crate::prior::{LN_SQRT_2PI, Prior};
use fanaroff_tensor::{Backward, Tensor, pool};
use ndarray::{ArrayD, CowArray, IxDyn};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How `sigma` is computed from the free parameter `rho`.
///
/// ```text
/// Exp:      sigma = exp(rho),              d sigma / d rho = exp(rho)
/// Softplus: sigma = ln(1 + exp(rho)),      d sigma / d rho = 1 / (1 + exp(-rho))
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SigmaTransform {
    /// `sigma = exp(rho)` (the paper's code).
    #[default]
    Exp,
    /// `sigma = softplus(rho)`.
    Softplus,
}

impl SigmaTransform {
    /// `sigma(rho)`.
    #[inline]
    pub fn sigma(self, rho: f64) -> f64 {
        match self {
            SigmaTransform::Exp => rho.exp(),
            SigmaTransform::Softplus => {
                if rho > 30.0 {
                    rho
                } else {
                    rho.exp().ln_1p()
                }
            }
        }
    }

    /// `(sigma(rho), d sigma / d rho)`; one `exp` for [`SigmaTransform::Exp`].
    #[inline]
    pub fn sigma_and_dsigma(self, rho: f64) -> (f64, f64) {
        match self {
            SigmaTransform::Exp => {
                let s = rho.exp();
                (s, s)
            }
            SigmaTransform::Softplus => (self.sigma(rho), self.dsigma(rho)),
        }
    }

    /// `ln sigma(rho)` given `sigma = sigma(rho)`; no `ln` for [`SigmaTransform::Exp`].
    #[inline]
    pub fn ln_sigma(self, rho: f64, sigma: f64) -> f64 {
        match self {
            SigmaTransform::Exp => rho,
            SigmaTransform::Softplus => sigma.ln(),
        }
    }

    /// `d sigma / d rho`.
    #[inline]
    pub fn dsigma(self, rho: f64) -> f64 {
        match self {
            SigmaTransform::Exp => rho.exp(),
            SigmaTransform::Softplus => 1.0 / (1.0 + (-rho).exp()),
        }
    }

    /// The inverse map, `rho(sigma)`, for initialising from a given sigma.
    pub fn rho(self, sigma: f64) -> f64 {
        match self {
            SigmaTransform::Exp => sigma.ln(),
            SigmaTransform::Softplus => sigma.exp_m1().ln(),
        }
    }

    /// `sigma(rho)` as a differentiable tensor.
    pub fn apply(self, rho: &Tensor) -> Tensor {
        match self {
            SigmaTransform::Exp => rho.exp(),
            SigmaTransform::Softplus => rho.softplus(),
        }
    }
}

/// Which gradient `ln q(w)` contributes (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LogQGradient {
    /// Total derivative (PyTorch `Normal(mu, sigma).log_prob(w)`; fixtures).
    #[default]
    Total,
    /// `mu` inside `q` is detached (`Normal(mu.data, sigma)`, the reference script).
    DetachedMu,
}

const CHUNK: usize = 8192;

/// The values in standard (row-major) order: a view when they already are.
fn values(t: &Tensor) -> CowArray<'_, f32, IxDyn> {
    t.data().as_standard_layout()
}

/// The contiguous slice of a standard-layout array.
fn flat<'a>(a: &'a CowArray<'_, f32, IxDyn>) -> &'a [f32] {
    a.as_slice().expect("standard layout")
}

fn check_pair(what: &'static str, mu: &Tensor, rho: &Tensor, eps: &ArrayD<f32>) -> Result<()> {
    if mu.shape() != rho.shape() || mu.shape() != eps.shape() {
        return Err(input(
            what,
            format!(
                "mu {:?}, rho {:?} and eps {:?} must have one shape",
                mu.shape(),
                rho.shape(),
                eps.shape()
            ),
        ));
    }
    Ok(())
}

struct SampleOp {
    /// `eps * sigma'(rho)` per element: the gradient with respect to `rho`
    /// per unit of the gradient with respect to the draw.
    eps_dsigma: Vec<f32>,
    with_mu: bool,
}

impl Drop for SampleOp {
    fn drop(&mut self) {
        pool::recycle(std::mem::take(&mut self.eps_dsigma));
    }
}

impl Backward for SampleOp {
    fn name(&self) -> &'static str {
        "bayes_sample"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _output: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let rho_t = &parents[parents.len() - 1];
        let gv = grad.as_standard_layout();
        let g = gv.as_slice().expect("standard layout");
        let shape = IxDyn(rho_t.shape());
        let grho = rho_t.is_requires_grad().then(|| {
            let mut out = pool::take_dirty(g.len());
            out.par_chunks_mut(CHUNK)
                .zip(g.par_chunks(CHUNK).zip(self.eps_dsigma.par_chunks(CHUNK)))
                .for_each(|(o, (g, ed))| {
                    for ((o, &g), &ed) in o.iter_mut().zip(g).zip(ed) {
                        *o = g * ed;
                    }
                });
            ArrayD::from_shape_vec(shape.clone(), out).expect("same shape")
        });
        if self.with_mu {
            let gmu = parents[0]
                .is_requires_grad()
                .then(|| ArrayD::from_shape_vec(shape, pooled_copy(g)).expect("same shape"));
            vec![gmu, grho]
        } else {
            vec![grho]
        }
    }
}

/// `(mu + sigma(rho) eps, eps sigma'(rho))` per element (`mu` taken as 0
/// when absent), in parallel over fixed chunks.
fn draw_and_slope(
    mu: Option<&[f32]>,
    rho: &[f32],
    eps: &[f32],
    sigma: SigmaTransform,
) -> (Vec<f32>, Vec<f32>) {
    let n = rho.len();
    let (mut w, mut slope) = (pool::take_dirty(n), pool::take_dirty(n));
    w.par_chunks_mut(CHUNK)
        .zip(slope.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(ci, (wc, sc))| {
            let at = ci * CHUNK;
            for (j, (wv, sv)) in wc.iter_mut().zip(sc.iter_mut()).enumerate() {
                let (r, e) = (rho[at + j], eps[at + j]);
                let (s, ds) = sigma.sigma_and_dsigma(r as f64);
                *wv = mu.map_or(0.0, |m| m[at + j]) + s as f32 * e;
                *sv = e * ds as f32;
            }
        });
    (w, slope)
}

/// The fused draw op: `mu` (optional) and `rho` in, the draw out.
fn draw_op(mu: Option<&Tensor>, rho: &Tensor, eps: &ArrayD<f32>, sigma: SigmaTransform) -> Tensor {
    let mv = mu.map(values);
    let rv = values(rho);
    let ev = eps.as_standard_layout();
    let (w, eps_dsigma) = draw_and_slope(mv.as_ref().map(flat), flat(&rv), flat(&ev), sigma);
    let data = ArrayD::from_shape_vec(IxDyn(rho.shape()), w).expect("same shape");
    let parents: Vec<Tensor> = mu.into_iter().chain([rho]).cloned().collect();
    Tensor::custom_op(
        data,
        &parents,
        Box::new(SampleOp {
            eps_dsigma,
            with_mu: mu.is_some(),
        }),
    )
}

/// Fused draw `w = mu + sigma(rho) * eps` for a given `eps` (same shape).
///
/// ```text
/// dL/dmu = dL/dw,   dL/drho = dL/dw * eps * sigma'(rho)
/// ```
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) when the shapes differ.
pub fn sample_weight(
    mu: &Tensor,
    rho: &Tensor,
    eps: &ArrayD<f32>,
    sigma: SigmaTransform,
) -> Result<Tensor> {
    check_pair("sample_weight", mu, rho, eps)?;
    Ok(draw_op(Some(mu), rho, eps, sigma))
}

/// Fused perturbation `delta = sigma(rho) * eps` (Flipout's shared noise).
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) when the shapes differ.
pub fn perturbation(rho: &Tensor, eps: &ArrayD<f32>, sigma: SigmaTransform) -> Result<Tensor> {
    check_pair("perturbation", rho, rho, eps)?;
    Ok(draw_op(None, rho, eps, sigma))
}

/// The mask's values in standard order, checked against the weight's shape.
fn mask_values<'a>(
    mask: Option<&'a ArrayD<f32>>,
    mu: &Tensor,
) -> Result<Option<CowArray<'a, f32, IxDyn>>> {
    match mask {
        None => Ok(None),
        Some(k) if k.shape() == mu.shape() => Ok(Some(k.as_standard_layout())),
        Some(k) => Err(input(
            "KL terms",
            format!("mask {:?} for a weight {:?}", k.shape(), mu.shape()),
        )),
    }
}

/// Per-element derivative coefficients stored by the KL ops, four per
/// element: `[d lnq/d mu, d lnq/d rho, d lnp/d mu, d lnp/d rho]`.
struct KlOp {
    coef: Vec<f32>,
}

impl Drop for KlOp {
    fn drop(&mut self) {
        pool::recycle(std::mem::take(&mut self.coef));
    }
}

/// `out_i = a * c[4i + j] + b * c[4i + k]` in a pooled buffer, in parallel.
fn combine(coef: &[f32], (a, j): (f32, usize), (b, k): (f32, usize)) -> Vec<f32> {
    let mut out = pool::take_dirty(coef.len() / 4);
    out.par_chunks_mut(CHUNK)
        .zip(coef.par_chunks(4 * CHUNK))
        .for_each(|(o, c)| {
            for (o, c) in o.iter_mut().zip(c.chunks_exact(4)) {
                *o = a * c[j] + b * c[k];
            }
        });
    out
}

/// A copy of `g` in a pooled buffer.
fn pooled_copy(g: &[f32]) -> Vec<f32> {
    let mut v = pool::take_dirty(g.len());
    v.copy_from_slice(g);
    v
}

impl Backward for KlOp {
    fn name(&self) -> &'static str {
        "bayes_kl_terms"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _output: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let g: Vec<f32> = grad.iter().copied().collect();
        let (gq, gp) = (g[0], g[1]);
        let shape = IxDyn(parents[0].shape());
        let part = |which: usize| {
            parents[which].is_requires_grad().then(|| {
                let v = combine(&self.coef, (gq, which), (gp, 2 + which));
                ArrayD::from_shape_vec(shape.clone(), v).expect("same shape")
            })
        };
        vec![part(0), part(1)]
    }
}

/// Runs `f(i) -> ([coef; 4], lnq_i, lnp_i)` over all elements in fixed chunks,
/// in parallel, and sums in chunk order (deterministic for any thread count).
fn kl_map(n: usize, f: impl Fn(usize) -> ([f32; 4], f64, f64) + Sync) -> (Vec<f32>, f64, f64) {
    let mut coef = pool::take_dirty(4 * n);
    let parts: Vec<(f64, f64)> = coef
        .par_chunks_mut(4 * CHUNK)
        .enumerate()
        .map(|(ci, chunk)| {
            let (mut q, mut p) = (0.0, 0.0);
            for (j, c) in chunk.chunks_exact_mut(4).enumerate() {
                let (cc, qi, pi) = f(ci * CHUNK + j);
                c.copy_from_slice(&cc);
                q += qi;
                p += pi;
            }
            (q, p)
        })
        .collect();
    let (q, p) = parts
        .iter()
        .fold((0.0, 0.0), |(a, b), &(q, p)| (a + q, b + p));
    (coef, q, p)
}

/// Monte Carlo KL terms of one weight tensor: a `[2]` tensor
/// `[ln q, ln p]`, each the mean over the draws `eps_s` of the sum over
/// weights, at `w_s = mu + sigma(rho) * eps_s`:
///
/// ```text
/// ln q(w_s) = sum_i ( -eps_si^2 / 2 - ln sigma_i - ln sqrt(2 pi) )
/// ln p(w_s) = sum_i ln p(w_si)
/// KL_MC     = mean_s [ ln q(w_s) - ln p(w_s) ]
/// ```
///
/// Masked weights (`mask` 0) contribute nothing: a pruned weight is a point
/// mass at zero under both posterior and prior, whose KL is taken as 0.
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for no draws or
/// mismatched shapes.
pub fn mc_kl_terms(
    mu: &Tensor,
    rho: &Tensor,
    eps: &[&ArrayD<f32>],
    prior: &Arc<dyn Prior>,
    sigma_t: SigmaTransform,
    log_q_grad: LogQGradient,
    mask: Option<&ArrayD<f32>>,
) -> Result<Tensor> {
    if eps.is_empty() {
        return Err(input("mc_kl_terms", "need at least one noise draw"));
    }
    for e in eps {
        check_pair("mc_kl_terms", mu, rho, e)?;
    }
    let (mv, rv) = (values(mu), values(rho));
    let (m, r) = (flat(&mv), flat(&rv));
    let ev: Vec<CowArray<'_, f32, IxDyn>> = eps.iter().map(|e| e.as_standard_layout()).collect();
    let es: Vec<&[f32]> = ev.iter().map(flat).collect();
    let inv_s = 1.0 / es.len() as f64;
    let detach = log_q_grad == LogQGradient::DetachedMu;
    let kv = mask_values(mask, mu)?;
    let keep = kv.as_ref().map(flat);
    let (coef, q, p) = kl_map(m.len(), |i| {
        if keep.is_some_and(|k| k[i] == 0.0) {
            return ([0.0; 4], 0.0, 0.0);
        }
        let (mu, rho) = (m[i] as f64, r[i] as f64);
        let (sig, dsig) = sigma_t.sigma_and_dsigma(rho);
        let ln_sig = sigma_t.ln_sigma(rho, sig);
        let (mut lq, mut lp, mut c) = (0.0, 0.0, [0f64; 4]);
        for e in &es {
            let e = e[i] as f64;
            // The draw in f32, exactly as the forward pass uses it.
            let w = (mu as f32 + sig as f32 * e as f32) as f64;
            lq += -0.5 * e * e - ln_sig - LN_SQRT_2PI;
            let (lpw, gp) = prior.log_density_and_grad(w);
            lp += lpw;
            if detach {
                c[0] += -e / sig;
            }
            c[1] += -dsig / sig;
            c[2] += gp;
            c[3] += gp * e * dsig;
        }
        (
            [
                (c[0] * inv_s) as f32,
                (c[1] * inv_s) as f32,
                (c[2] * inv_s) as f32,
                (c[3] * inv_s) as f32,
            ],
            lq * inv_s,
            lp * inv_s,
        )
    });
    let data = ArrayD::from_shape_vec(IxDyn(&[2]), vec![q as f32, p as f32]).expect("two values");
    Ok(Tensor::custom_op(
        data,
        &[mu.clone(), rho.clone()],
        Box::new(KlOp { coef }),
    ))
}

/// Closed-form KL terms of one weight tensor, `[E_q ln q, E_q ln p]`, for a
/// prior that provides [`Prior::expected_log_density`]:
///
/// ```text
/// E_q ln q = sum_i ( -ln sigma_i - (1/2) ln(2 pi e) )
/// KL       = E_q ln q - E_q ln p
/// ```
///
/// Masked weights contribute nothing (as in [`mc_kl_terms`]). Returns
/// `None` when the prior has no closed form.
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for mismatched shapes.
pub fn closed_form_kl_terms(
    mu: &Tensor,
    rho: &Tensor,
    prior: &Arc<dyn Prior>,
    sigma_t: SigmaTransform,
    mask: Option<&ArrayD<f32>>,
) -> Result<Option<Tensor>> {
    if mu.shape() != rho.shape() {
        return Err(input("closed_form_kl_terms", "mu and rho shapes differ"));
    }
    if prior.expected_log_density(0.0, 1.0).is_none() {
        return Ok(None);
    }
    let (mv, rv) = (values(mu), values(rho));
    let (m, r) = (flat(&mv), flat(&rv));
    let kv = mask_values(mask, mu)?;
    let keep = kv.as_ref().map(flat);
    let (coef, q, p) = kl_map(m.len(), |i| {
        if keep.is_some_and(|k| k[i] == 0.0) {
            return ([0.0; 4], 0.0, 0.0);
        }
        let (mu, rho) = (m[i] as f64, r[i] as f64);
        let (sig, dsig) = sigma_t.sigma_and_dsigma(rho);
        let (ep, dmu, dsg) =
            prior
                .expected_log_density(mu, sig)
                .unwrap_or((f64::NAN, f64::NAN, f64::NAN));
        (
            [0.0, (-dsig / sig) as f32, dmu as f32, (dsg * dsig) as f32],
            -sigma_t.ln_sigma(rho, sig) - LN_SQRT_2PI - 0.5,
            ep,
        )
    });
    let data = ArrayD::from_shape_vec(IxDyn(&[2]), vec![q as f32, p as f32]).expect("two values");
    Ok(Some(Tensor::custom_op(
        data,
        &[mu.clone(), rho.clone()],
        Box::new(KlOp { coef }),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prior::{GaussianPrior, LaplacePrior, ScaleMixturePrior};
    use fanaroff_tensor::gradcheck::{GradCheck, check_gradients};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn to_t(e: crate::Error) -> fanaroff_tensor::Error {
        fanaroff_tensor::Error::InvalidArgument {
            op: "test",
            msg: e.to_string(),
        }
    }

    #[test]
    fn sigma_transforms_and_inverse() {
        for t in [SigmaTransform::Exp, SigmaTransform::Softplus] {
            for rho in [-5.0, -0.3, 2.0] {
                let s = t.sigma(rho);
                assert!((t.rho(s) - rho).abs() < 1e-9);
                let h = 1e-6;
                let fd = (t.sigma(rho + h) - t.sigma(rho - h)) / (2.0 * h);
                assert!((t.dsigma(rho) - fd).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn fused_sample_and_kl_gradients_match_finite_differences() {
        let mut rng = StdRng::seed_from_u64(1);
        let mu = Tensor::rand_uniform(&[3, 4], -0.5, 0.5, &mut rng)
            .unwrap()
            .data()
            .clone();
        let rho = Tensor::rand_uniform(&[3, 4], -3.0, -1.0, &mut rng)
            .unwrap()
            .data()
            .clone();
        let eps = Tensor::randn(&[3, 4], &mut rng).data().clone();
        let eps2 = Tensor::randn(&[3, 4], &mut rng).data().clone();
        let priors: Vec<Arc<dyn Prior>> = vec![
            Arc::new(GaussianPrior::new(0.5).unwrap()),
            Arc::new(LaplacePrior::new(1.0).unwrap()),
            Arc::new(ScaleMixturePrior::new(0.5, 1.0, 0.2).unwrap()),
        ];
        let cfg = GradCheck {
            eps: 1e-3,
            ..GradCheck::default()
        };
        for sigma in [SigmaTransform::Exp, SigmaTransform::Softplus] {
            let r = check_gradients(
                |t| {
                    Ok(sample_weight(&t[0], &t[1], &eps, sigma)
                        .map_err(to_t)?
                        .square())
                },
                &[mu.clone(), rho.clone()],
                &cfg,
            )
            .unwrap();
            assert!(r.passed(), "{r:?}");
            for prior in &priors {
                // The MC terms treat eps as fixed, so they are an ordinary function of (mu, rho)
                // except for the DetachedMu variant (not a true gradient by design).
                let r = check_gradients(
                    |t| {
                        mc_kl_terms(
                            &t[0],
                            &t[1],
                            &[&eps, &eps2],
                            prior,
                            sigma,
                            LogQGradient::Total,
                            None,
                        )
                        .map_err(to_t)
                    },
                    &[mu.clone(), rho.clone()],
                    &cfg,
                )
                .unwrap();
                assert!(r.passed(), "{} {r:?}", prior.name());
                if closed_form_kl_terms(
                    &Tensor::new(mu.clone()),
                    &Tensor::new(rho.clone()),
                    prior,
                    sigma,
                    None,
                )
                .unwrap()
                .is_some()
                {
                    let r = check_gradients(
                        |t| {
                            Ok(closed_form_kl_terms(&t[0], &t[1], prior, sigma, None)
                                .map_err(to_t)?
                                .expect("closed form"))
                        },
                        &[mu.clone(), rho.clone()],
                        &cfg,
                    )
                    .unwrap();
                    assert!(r.passed(), "{} {r:?}", prior.name());
                }
            }
        }
    }
}
