//! Perturbations, adversarial attacks and domain adaptation for
//! radio-galaxy classifiers (after Ciprijanović et al. 2022,
//! "DeepAdversaries").
//!
//! - [`Perturbation`]s of raw images (0 … 255, sky 0), seeded and clipped
//!   to valid pixel values: [`Poisson`] noise at a counts scale,
//!   [`GaussianSnr`] noise at a peak signal-to-noise ratio, [`PsfBlur`] by
//!   a Gaussian beam, random [`Shift`]s and [`Rotation`]s.
//! - Attacks on the model's inputs through the workspace's [`Classifier`]
//!   (probabilities per draw) and [`GradientClassifier`] (the loss
//!   gradient with respect to the input):
//!   [`attack::Fgsm`], [`attack::Pgd`] (L-inf and L2, random start), both
//!   averaging gradients over weight draws for Bayesian models (EOT), and
//!   the black-box [`attack::OnePixel`] by differential evolution.
//! - [`Mmd`]: multi-kernel Gaussian MMD² between latent features, a
//!   differentiable loss; [`MmdStep`] (domain adaptation with unlabelled
//!   target images) and [`AdversarialStep`] (PGD examples in every batch)
//!   wrap a model's own training step; [`latent_distance`] measures how far
//!   a perturbation moves an image in the penultimate layer.
//!
//! Every model of the workspace is a [`GradientClassifier`] through
//! [`ModuleClassifier`].
//!
//! ```
//! use fanaroff_perturb::{GaussianSnr, Perturbation, perturb_batch};
//! use ndarray::Array4;
//! let images = Array4::<f32>::from_elem((2, 1, 8, 8), 100.0);
//! let noisy = perturb_batch(&GaussianSnr::new(5.0)?, images.view(), 7)?;
//! assert_eq!(noisy, perturb_batch(&GaussianSnr::new(5.0)?, images.view(), 7)?); // seeded
//! assert!(noisy.iter().all(|v| (0.0..=255.0).contains(v)));               // clipped
//! # Ok::<(), fanaroff_perturb::Error>(())
//! ```
#![deny(missing_docs)]

pub mod attack;
mod blur;
mod classifier;
mod error;
mod flip_distance;
mod geometry;
mod mmd;
mod noise;
mod perturbation;
mod steps;
mod study;

pub use blur::PsfBlur;
pub use classifier::{
    Classifier, GradientClassifier, ModuleClassifier, expected_gradient, mean_probabilities,
};
pub use error::{Error, Result};
pub use flip_distance::{FlipDistance, flip_distance};
pub use geometry::{Rotation, Shift};
pub use mmd::{Bandwidth, DEFAULT_SIGMAS, Mmd};
pub use noise::{GaussianSnr, Poisson};
pub use perturbation::{Perturbation, example_seed, perturb_batch};
pub use steps::{AdversarialStep, MmdStep, latent, latent_distance};
pub use study::{RobustnessRow, RobustnessStudy};

// The README's examples, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
