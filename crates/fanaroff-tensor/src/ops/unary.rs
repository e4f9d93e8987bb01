//! Elementwise functions of one tensor, each with its derivative.

use crate::graph::Backward;
use crate::kernels;
use crate::tensor::Tensor;
use ndarray::ArrayD;

/// The elementwise functions. `forward` gives y = f(x); `derivative` gives
/// dy/dx from x and y (whichever is cheaper).
#[derive(Clone, Copy, Debug)]
enum Unary {
    Neg,
    Exp,
    Log,
    Sqrt,
    Abs,
    Square,
    Relu,
    Sigmoid,
    Tanh,
    Softplus,
    LogSigmoid,
    Powf(f32),
    Scale(f32),
    Shift(f32),
}

/// Numerically stable softplus ln(1 + e^x).
fn softplus(x: f32) -> f32 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

impl Unary {
    fn forward(self, x: f32) -> f32 {
        match self {
            Unary::Neg => -x,
            Unary::Exp => x.exp(),
            Unary::Log => x.ln(),
            Unary::Sqrt => x.sqrt(),
            Unary::Abs => x.abs(),
            Unary::Square => x * x,
            Unary::Relu => x.max(0.0),
            Unary::Sigmoid => sigmoid(x),
            Unary::Tanh => x.tanh(),
            Unary::Softplus => softplus(x),
            Unary::LogSigmoid => -softplus(-x),
            Unary::Powf(p) => x.powf(p),
            Unary::Scale(s) => x * s,
            Unary::Shift(s) => x + s,
        }
    }

    fn derivative(self, x: f32, y: f32) -> f32 {
        match self {
            Unary::Neg => -1.0,
            Unary::Exp => y,
            Unary::Log => 1.0 / x,
            Unary::Sqrt => 0.5 / y,
            // sign(x); the subgradient at 0 is taken as 0.
            Unary::Abs => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            Unary::Square => 2.0 * x,
            // derivative at exactly 0 taken as 0, as PyTorch does.
            Unary::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Unary::Sigmoid => y * (1.0 - y),
            Unary::Tanh => 1.0 - y * y,
            Unary::Softplus => sigmoid(x),
            // d/dx -softplus(-x) = sigmoid(-x)
            Unary::LogSigmoid => sigmoid(-x),
            Unary::Powf(p) => p * x.powf(p - 1.0),
            Unary::Scale(s) => s,
            Unary::Shift(_) => 1.0,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Unary::Neg => "neg",
            Unary::Exp => "exp",
            Unary::Log => "log",
            Unary::Sqrt => "sqrt",
            Unary::Abs => "abs",
            Unary::Square => "square",
            Unary::Relu => "relu",
            Unary::Sigmoid => "sigmoid",
            Unary::Tanh => "tanh",
            Unary::Softplus => "softplus",
            Unary::LogSigmoid => "log_sigmoid",
            Unary::Powf(_) => "powf",
            Unary::Scale(_) => "mul_scalar",
            Unary::Shift(_) => "add_scalar",
        }
    }
}

struct UnaryOp(Unary);

impl Backward for UnaryOp {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        output: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let x = parents[0].data().view();
        let (g, y) = (grad.view(), output.view());
        // One monomorphised loop per function, so each vectorises.
        let g = match self.0 {
            Unary::Neg => kernels::map(grad, |g| -g),
            Unary::Scale(s) => kernels::map(grad, move |g| g * s),
            Unary::Shift(_) => kernels::copy(grad),
            Unary::Exp => kernels::zip_map(g, y, |g, y| g * y),
            Unary::Log => kernels::zip_map(g, x, |g, x| g / x),
            Unary::Sqrt => kernels::zip_map(g, y, |g, y| 0.5 * g / y),
            Unary::Square => kernels::zip_map(g, x, |g, x| 2.0 * g * x),
            Unary::Relu => kernels::zip_map(g, y, |g, y| if y > 0.0 { g } else { 0.0 }),
            Unary::Sigmoid => kernels::zip_map(g, y, |g, y| g * y * (1.0 - y)),
            Unary::Tanh => kernels::zip_map(g, y, |g, y| g * (1.0 - y * y)),
            f => kernels::zip3_map(g, x, y, move |g, x, y| g * f.derivative(x, y)),
        };
        vec![Some(g)]
    }
}

fn apply(x: &Tensor, f: Unary) -> Tensor {
    let d = x.data();
    let y = match f {
        Unary::Relu => kernels::map(d, |v| v.max(0.0)),
        Unary::Neg => kernels::map(d, |v| -v),
        Unary::Square => kernels::map(d, |v| v * v),
        Unary::Scale(s) => kernels::map(d, move |v| v * s),
        Unary::Shift(s) => kernels::map(d, move |v| v + s),
        Unary::Exp => kernels::map(d, f32::exp),
        _ => kernels::map(d, move |v| f.forward(v)),
    };
    Tensor::from_op(y, vec![x.clone()], UnaryOp(f))
}

/// Elementwise functions. None of them can fail; out-of-domain inputs give
/// NaN or infinity exactly as `f32` arithmetic does.
impl Tensor {
    /// `-x`.
    pub fn neg(&self) -> Tensor {
        apply(self, Unary::Neg)
    }
    /// `e^x`.
    pub fn exp(&self) -> Tensor {
        apply(self, Unary::Exp)
    }
    /// Natural logarithm.
    pub fn log(&self) -> Tensor {
        apply(self, Unary::Log)
    }
    /// Square root.
    pub fn sqrt(&self) -> Tensor {
        apply(self, Unary::Sqrt)
    }
    /// `|x|`; its gradient at 0 is taken as 0.
    pub fn abs(&self) -> Tensor {
        apply(self, Unary::Abs)
    }
    /// `x^2`.
    pub fn square(&self) -> Tensor {
        apply(self, Unary::Square)
    }
    /// `max(x, 0)`; its gradient at 0 is taken as 0 (as PyTorch).
    pub fn relu(&self) -> Tensor {
        apply(self, Unary::Relu)
    }
    /// `1 / (1 + e^-x)`, computed without overflow.
    pub fn sigmoid(&self) -> Tensor {
        apply(self, Unary::Sigmoid)
    }
    /// Hyperbolic tangent.
    pub fn tanh(&self) -> Tensor {
        apply(self, Unary::Tanh)
    }
    /// `ln(1 + e^x)`, computed without overflow.
    pub fn softplus(&self) -> Tensor {
        apply(self, Unary::Softplus)
    }
    /// `ln sigmoid(x) = -softplus(-x)`, computed without overflow.
    pub fn log_sigmoid(&self) -> Tensor {
        apply(self, Unary::LogSigmoid)
    }
    /// `x^p` for a constant exponent `p`.
    pub fn powf(&self, p: f32) -> Tensor {
        apply(self, Unary::Powf(p))
    }
    /// `x * s` for a constant `s`.
    pub fn mul_scalar(&self, s: f32) -> Tensor {
        apply(self, Unary::Scale(s))
    }
    /// `x + s` for a constant `s`.
    pub fn add_scalar(&self, s: f32) -> Tensor {
        apply(self, Unary::Shift(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_forms_do_not_overflow() {
        assert_eq!(softplus(1000.0), 1000.0);
        assert_eq!(softplus(-1000.0), 0.0);
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
        assert!((Unary::LogSigmoid.forward(-1000.0) + 1000.0).abs() < 1e-3);
    }
}
