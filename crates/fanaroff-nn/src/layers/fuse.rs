//! Pairs of layers that [`Sequential`](crate::Sequential) runs as one op.
//!
//! A convolution followed by a [`ReluMaxPool2d`] (every LeNet block) runs
//! as [`Tensor::conv2d_relu_max_pool2d`]: the same values and gradients,
//! bit for bit, without the convolution's full-size output and its
//! gradient. The convolution takes part through
//! [`Module::conv_weights`]; a layer that does not offer its weights for
//! this pass runs on its own.

use crate::error::Result;
use crate::layers::ReluMaxPool2d;
use crate::module::Module;
use crate::pass::Pass;
use fanaroff_tensor::Tensor;

/// `pool(conv(x))` as one op when `conv` offers its weights for this pass
/// and `next` is a [`ReluMaxPool2d`]; `None` (and no side effects) when
/// the pair cannot be fused.
pub(crate) fn conv_relu_pool(
    conv: &dyn Module,
    next: &dyn Module,
    x: &Tensor,
    pass: &mut Pass<'_>,
) -> Option<Result<Tensor>> {
    let pool = next.as_any()?.downcast_ref::<ReluMaxPool2d>()?.pool;
    let cw = match conv.conv_weights(pass)? {
        Ok(cw) => cw,
        Err(e) => return Some(Err(e)),
    };
    let (k, s) = ((pool.kernel, pool.kernel), (pool.stride, pool.stride));
    let (b, p) = (cw.bias.as_ref(), (cw.padding, cw.padding));
    let y = if cw.stride == 1 {
        x.conv2d_relu_max_pool2d(&cw.weight, b, p, k, s)
    } else {
        let st = (cw.stride, cw.stride);
        x.conv2d(&cw.weight, b, st, p)
            .and_then(|y| y.relu_max_pool2d(k, s))
    };
    Some(y.map_err(Into::into))
}
