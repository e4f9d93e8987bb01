//! # fanaroff-core
//!
//! What the crates of the fanaroff workspace share, defined once: the
//! SplitMix64 seed mixer ([`seed`]), mean and sample standard deviation
//! ([`stats`]) and the error shapes every crate's `Error` holds, with
//! the variants they share declared once in [`Error`] ([`error`]). It
//! depends only on `thiserror`.

#![deny(missing_docs)]

pub mod error;
pub mod seed;
pub mod stats;

pub use error::{Error, Invalid, IoError, config, input, io};
pub use seed::{GOLDEN_GAMMA, SplitMix64, mix64};
pub use stats::{MeanStd, mean_std};

// The README's examples, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
