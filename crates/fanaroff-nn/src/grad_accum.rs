//! Summing gradients over several backward passes.

use fanaroff_tensor::Gradients;

/// Sums gradients over micro-batches (or Monte Carlo samples) before one
/// optimiser step. [`zero_grad`](GradAccumulator::zero_grad) starts over.
///
/// # Example
/// ```
/// use fanaroff_nn::GradAccumulator;
/// use fanaroff_tensor::Tensor;
/// let w = Tensor::ones(&[2]).requires_grad(true);
/// let mut acc = GradAccumulator::default();
/// for _ in 0..3 {
///     acc.add(w.sum().backward().unwrap());
/// }
/// assert_eq!(acc.grads().get(&w).unwrap().as_slice().unwrap(), &[3.0, 3.0]);
/// acc.zero_grad();
/// assert!(acc.grads().is_empty());
/// ```
#[derive(Debug, Default, Clone)]
pub struct GradAccumulator {
    sum: Gradients,
    passes: usize,
}

impl GradAccumulator {
    /// Adds the gradients of one backward pass.
    pub fn add(&mut self, g: Gradients) {
        self.sum.accumulate(g);
        self.passes += 1;
    }

    /// The sum so far.
    pub fn grads(&self) -> &Gradients {
        &self.sum
    }

    /// Number of passes added since the last reset.
    pub fn passes(&self) -> usize {
        self.passes
    }

    /// Forgets everything accumulated.
    pub fn zero_grad(&mut self) {
        self.sum = Gradients::default();
        self.passes = 0;
    }
}
