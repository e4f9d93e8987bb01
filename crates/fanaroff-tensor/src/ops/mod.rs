//! The differentiable operations, one family per file; each op's forward and
//! backward sit side by side.

mod batchnorm;
pub(crate) mod binary;
mod conv;
mod gate;
mod matmul;
mod matmul_t;
mod pool;
mod pool_simd;
mod reduce;
mod resize;
mod select;
mod shape;
mod softmax;
mod unary;

pub use binary::broadcast_shape;
