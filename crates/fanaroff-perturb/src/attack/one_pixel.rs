//! The one-pixel attack (Su et al. 2019) by differential evolution: a
//! black-box attack that needs only the model's probabilities.

use super::Bounds;
use crate::classifier::{Classifier, mean_probabilities};
use crate::error::{Error, Result, check_images, config, input};
use ndarray::{Array3, Array4, ArrayView3, Axis};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

/// When an attack has succeeded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// The true class's probability falls below `threshold` (the paper:
    /// 0.05).
    Untargeted {
        /// Probability of the true class to get under.
        threshold: f32,
    },
    /// The predicted class is no longer the true one.
    LabelFlip,
    /// The probability of class `class` exceeds `threshold` (the paper:
    /// 0.5).
    Targeted {
        /// The class to reach.
        class: usize,
        /// Probability to exceed.
        threshold: f32,
    },
}

impl Goal {
    /// The paper's untargeted rule: true-class probability below 0.05.
    pub const PAPER_UNTARGETED: Goal = Goal::Untargeted { threshold: 0.05 };

    /// Fitness to minimise for probabilities `p` of an image of class `label`.
    fn fitness(&self, p: &[f32], label: usize) -> f32 {
        match *self {
            Goal::Untargeted { .. } | Goal::LabelFlip => p[label],
            Goal::Targeted { class, .. } => -p[class],
        }
    }

    /// Whether `p` meets the goal.
    pub fn reached(&self, p: &[f32], label: usize) -> bool {
        match *self {
            Goal::Untargeted { threshold } => p[label] < threshold,
            Goal::LabelFlip => argmax(p) != label,
            Goal::Targeted { class, threshold } => p[class] > threshold,
        }
    }
}

fn argmax(p: &[f32]) -> usize {
    (0..p.len()).fold(0, |b, i| if p[i] > p[b] { i } else { b })
}

/// Differential evolution over `(row, col, value)` for `pixels` pixels:
/// `population` candidates, at most `iterations` generations, child
/// `a + F (b - c)` from three other random candidates (no crossover, as in
/// Su et al.), kept when its fitness is no worse than its parent's. The
/// search stops as soon as one candidate reaches the goal. Candidates are
/// scored in parallel (rayon), in batches; stochastic models are scored by
/// the mean probabilities of `draws` weight draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OnePixel {
    goal: Goal,
    population: usize,
    iterations: usize,
    f: f32,
    pixels: usize,
    draws: usize,
    bounds: Bounds,
}

/// The outcome of a one-pixel attack on one image.
#[derive(Debug, Clone)]
pub struct OnePixelResult {
    /// Whether the goal was reached.
    pub success: bool,
    /// The best image found `[C, H, W]`.
    pub image: Array3<f32>,
    /// Its changed pixels `(row, col, value)`.
    pub pixels: Vec<(usize, usize, f32)>,
    /// Its probabilities.
    pub probabilities: Vec<f32>,
    /// Generations run.
    pub iterations: usize,
    /// Model evaluations (images scored).
    pub evaluations: usize,
}

impl OnePixel {
    /// The paper's settings: one pixel, population 400, at most 100
    /// generations, F = 0.5; pixel values drawn from `bounds`.
    pub fn new(goal: Goal, bounds: Bounds) -> Self {
        OnePixel {
            goal,
            population: 400,
            iterations: 100,
            f: 0.5,
            pixels: 1,
            draws: 1,
            bounds,
        }
    }

    /// Sets population, generations, F and the number of pixels.
    ///
    /// # Errors
    /// Population below 4, zero generations or pixels, F outside (0, 2].
    pub fn search(
        mut self,
        population: usize,
        iterations: usize,
        f: f32,
        pixels: usize,
    ) -> Result<Self> {
        if population < 4 || iterations == 0 || pixels == 0 || !(f > 0.0 && f <= 2.0) {
            return Err(config(
                "OnePixel",
                format!(
                    "population {population} (>= 4), iterations {iterations} (>= 1), F {f} (0, 2], pixels {pixels} (>= 1)"
                ),
            ));
        }
        (self.population, self.iterations, self.f, self.pixels) =
            (population, iterations, f, pixels);
        Ok(self)
    }

    /// Scores candidates by the mean of `draws` weight draws.
    ///
    /// # Errors
    /// `draws == 0`.
    pub fn draws(mut self, draws: usize) -> Result<Self> {
        if draws == 0 {
            return Err(config("OnePixel", "draws must be >= 1"));
        }
        self.draws = draws;
        Ok(self)
    }

    /// Attacks one image `[C, H, W]` of class `label`.
    ///
    /// # Errors
    /// Invalid image or label; model failures.
    pub fn attack<C: Classifier + ?Sized>(
        &self,
        model: &C,
        image: ArrayView3<'_, f32>,
        label: usize,
        seed: u64,
    ) -> Result<OnePixelResult> {
        check_images("OnePixel", &image.insert_axis(Axis(0)))?;
        let (h, w) = (image.shape()[1], image.shape()[2]);
        let mut rng = StdRng::seed_from_u64(seed);
        let mut pop: Vec<Vec<f32>> = (0..self.population)
            .map(|_| self.random_candidate(h, w, &mut rng))
            .collect();
        let mut scores = self.score(model, image, &pop, seed)?;
        check_label(&scores[0], label, self.goal)?;
        let mut evaluations = pop.len();
        let mut fit: Vec<f32> = scores.iter().map(|p| self.goal.fitness(p, label)).collect();
        let mut generation = 0;
        while generation < self.iterations && !scores.iter().any(|p| self.goal.reached(p, label)) {
            let children: Vec<Vec<f32>> = (0..pop.len())
                .map(|i| self.mutate(&pop, i, h, w, &mut rng))
                .collect();
            let child_scores = self.score(model, image, &children, seed)?;
            evaluations += children.len();
            for (i, (c, p)) in children.into_iter().zip(child_scores).enumerate() {
                let cf = self.goal.fitness(&p, label);
                if cf <= fit[i] {
                    (pop[i], scores[i], fit[i]) = (c, p, cf);
                }
            }
            generation += 1;
        }
        let best = (0..pop.len()).fold(0, |b, i| if fit[i] < fit[b] { i } else { b });
        let best = scores
            .iter()
            .position(|p| self.goal.reached(p, label))
            .unwrap_or(best);
        Ok(OnePixelResult {
            success: self.goal.reached(&scores[best], label),
            image: apply(image, &pop[best]),
            pixels: pop[best]
                .chunks(3)
                .map(|c| (c[0] as usize, c[1] as usize, c[2]))
                .collect(),
            probabilities: scores[best].clone(),
            iterations: generation,
            evaluations,
        })
    }

    fn random_candidate(&self, h: usize, w: usize, rng: &mut StdRng) -> Vec<f32> {
        (0..self.pixels)
            .flat_map(|_| {
                [
                    rng.random_range(0..h) as f32,
                    rng.random_range(0..w) as f32,
                    rng.random_range(self.bounds.low()..=self.bounds.high()),
                ]
            })
            .collect()
    }

    /// `a + F (b - c)` from three distinct others, wrapped/clipped to valid values.
    fn mutate(&self, pop: &[Vec<f32>], i: usize, h: usize, w: usize, rng: &mut StdRng) -> Vec<f32> {
        let mut pick = || loop {
            let j = rng.random_range(0..pop.len());
            if j != i {
                return j;
            }
        };
        let (a, b, c) = (pick(), pick(), pick());
        (0..pop[i].len())
            .map(|k| {
                let v = pop[a][k] + self.f * (pop[b][k] - pop[c][k]);
                match k % 3 {
                    0 => v.round().rem_euclid(h as f32),
                    1 => v.round().rem_euclid(w as f32),
                    _ => v.clamp(self.bounds.low(), self.bounds.high()),
                }
            })
            .collect()
    }

    /// Probabilities of every candidate image, in parallel batches of 50.
    fn score<C: Classifier + ?Sized>(
        &self,
        model: &C,
        image: ArrayView3<'_, f32>,
        cands: &[Vec<f32>],
        seed: u64,
    ) -> Result<Vec<Vec<f32>>> {
        let batches: Vec<Result<Vec<Vec<f32>>>> = cands
            .par_chunks(50)
            .map(|chunk| {
                let views: Vec<Array3<f32>> = chunk.iter().map(|c| apply(image, c)).collect();
                let refs: Vec<_> = views.iter().map(|v| v.view()).collect();
                let x: Array4<f32> = ndarray::stack(Axis(0), &refs)
                    .map_err(|e| input::<Error>("OnePixel", e.to_string()))?;
                let p = mean_probabilities(model, x.view(), self.draws, seed)?;
                Ok(p.outer_iter().map(|r| r.to_vec()).collect())
            })
            .collect();
        let mut out = Vec::with_capacity(cands.len());
        for b in batches {
            out.extend(b?);
        }
        Ok(out)
    }
}

fn check_label(p: &[f32], label: usize, goal: Goal) -> Result<()> {
    let target = match goal {
        Goal::Targeted { class, .. } => class,
        _ => 0,
    };
    if label >= p.len() || target >= p.len() {
        return Err(input(
            "OnePixel",
            format!(
                "label {label} or target {target} out of range for {} classes",
                p.len()
            ),
        ));
    }
    Ok(())
}

/// The image with the candidate's pixels set (every channel).
fn apply(image: ArrayView3<'_, f32>, cand: &[f32]) -> Array3<f32> {
    let mut out = image.to_owned();
    for px in cand.chunks(3) {
        let (r, c) = (px[0] as usize, px[1] as usize);
        for ch in 0..out.shape()[0] {
            out[[ch, r, c]] = px[2];
        }
    }
    out
}
