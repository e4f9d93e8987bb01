//! The loader trait: how the loop gets minibatches from any data set.

use crate::error::Result;
use fanaroff_tensor::Tensor;

/// One minibatch, ready for a model.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Inputs `[B, ...]`, augmented and scaled.
    pub inputs: Tensor,
    /// Labels `[B]`.
    pub labels: Vec<usize>,
    /// Positions of the examples in the data set.
    pub indices: Vec<usize>,
    /// Unlabelled target-domain inputs (two-stream loaders), `[B', ...]`.
    pub target: Option<Tensor>,
}

/// A labelled data set the loop can draw minibatches from.
///
/// The loop owns the order (it shuffles the indices by seed) and asks for
/// one batch at a time; a loader prepares the examples at the given indices
/// (in parallel where it pays), applying its training augmentation when
/// `augment` is true with randomness drawn from `seed` only, so the result
/// depends on the seed and never on the thread count.
pub trait Loader: Send + Sync {
    /// Number of examples.
    fn len(&self) -> usize;

    /// Whether the set is empty (loaders reject empty sets on construction).
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of classes (labels are `0..num_classes`).
    fn num_classes(&self) -> usize;

    /// Shape of one input example after preparation, e.g. `[1, 150, 150]`.
    fn example_shape(&self) -> Vec<usize>;

    /// The examples at `indices`, augmented (when `augment`) with
    /// randomness from `seed`, scaled.
    ///
    /// # Errors
    /// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for an index out of
    /// range or an empty index list.
    fn batch(&self, indices: &[usize], seed: u64, augment: bool) -> Result<Batch>;

    /// The label of example `i` (for stratification and checks).
    fn label(&self, i: usize) -> usize;
}

/// SplitMix64 of `a` combined with `b`: well-separated seeds from pairs
/// (epoch seeds, per-draw and per-example seeds); the finaliser
/// [`fanaroff_core::mix64`] of `a ^ (b * GOLDEN_GAMMA + 0x632B_E59B_D9B4_E019)`.
pub fn mix_seed(a: u64, b: u64) -> u64 {
    fanaroff_core::mix64(
        a ^ b
            .wrapping_mul(fanaroff_core::GOLDEN_GAMMA)
            .wrapping_add(0x632B_E59B_D9B4_E019),
    )
}
