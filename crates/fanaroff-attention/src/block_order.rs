//! The order of the layers inside one backbone unit.

use fanaroff_nn::{Activation, BatchNorm2d, Module, Result, Sequential};
use serde::{Deserialize, Serialize};

/// Where batch norm sits in each 3x3 unit of the backbone.
///
/// The order decides what the gates see. With `ConvBnRelu` a gated map is
/// a ReLU output, non-negative everywhere, so summing `alpha * x` over a
/// 150 x 150 map gives features of the order of the area when `alpha` is
/// not a softmax (range, sigmoid), and the classifier starts saturated.
/// With `ConvReluBn`, the order of the Bowles et al. study code
/// (`mb010/AstroAttention`, `AGRadGalNet`: conv, ReLU, then batch norm), a
/// gated map is a batch-norm output with zero mean per channel over the
/// batch, and those sums are far smaller.
///
/// ```
/// use fanaroff_attention::{AttentionNetConfig, BlockOrder};
/// use fanaroff_nn::{ModuleExt, models::PlainLayers};
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let study = AttentionNetConfig { block_order: BlockOrder::ConvReluBn, ..Default::default() };
/// let net = study.build(&mut PlainLayers::new(&mut rng)).unwrap();
/// // the same parameters as the default order
/// assert_eq!(net.num_parameters(), 101_429);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockOrder {
    /// Convolution, batch norm, ReLU (the usual order; our default).
    #[default]
    ConvBnRelu,
    /// Convolution, ReLU, batch norm (the study code's order).
    ConvReluBn,
}

impl BlockOrder {
    /// Appends unit `i` (`c{i}`, `bn{i}`, `relu{i}`, in this order's
    /// sequence) to `s`; the parameter names do not depend on the order.
    pub(crate) fn push_unit(
        self,
        s: Sequential,
        i: usize,
        conv: Box<dyn Module>,
        width: usize,
    ) -> Result<Sequential> {
        let s = s.push_boxed(&format!("c{i}"), conv);
        let bn = BatchNorm2d::new(width)?;
        Ok(match self {
            BlockOrder::ConvBnRelu => s
                .push(&format!("bn{i}"), bn)
                .push(&format!("relu{i}"), Activation::Relu),
            BlockOrder::ConvReluBn => s
                .push(&format!("relu{i}"), Activation::Relu)
                .push(&format!("bn{i}"), bn),
        })
    }
}
