//! Where each parameter of a linear last layer sits in the flat parameter
//! vector: the weight `[M, D]` row by row, then the bias `[M]` (the order
//! of PyTorch's `parameters_to_vector` for `nn.Linear`).

use ndarray::{Array1, Array2, ArrayView2};

/// The last layer's weight `[outputs, inputs]` and optional bias
/// `[outputs]`, at the trained (MAP) values.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearHead {
    /// `[M, D]`.
    pub weight: Array2<f64>,
    /// `[M]`, if the layer has one.
    pub bias: Option<Array1<f64>>,
}

impl LinearHead {
    /// The sizes and parameter order.
    pub fn layout(&self) -> Layout {
        Layout {
            outputs: self.weight.nrows(),
            inputs: self.weight.ncols(),
            bias: self.bias.is_some(),
        }
    }

    /// The parameters as one vector (weight row by row, then bias).
    pub fn to_vector(&self) -> Array1<f64> {
        let mut v: Vec<f64> = self.weight.iter().copied().collect();
        if let Some(b) = &self.bias {
            v.extend(b.iter());
        }
        Array1::from(v)
    }

    /// The outputs `[N, M]` for features `[N, D]`.
    pub fn logits(&self, features: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut f = features.dot(&self.weight.t());
        if let Some(b) = &self.bias {
            f += b;
        }
        f
    }
}

/// Sizes of a linear last layer and the index of each parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// M: outputs (logits).
    pub outputs: usize,
    /// D: input features.
    pub inputs: usize,
    /// Whether there is a bias.
    pub bias: bool,
}

impl Layout {
    /// Number of parameters: M D (+ M).
    pub fn n_params(&self) -> usize {
        self.outputs * self.inputs + if self.bias { self.outputs } else { 0 }
    }

    /// Columns of the augmented features: D, plus a constant 1 for the bias.
    pub fn augmented(&self) -> usize {
        self.inputs + usize::from(self.bias)
    }

    /// Index of the parameter for output `k` and augmented input `d`
    /// (`d == inputs` is the bias).
    pub fn index(&self, k: usize, d: usize) -> usize {
        if d < self.inputs {
            k * self.inputs + d
        } else {
            self.outputs * self.inputs + k
        }
    }

    /// Features `[N, D]` with a column of ones appended for the bias.
    pub(crate) fn augment_all(&self, phi: ArrayView2<'_, f64>) -> Array2<f64> {
        let (n, d) = phi.dim();
        Array2::from_shape_fn(
            (n, self.augmented()),
            |(i, j)| if j < d { phi[[i, j]] } else { 1.0 },
        )
    }
}
