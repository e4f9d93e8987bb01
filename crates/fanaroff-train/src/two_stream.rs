//! A labelled source and an unlabelled target in one minibatch (domain adaptation).

use crate::error::{Result, input};
use crate::loader::{Batch, Loader, mix_seed};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::index::sample;

/// Batches of the labelled `source` with, in [`Batch::target`], as many
/// examples of the `target` set drawn without replacement (seeded by the
/// batch seed; with replacement across batches). The target's labels are
/// never used. The epoch length is the source's.
///
/// # Example
/// ```
/// use fanaroff_train::{ArrayLoader, Loader, TwoStream};
/// use ndarray::{ArrayD, IxDyn};
/// let src = ArrayLoader::new(ArrayD::<f32>::zeros(IxDyn(&[6, 2])), vec![0, 1, 0, 1, 0, 1], 2)?;
/// let tgt = ArrayLoader::new(ArrayD::<f32>::ones(IxDyn(&[10, 2])), vec![0; 10], 2)?;
/// let both = TwoStream::new(src, tgt)?;
/// let b = both.batch(&[0, 1, 2], 7, true)?;
/// assert_eq!(b.target.unwrap().shape(), &[3, 2]);
/// # Ok::<(), fanaroff_train::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TwoStream<S, T> {
    source: S,
    target: T,
}

impl<S: Loader, T: Loader> TwoStream<S, T> {
    /// Pairs a labelled source with an unlabelled target.
    ///
    /// # Errors
    /// [`InvalidInput`](fanaroff_core::Error::InvalidInput) when the example
    /// shapes differ.
    pub fn new(source: S, target: T) -> Result<Self> {
        if source.example_shape() != target.example_shape() {
            return Err(input(
                "TwoStream",
                format!(
                    "source examples {:?} and target examples {:?} differ",
                    source.example_shape(),
                    target.example_shape()
                ),
            ));
        }
        Ok(TwoStream { source, target })
    }
}

impl<S: Loader, T: Loader> Loader for TwoStream<S, T> {
    fn len(&self) -> usize {
        self.source.len()
    }
    fn num_classes(&self) -> usize {
        self.source.num_classes()
    }
    fn example_shape(&self) -> Vec<usize> {
        self.source.example_shape()
    }
    fn label(&self, i: usize) -> usize {
        self.source.label(i)
    }
    fn batch(&self, indices: &[usize], seed: u64, augment: bool) -> Result<Batch> {
        let mut b = self.source.batch(indices, seed, augment)?;
        let m = self.target.len();
        let k = indices.len().min(m);
        let mut rng = StdRng::seed_from_u64(mix_seed(seed, 0x7461_7267_6574));
        let picked = sample(&mut rng, m, k).into_vec();
        let t = self.target.batch(&picked, mix_seed(seed, 1), augment)?;
        b.target = Some(t.inputs);
        Ok(b)
    }
}
