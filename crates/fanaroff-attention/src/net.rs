//! The attention-gated network of Bowles et al. 2021, written once against
//! layer factories.

use crate::block_order::BlockOrder;
use crate::gate::{AttentionGate, GateConfig};
use crate::normalise::Normalisation;
use fanaroff_nn::models::LayerFactory;
use fanaroff_nn::{
    Conv2dConfig, Dropout, Error, LinearConfig, MaxPool2d, Module, Pass, Result, Sequential, join,
};
use fanaroff_tensor::Tensor;
use serde::{Deserialize, Serialize};

/// How the gated features become a prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Concatenate the gates' pooled features, one classifier.
    #[default]
    Concat,
    /// A classifier per gate; the prediction is the mean of their logits.
    Mean,
    /// As `Mean`, trained with a loss on every gate's classifier
    /// ([`DeepSupervisionStep`](crate::DeepSupervisionStep)).
    DeepSupervision,
    /// A classifier per gate plus a learnt linear combination of their
    /// logits (train with deep supervision, then the combination alone:
    /// [`AttentionNet::freeze_for_fine_tuning`]). The combination starts as
    /// the mean of the heads, so before its own training the network
    /// predicts (and is validated) as `DeepSupervision` does.
    FineTuned,
    /// The study code's deep supervision (`deep_sup` in Bowles et al.'s
    /// repository): the mean of the gate classifiers' logits and of a
    /// classifier on the concatenated features, trained with one loss on
    /// that mean.
    MeanWithConcat,
    /// The study code's fine-tuned network (`ft` in Bowles et al.'s
    /// repository): a classifier per gate, their logits through a ReLU,
    /// and a linear combination of those (initialised as any linear
    /// layer), all trained in one stage with one loss on the combination's
    /// output. Our [`FineTuned`](Aggregation::FineTuned) trains in two
    /// stages without the ReLU.
    StudyFineTuned,
}

impl Aggregation {
    /// All six: the paper's four in its order, then the study code's
    /// two variants.
    pub const ALL: [Aggregation; 6] = [
        Aggregation::Concat,
        Aggregation::Mean,
        Aggregation::DeepSupervision,
        Aggregation::FineTuned,
        Aggregation::MeanWithConcat,
        Aggregation::StudyFineTuned,
    ];

    /// Short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Aggregation::Concat => "concat",
            Aggregation::Mean => "mean",
            Aggregation::DeepSupervision => "deep_supervision",
            Aggregation::FineTuned => "fine_tuned",
            Aggregation::MeanWithConcat => "mean_with_concat",
            Aggregation::StudyFineTuned => "study_fine_tuned",
        }
    }

    /// Whether the heads' logits pass through a ReLU before the
    /// combination layer (the study code's fine-tuned network).
    pub fn relu_on_heads(self) -> bool {
        self == Aggregation::StudyFineTuned
    }
}

/// Settings of the [`AttentionNet`] (defaults: the paper's network for
/// 1 x 150 x 150 images, about 101k parameters).
///
/// | field | default | meaning |
/// |---|---|---|
/// | `in_channels` | 1 | image channels |
/// | `classes` | 2 | outputs |
/// | `blocks` | `[[6,6,6],[16,16,16],[32,32,32],[64,64]]` | conv widths per block (3x3, pad 1); 2x2 max pool after every block but the last |
/// | `block_order` | `conv_bn_relu` | order inside each 3x3 unit ([`BlockOrder`]; `conv_relu_bn` is the study code's) |
/// | `inter_channels` | 64 | channels inside each gate |
/// | `normalisation` | softmax | of every gate |
/// | `aggregation` | concat | see [`Aggregation`] |
/// | `dropout` | 0.5 | before the classifiers (the factory's own dropout, e.g. MC dropout, replaces it) |
/// | `gate_bias` | false | biases on theta and phi (needed by variational gates) |
/// | `psi_bias` | 10 | initial bias of psi (saturates a sigmoid gate at first) |
///
/// Gates act on the last feature map of every block but the last (the
/// paper: blocks 1-3 at 150, 75 and 37 pixels), gated by the last block's
/// output (64 channels at 18 x 18).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttentionNetConfig {
    /// Image channels.
    pub in_channels: usize,
    /// Number of classes.
    pub classes: usize,
    /// Conv widths per block.
    pub blocks: Vec<Vec<usize>>,
    /// Channels inside each gate.
    pub inter_channels: usize,
    /// Normalisation of every gate.
    pub normalisation: Normalisation,
    /// How gate outputs become a prediction.
    pub aggregation: Aggregation,
    /// Dropout probability before the classifiers.
    pub dropout: f32,
    /// Biases on theta and phi.
    pub gate_bias: bool,
    /// Initial bias of every gate's psi.
    pub psi_bias: f32,
    /// Order of conv, batch norm and ReLU in each backbone unit.
    pub block_order: BlockOrder,
}

impl Default for AttentionNetConfig {
    fn default() -> Self {
        AttentionNetConfig {
            in_channels: 1,
            classes: 2,
            blocks: vec![
                vec![6, 6, 6],
                vec![16, 16, 16],
                vec![32, 32, 32],
                vec![64, 64],
            ],
            inter_channels: 64,
            normalisation: Normalisation::Softmax,
            aggregation: Aggregation::Concat,
            dropout: 0.5,
            gate_bias: false,
            psi_bias: 10.0,
            block_order: BlockOrder::default(),
        }
    }
}

/// Everything one forward pass computes.
#[derive(Debug, Clone)]
pub struct AttentionOutput {
    /// The aggregated prediction `[N, classes]`.
    pub logits: Tensor,
    /// Each gate's own classifier output (empty for `Concat`), then for
    /// `MeanWithConcat` the concatenation classifier's.
    pub head_logits: Vec<Tensor>,
    /// Each gate's attention map `[N, 1, H_k, W_k]` at its block's
    /// resolution, gate 1 (finest) first.
    pub maps: Vec<Tensor>,
}

/// The attention-gated CNN. Parameter names: `block{b}.{i}` (conv `c{i}`,
/// batch norm `bn{i}`), `gate{k}.{theta,phi,psi}`, `classifier` or
/// `head{k}`, `combine`.
pub struct AttentionNet {
    pub(crate) cfg: AttentionNetConfig,
    pub(crate) blocks: Vec<Sequential>,
    pub(crate) pool: MaxPool2d,
    pub(crate) gates: Vec<AttentionGate>,
    dropout: Box<dyn Module>,
    pub(crate) heads: Vec<Box<dyn Module>>,
    pub(crate) combine: Option<Box<dyn Module>>,
}

/// Factories for the three parts of the network, so that e.g. only the
/// gates are variational.
pub struct Parts<'a, B, G, H> {
    /// Convolutions of the backbone.
    pub backbone: &'a mut B,
    /// The gates' 1x1 convolutions.
    pub gates: &'a mut G,
    /// The classifiers (and the dropout before them).
    pub head: &'a mut H,
}

impl AttentionNetConfig {
    /// Validates the sizes.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for fewer than
    /// two blocks, an empty block, zero widths or classes, or dropout outside
    /// [0, 1).
    pub fn check(&self) -> Result<()> {
        let bad = |msg: &str| Err(fanaroff_core::config("AttentionNetConfig", msg));
        if self.blocks.len() < 2 || self.blocks.iter().any(|b| b.is_empty() || b.contains(&0)) {
            return bad("need at least two blocks of positive widths");
        }
        if self.in_channels == 0 || self.classes < 2 || self.inter_channels == 0 {
            return bad("channels, classes (>= 2) and inter_channels must be positive");
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad("dropout must be in [0, 1)");
        }
        Ok(())
    }

    /// Builds the network with every layer from one factory.
    ///
    /// # Errors
    /// As [`check`](Self::check), and the factory's errors.
    pub fn build<F: LayerFactory>(&self, f: &mut F) -> Result<AttentionNet>
    where
        Error: From<F::Error>,
    {
        self.check()?;
        let blocks = self.backbone(f)?;
        let gates = self.gates(f)?;
        let (dropout, heads, combine) = self.classifiers(f)?;
        self.assemble(blocks, gates, dropout, heads, combine)
    }

    /// Builds the network with a factory per part.
    ///
    /// # Errors
    /// As [`check`](Self::check), and the factories' errors.
    pub fn build_parts<B, G, H>(&self, parts: Parts<'_, B, G, H>) -> Result<AttentionNet>
    where
        B: LayerFactory,
        G: LayerFactory,
        H: LayerFactory,
        Error: From<B::Error> + From<G::Error> + From<H::Error>,
    {
        self.check()?;
        let blocks = self.backbone(parts.backbone)?;
        let gates = self.gates(parts.gates)?;
        let (dropout, heads, combine) = self.classifiers(parts.head)?;
        self.assemble(blocks, gates, dropout, heads, combine)
    }

    fn assemble(
        &self,
        blocks: Vec<Sequential>,
        gates: Vec<AttentionGate>,
        dropout: Box<dyn Module>,
        heads: Vec<Box<dyn Module>>,
        combine: Option<Box<dyn Module>>,
    ) -> Result<AttentionNet> {
        Ok(AttentionNet {
            cfg: self.clone(),
            blocks,
            pool: MaxPool2d::new(2, 2)?,
            gates,
            dropout,
            heads,
            combine,
        })
    }

    /// Channels of the gated feature maps (last width of every block but
    /// the last).
    fn gated_channels(&self) -> Vec<usize> {
        self.blocks[..self.blocks.len() - 1]
            .iter()
            .map(|b| *b.last().expect("checked"))
            .collect()
    }

    fn gates<G: LayerFactory>(&self, f: &mut G) -> Result<Vec<AttentionGate>>
    where
        Error: From<G::Error>,
    {
        let g_ch = *self.blocks.last().and_then(|b| b.last()).expect("checked");
        let mut gates = Vec::new();
        for c in self.gated_channels() {
            let gc = GateConfig {
                gating_channels: g_ch,
                inter_channels: self.inter_channels,
                normalisation: self.normalisation,
                bias: self.gate_bias,
                psi_bias: self.psi_bias,
                ..GateConfig::new(c)
            };
            gates.push(AttentionGate::build(&gc, f)?);
        }
        Ok(gates)
    }

    fn backbone<B: LayerFactory>(&self, f: &mut B) -> Result<Vec<Sequential>>
    where
        Error: From<B::Error>,
    {
        let mut c_in = self.in_channels;
        let mut blocks = Vec::new();
        for widths in &self.blocks {
            let mut s = Sequential::new();
            for (i, &w) in widths.iter().enumerate() {
                let conv = f.conv2d(Conv2dConfig::new(c_in, w, 3).padding(1))?;
                s = self.block_order.push_unit(s, i, conv, w)?;
                c_in = w;
            }
            blocks.push(s);
        }
        Ok(blocks)
    }

    #[allow(clippy::type_complexity)]
    fn classifiers<H: LayerFactory>(
        &self,
        f: &mut H,
    ) -> Result<(
        Box<dyn Module>,
        Vec<Box<dyn Module>>,
        Option<Box<dyn Module>>,
    )>
    where
        Error: From<H::Error>,
    {
        let dropout = match f.before_linear()? {
            Some(d) => d,
            None => Box::new(Dropout::new(self.dropout)?) as Box<dyn Module>,
        };
        let k = self.classes;
        let gated = self.gated_channels();
        let all: usize = gated.iter().sum();
        let mut heads = match self.aggregation {
            Aggregation::Concat => vec![f.linear(LinearConfig::new(all, k))?],
            _ => gated
                .iter()
                .map(|&c| f.linear(LinearConfig::new(c, k)))
                .collect::<std::result::Result<_, _>>()?,
        };
        if self.aggregation == Aggregation::MeanWithConcat {
            heads.push(f.linear(LinearConfig::new(all, k))?);
        }
        let combine = match self.aggregation {
            Aggregation::FineTuned => {
                let mut c = f.linear(LinearConfig::new(gated.len() * k, k))?;
                crate::combine::start_as_mean(&mut *c, gated.len(), k)?;
                Some(c)
            }
            Aggregation::StudyFineTuned => Some(f.linear(LinearConfig::new(gated.len() * k, k))?),
            _ => None,
        };
        Ok((dropout, heads, combine))
    }
}

impl AttentionNet {
    /// The settings.
    pub fn config(&self) -> &AttentionNetConfig {
        &self.cfg
    }

    /// Number of gates.
    pub fn num_gates(&self) -> usize {
        self.gates.len()
    }

    /// The layer names of gated block `k` (0: the finest), for
    /// [`conditional_relevance_gated`](crate::conditional_relevance_gated);
    /// `None` past the last gated block.
    pub fn block_layers(&self, k: usize) -> Option<Vec<String>> {
        (k < self.gates.len()).then(|| {
            self.blocks[k]
                .names()
                .iter()
                .map(|s| s.to_string())
                .collect()
        })
    }

    /// Logits, every head's logits and every attention map. Taps each map
    /// as [`attention_tap`]`(k)` and, with the `concat` aggregation, the
    /// classifier's input as [`PENULTIMATE`](fanaroff_nn::PENULTIMATE),
    /// when the pass asks for them.
    ///
    /// # Errors
    /// Shape errors (the input must be `[N, in_channels, H, W]` with H and W
    /// large enough for the pooling).
    pub fn forward_all(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<AttentionOutput> {
        let (pooled, maps) = self.gated_features(x, pass)?;
        for (k, m) in maps.iter().enumerate() {
            pass.tap(&attention_tap(k), m);
        }
        let concat = self.cfg.aggregation == Aggregation::Concat;
        if concat && pass.wants(fanaroff_nn::PENULTIMATE) {
            pass.tap(fanaroff_nn::PENULTIMATE, &Tensor::concat(&pooled, 1)?);
        }
        let (logits, head_logits) = self.aggregate(&pooled, pass)?;
        Ok(AttentionOutput {
            logits,
            head_logits,
            maps,
        })
    }

    /// Each gate's pooled gated features `[N, C_k]` after the dropout
    /// before the classifiers, and each gate's attention map.
    fn gated_features(
        &self,
        x: &Tensor,
        pass: &mut Pass<'_>,
    ) -> Result<(Vec<Tensor>, Vec<Tensor>)> {
        let s = x.shape();
        if s.len() != 4 || s[1] != self.cfg.in_channels || s[0] == 0 {
            return Err(fanaroff_core::input(
                "AttentionNet",
                format!("input {s:?}; need [N > 0, {}, H, W]", self.cfg.in_channels),
            ));
        }
        let mut h = x.clone();
        let mut features = Vec::new();
        for (i, block) in self.blocks.iter().enumerate() {
            h = block.forward(&h, pass)?;
            if i + 1 < self.blocks.len() {
                features.push(h.clone());
                h = self.pool.forward(&h, pass)?;
            }
        }
        let mut pooled = Vec::new();
        let mut maps = Vec::new();
        for (gate, f) in self.gates.iter().zip(&features) {
            let (gated, alpha) = gate.gate(f, &h, pass)?;
            pooled.push(
                self.dropout
                    .forward(&gated.sum_axes(&[2, 3], false)?, pass)?,
            );
            maps.push(alpha);
        }
        Ok((pooled, maps))
    }

    /// Logits and head logits from each gate's pooled features (dropout
    /// as the network's mode has it).
    pub(crate) fn aggregate_logits(
        &self,
        pooled: &[Tensor],
        pass: &mut Pass<'_>,
    ) -> Result<(Tensor, Vec<Tensor>)> {
        let dropped: Vec<Tensor> = pooled
            .iter()
            .map(|p| self.dropout.forward(p, pass))
            .collect::<Result<_>>()?;
        self.aggregate(&dropped, pass)
    }

    fn aggregate(&self, pooled: &[Tensor], pass: &mut Pass<'_>) -> Result<(Tensor, Vec<Tensor>)> {
        if self.cfg.aggregation == Aggregation::Concat {
            let v = Tensor::concat(pooled, 1)?;
            return Ok((self.heads[0].forward(&v, pass)?, Vec::new()));
        }
        let mut heads: Vec<Tensor> = self
            .heads
            .iter()
            .zip(pooled)
            .map(|(h, p)| h.forward(p, pass))
            .collect::<Result<_>>()?;
        if self.cfg.aggregation == Aggregation::MeanWithConcat {
            let v = Tensor::concat(pooled, 1)?;
            heads.push(self.heads[pooled.len()].forward(&v, pass)?);
        }
        let logits = match &self.combine {
            Some(c) if self.cfg.aggregation.relu_on_heads() => {
                let rectified: Vec<Tensor> = heads.iter().map(Tensor::relu).collect();
                c.forward(&Tensor::concat(&rectified, 1)?, pass)?
            }
            Some(c) => c.forward(&Tensor::concat(&heads, 1)?, pass)?,
            None => {
                let mut sum = heads[0].clone();
                for h in &heads[1..] {
                    sum = sum.add(h)?;
                }
                sum.mul_scalar(1.0 / heads.len() as f32)
            }
        };
        Ok((logits, heads))
    }

    /// Freezes everything but the combination layer (`FineTuned` only): the
    /// second stage of fine-tuned training.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for another aggregation.
    pub fn freeze_for_fine_tuning(&mut self) -> Result<()> {
        use fanaroff_nn::ModuleExt;
        let combine = match self.combine.as_mut() {
            Some(c) if self.cfg.aggregation == Aggregation::FineTuned => c,
            _ => {
                return Err(fanaroff_core::config(
                    "AttentionNet",
                    "only the fine_tuned aggregation has a second stage",
                ));
            }
        };
        combine.set_requires_grad(true);
        for b in &mut self.blocks {
            b.set_requires_grad(false);
        }
        for g in &mut self.gates {
            g.set_requires_grad(false);
        }
        for h in &mut self.heads {
            h.set_requires_grad(false);
        }
        Ok(())
    }
}

/// With the `concat` aggregation the network ends in one linear classifier
/// on the concatenated pooled features of the gates; the other aggregations
/// have a classifier per gate and are not split.
impl fanaroff_nn::LastLayer for AttentionNet {
    fn penultimate(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        self.last_layer()?;
        let (pooled, _) = self.gated_features(x, pass)?;
        Ok(Tensor::concat(&pooled, 1)?)
    }

    fn last_layer(&self) -> Result<&dyn Module> {
        if self.cfg.aggregation != Aggregation::Concat {
            return Err(fanaroff_core::config(
                "AttentionNet",
                format!(
                    "the `{}` aggregation has one classifier per gate, not one last layer; \
                     use `concat`",
                    self.cfg.aggregation.name()
                ),
            ));
        }
        Ok(&*self.heads[0])
    }
}

/// The name under which [`AttentionNet::forward_all`] taps the attention
/// map of gate `k` (0: the finest): `attention1`, `attention2`, ...
pub fn attention_tap(k: usize) -> String {
    format!("attention{}", k + 1)
}

impl Module for AttentionNet {
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        Ok(self.forward_all(x, pass)?.logits)
    }
    fn visit_children(&self, p: &str, f: &mut dyn FnMut(&str, &dyn Module)) {
        for (i, b) in self.blocks.iter().enumerate() {
            f(&join(p, &format!("block{}", i + 1)), b);
        }
        for (i, g) in self.gates.iter().enumerate() {
            f(&join(p, &format!("gate{}", i + 1)), g);
        }
        f(&join(p, "dropout"), &*self.dropout);
        for (i, h) in self.heads.iter().enumerate() {
            f(
                &join(p, &head_name(self.cfg.aggregation, i, self.gates.len())),
                &**h,
            );
        }
        if let Some(c) = &self.combine {
            f(&join(p, "combine"), &**c);
        }
    }
    fn visit_children_mut(&mut self, p: &str, f: &mut dyn FnMut(&str, &mut dyn Module)) {
        for (i, b) in self.blocks.iter_mut().enumerate() {
            f(&join(p, &format!("block{}", i + 1)), b);
        }
        for (i, g) in self.gates.iter_mut().enumerate() {
            f(&join(p, &format!("gate{}", i + 1)), g);
        }
        f(&join(p, "dropout"), &mut *self.dropout);
        let (agg, gates) = (self.cfg.aggregation, self.gates.len());
        for (i, h) in self.heads.iter_mut().enumerate() {
            f(&join(p, &head_name(agg, i, gates)), &mut **h);
        }
        if let Some(c) = &mut self.combine {
            f(&join(p, "combine"), &mut **c);
        }
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

/// `classifier` for a head on the concatenated features, `head{k}` for
/// gate k's.
fn head_name(agg: Aggregation, i: usize, gates: usize) -> String {
    match agg {
        Aggregation::Concat => "classifier".into(),
        Aggregation::MeanWithConcat if i == gates => "classifier".into(),
        _ => format!("head{}", i + 1),
    }
}
