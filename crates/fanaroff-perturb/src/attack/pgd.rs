//! Projected gradient descent (Madry et al. 2018) in an L-inf or L2 ball.

use super::fgsm::sign;
use super::{Bounds, check_budget};
use crate::classifier::{GradientClassifier, expected_gradient};
use crate::error::{Result, config};
use ndarray::{Array4, ArrayView4, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal, Uniform};

/// The ball the perturbation lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    /// Every pixel moves by at most epsilon.
    LInf,
    /// The perturbation's Euclidean length is at most epsilon (per image).
    L2,
}

/// PGD: `steps` ascent steps on the loss (signed gradient of size `step`
/// for L-inf, normalised gradient of length `step` for L2), each followed
/// by projection onto the epsilon ball around the clean image and clipping
/// into the bounds; optionally from a uniformly random start in the ball.
/// Stochastic models: gradients averaged over `eot_draws` weight draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pgd {
    norm: Norm,
    epsilon: f32,
    step: f32,
    steps: usize,
    random_start: bool,
    eot_draws: usize,
    bounds: Bounds,
}

impl Pgd {
    /// PGD in the `norm` ball of radius `epsilon`; by default 10 steps of
    /// size `2.5 * epsilon / 10`, random start, one draw.
    ///
    /// # Errors
    /// A negative or non-finite budget.
    pub fn new(norm: Norm, epsilon: f32, bounds: Bounds) -> Result<Self> {
        check_budget("Pgd", epsilon)?;
        Ok(Pgd {
            norm,
            epsilon,
            step: 0.25 * epsilon,
            steps: 10,
            random_start: true,
            eot_draws: 1,
            bounds,
        })
    }

    /// Sets the number and size of the steps.
    ///
    /// # Errors
    /// Zero steps or a negative step size.
    pub fn steps(mut self, steps: usize, step: f32) -> Result<Self> {
        if steps == 0 {
            return Err(config("Pgd", "steps must be >= 1"));
        }
        check_budget("Pgd step", step)?;
        self.steps = steps;
        self.step = step;
        Ok(self)
    }

    /// Starts at the clean image instead of a random point of the ball.
    pub fn random_start(mut self, on: bool) -> Self {
        self.random_start = on;
        self
    }

    /// Averages each gradient over `draws` weight draws (EOT).
    ///
    /// # Errors
    /// `draws == 0`.
    pub fn eot(mut self, draws: usize) -> Result<Self> {
        if draws == 0 {
            return Err(config("Pgd", "eot draws must be >= 1"));
        }
        self.eot_draws = draws;
        Ok(self)
    }

    /// Attacks inputs `x` `[N, C, H, W]` with true `labels`; `seed` drives
    /// the random start and the weight draws.
    ///
    /// # Errors
    /// Invalid input; model failures.
    pub fn attack<C: GradientClassifier + ?Sized>(
        &self,
        model: &C,
        x: ArrayView4<'_, f32>,
        labels: &[usize],
        seed: u64,
    ) -> Result<Array4<f32>> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut adv = x.to_owned();
        if self.random_start {
            adv += &self.random_point(x.raw_dim(), &mut rng);
            self.project(&mut adv, x);
        }
        for s in 0..self.steps {
            let (_, g) = expected_gradient(
                model,
                adv.view(),
                labels,
                self.eot_draws,
                seed.wrapping_add(1000 * s as u64),
            )?;
            match self.norm {
                Norm::LInf => adv += &g.mapv(|v| self.step * sign(v)),
                Norm::L2 => {
                    let mut g = g;
                    scale_per_image(&mut g, |n| if n > 0.0 { self.step / n } else { 0.0 });
                    adv += &g;
                }
            }
            self.project(&mut adv, x);
        }
        Ok(adv)
    }

    /// A uniform draw from the ball (L-inf: per pixel; L2: a Gaussian
    /// direction scaled to radius `epsilon * u^(1/d)`).
    fn random_point(&self, dim: ndarray::Ix4, rng: &mut StdRng) -> Array4<f32> {
        match self.norm {
            Norm::LInf => {
                let u = Uniform::new_inclusive(-self.epsilon, self.epsilon)
                    .expect("epsilon >= 0 checked");
                Array4::from_shape_simple_fn(dim, || u.sample(rng))
            }
            Norm::L2 => {
                let mut d = Array4::from_shape_simple_fn(dim, || StandardNormal.sample(rng));
                let per = d.len() / d.shape()[0].max(1);
                let radii: Vec<f32> = (0..d.shape()[0])
                    .map(|_| {
                        self.epsilon
                            * Uniform::new(0.0f32, 1.0)
                                .expect("valid")
                                .sample(rng)
                                .powf(1.0 / per as f32)
                    })
                    .collect();
                let mut i = 0;
                scale_per_image(&mut d, |n| {
                    let r = radii[i];
                    i += 1;
                    if n > 0.0 { r / n } else { 0.0 }
                });
                d
            }
        }
    }

    /// Projects `adv` onto the ball around `x`, then clips into the bounds.
    fn project(&self, adv: &mut Array4<f32>, x: ArrayView4<'_, f32>) {
        let mut delta = &*adv - &x;
        match self.norm {
            Norm::LInf => delta.mapv_inplace(|v| v.clamp(-self.epsilon, self.epsilon)),
            Norm::L2 => scale_per_image(&mut delta, |n| {
                if n > self.epsilon {
                    self.epsilon / n
                } else {
                    1.0
                }
            }),
        }
        *adv = &x + &delta;
        self.bounds.clip(adv);
    }
}

/// Multiplies each image of `a` by `factor(its L2 norm)`.
fn scale_per_image(a: &mut Array4<f32>, mut factor: impl FnMut(f32) -> f32) {
    for mut img in a.axis_iter_mut(Axis(0)) {
        let n = img.iter().map(|v| v * v).sum::<f32>().sqrt();
        let f = factor(n);
        img.mapv_inplace(|v| v * f);
    }
}
