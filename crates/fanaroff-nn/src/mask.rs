//! Masks: optional 0/1 tensors over weights, applied in the forward pass.

use crate::error::{Result, input};
use fanaroff_tensor::Tensor;
use ndarray::ArrayD;

/// The mask slot of one weight tensor: empty (every weight used) or a 0/1
/// array of the weight's shape. A layer multiplies its weight by the mask in
/// every forward pass, so a masked weight is exactly zero in every output
/// and receives a zero gradient; the training loop also zeroes the stored
/// value after each optimiser step ([`Module::enforce_masks`](crate::Module::enforce_masks)).
/// Masks are saved and loaded with the model as `<layer>.weight_mask`.
///
/// # Example
/// ```
/// use fanaroff_nn::Mask;
/// use ndarray::{ArrayD, IxDyn};
/// let mut m = Mask::new(&[2, 2]);
/// assert!(m.get().is_none());
/// m.set(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1., 0., 1., 1.]).unwrap()).unwrap();
/// assert_eq!(m.kept(), 3);
/// assert!(m.set(ArrayD::zeros(IxDyn(&[3]))).is_err()); // wrong shape
/// # Ok::<(), fanaroff_nn::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Mask {
    shape: Vec<usize>,
    keep: Option<Tensor>,
}

impl Mask {
    /// An empty slot for a weight of this shape.
    pub fn new(shape: &[usize]) -> Self {
        Mask {
            shape: shape.to_vec(),
            keep: None,
        }
    }

    /// The shape of the weight this slot covers.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The 0/1 mask, if one is set.
    pub fn get(&self) -> Option<&ArrayD<f32>> {
        self.keep.as_ref().map(|t| t.data())
    }

    /// Sets the mask (1 = keep, 0 = pruned).
    ///
    /// # Errors
    /// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for another shape
    /// or a value other than 0 and 1.
    pub fn set(&mut self, keep: ArrayD<f32>) -> Result<()> {
        if keep.shape() != self.shape.as_slice() {
            return Err(input(
                "Mask::set",
                format!("mask {:?} for a weight {:?}", keep.shape(), self.shape),
            ));
        }
        if keep.iter().any(|&v| v != 0.0 && v != 1.0) {
            return Err(input("Mask::set", "mask values must be 0 or 1"));
        }
        self.keep = Some(Tensor::new(keep));
        Ok(())
    }

    /// Removes the mask (every weight used again).
    pub fn clear(&mut self) {
        self.keep = None;
    }

    /// Number of kept weights (all of them without a mask).
    pub fn kept(&self) -> usize {
        match self.get() {
            Some(k) => k.iter().filter(|&&v| v != 0.0).count(),
            None => self.shape.iter().product(),
        }
    }

    /// `w * mask` (a graph node, so gradients are masked too), or `w` itself.
    ///
    /// # Errors
    /// Tensor errors when `w` has another shape.
    pub fn apply(&self, w: &Tensor) -> Result<Tensor> {
        Ok(match &self.keep {
            Some(k) => w.mul(k)?,
            None => w.clone(),
        })
    }

    /// Zeroes the masked entries of a stored parameter in place.
    pub fn zero_masked(&self, param: &mut Tensor) {
        if let (Some(k), Ok(d)) = (self.get(), param.data_mut())
            && d.shape() == k.shape()
        {
            ndarray::Zip::from(d).and(k).for_each(|v, &m| {
                if m == 0.0 {
                    *v = 0.0;
                }
            });
        }
    }
}
