//! The attention gate of Bowles et al. 2021 (after Oktay et al. 2018).

use crate::normalise::Normalisation;
use fanaroff_nn::models::LayerFactory;
use fanaroff_nn::{Conv2dConfig, Error, Module, Pass, Result};
use fanaroff_tensor::Tensor;
use serde::{Deserialize, Serialize};

/// Settings of one [`AttentionGate`].
///
/// | field | default | meaning |
/// |---|---|---|
/// | `in_channels` | | channels of the gated features x |
/// | `gating_channels` | 64 | channels of the gating signal g |
/// | `inter_channels` | 64 | channels of theta(x) and phi(g) |
/// | `normalisation` | softmax | how psi becomes alpha |
/// | `psi_bias` | 10 | initial bias of psi |
/// | `bias` | false | biases on theta and phi (the paper: none; variational layers need them) |
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateConfig {
    /// Channels of the gated feature map x.
    pub in_channels: usize,
    /// Channels of the gating signal g.
    pub gating_channels: usize,
    /// Channels of theta(x) and phi(g).
    pub inter_channels: usize,
    /// Normalisation of the score map.
    pub normalisation: Normalisation,
    /// Initial bias of psi.
    pub psi_bias: f32,
    /// Whether theta and phi have biases.
    pub bias: bool,
}

impl GateConfig {
    /// A gate on `in_channels` features with the paper's other settings.
    pub fn new(in_channels: usize) -> Self {
        GateConfig {
            in_channels,
            gating_channels: 64,
            inter_channels: 64,
            normalisation: Normalisation::Softmax,
            psi_bias: 10.0,
            bias: false,
        }
    }
}

/// An attention gate: from features `x [N, C, H, W]` and a coarser gating
/// signal `g [N, Cg, h, w]`,
///
/// ```text
/// a     = relu(theta(x) + resize_bilinear(phi(g), H, W))   theta, phi: 1x1 conv to inter_channels
/// alpha = normalise(psi(a))                                 psi: 1x1 conv to one channel
/// gated = alpha * x                                         alpha broadcast over the C channels
/// ```
///
/// The three convolutions come from a [`LayerFactory`], so a gate can be
/// ordinary or variational. The gate has two inputs: call
/// [`AttentionGate::gate`]; its one-input `forward` is an error.
pub struct AttentionGate {
    theta: Box<dyn Module>,
    phi: Box<dyn Module>,
    psi: Box<dyn Module>,
    normalisation: Normalisation,
}

impl AttentionGate {
    /// Builds a gate with layers from `factory`; psi's bias (or its
    /// posterior mean) starts at `cfg.psi_bias`.
    ///
    /// # Errors
    /// Invalid sizes, or a factory that cannot make a layer.
    pub fn build<F: LayerFactory>(
        cfg: &GateConfig,
        factory: &mut F,
    ) -> std::result::Result<Self, F::Error> {
        if cfg.in_channels == 0 || cfg.gating_channels == 0 || cfg.inter_channels == 0 {
            return Err(fanaroff_core::config::<Error>(
                "GateConfig",
                "channel counts must be positive",
            )
            .into());
        }
        let one = |i, o| {
            let mut c = Conv2dConfig::new(i, o, 1);
            c.bias = cfg.bias;
            c
        };
        let theta = factory.conv2d(one(cfg.in_channels, cfg.inter_channels))?;
        let phi = factory.conv2d(one(cfg.gating_channels, cfg.inter_channels))?;
        let mut psi = factory.conv2d(Conv2dConfig::new(cfg.inter_channels, 1, 1))?;
        psi.visit_params_mut("", &mut |name, t| {
            if (name == "bias" || name == "bias_mu")
                && let Ok(d) = t.data_mut()
            {
                d.fill(cfg.psi_bias);
            }
        });
        Ok(AttentionGate {
            theta,
            phi,
            psi,
            normalisation: cfg.normalisation,
        })
    }

    /// The normalisation.
    pub fn normalisation(&self) -> Normalisation {
        self.normalisation
    }

    /// Gated features `alpha * x` and the attention map `alpha [N, 1, H, W]`.
    ///
    /// # Errors
    /// Shape errors (x and g must be `[N, ., ., .]` with the same N and the
    /// configured channels).
    pub fn gate(&self, x: &Tensor, g: &Tensor, pass: &mut Pass<'_>) -> Result<(Tensor, Tensor)> {
        let (xs, gs) = (x.shape(), g.shape());
        if xs.len() != 4 || gs.len() != 4 || xs[0] != gs[0] {
            return Err(fanaroff_core::input(
                "AttentionGate",
                format!(
                    "features {xs:?} and gating signal {gs:?} must be [N, C, H, W] with the same N"
                ),
            ));
        }
        if let Some(group) = pass.group().filter(|d| d.batch == xs[0] && d.draws > 1) {
            return self.gate_per_draw(x, g, group.draws, pass);
        }
        let score = self.score(x, g, pass)?;
        let alpha = self.normalisation.apply(&score)?;
        Ok((alpha.mul(x)?, alpha))
    }

    /// Several weight draws in one pass (`fanaroff_nn::Pass::with_group`) on features
    /// and a gating signal that every draw shares (a deterministic
    /// backbone): each draw's attention map through the fused score, as in
    /// a one-draw pass, and the gated features as one block of rows per draw.
    fn gate_per_draw(
        &self,
        x: &Tensor,
        g: &Tensor,
        draws: usize,
        pass: &mut Pass<'_>,
    ) -> Result<(Tensor, Tensor)> {
        let alphas = pass
            .per_draw(|_, one| {
                self.score(x, g, one)
                    .and_then(|s| self.normalisation.apply(&s))
            })
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
        let alpha = Tensor::concat(&alphas, 0)?;
        let blocks = Tensor::concat(&vec![x.clone(); draws], 0)?;
        Ok((alpha.mul(&blocks)?, alpha))
    }

    /// The score map `psi(relu(theta(x) + resize(phi(g))))`. When theta
    /// and psi hand out their weights for the pass
    /// ([`Module::pointwise_weights`]: plain 1x1 convolutions, and
    /// variational ones with one draw per pass), the fused op
    /// [`Tensor::attention_gate_score`] computes it without storing the
    /// `[N, inter_channels, H, W]` intermediates. The layers are drawn in
    /// the order theta, phi, psi either way, so both paths consume the
    /// random stream alike.
    fn score(&self, x: &Tensor, g: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        let Some(theta) = self.theta.pointwise_weights(pass) else {
            return self.score_unfused(x, g, pass);
        };
        let (tw, tb) = theta?;
        let (h, w) = (x.shape()[2], x.shape()[3]);
        let phi = self.phi.forward(g, pass)?;
        match self.psi.pointwise_weights(pass) {
            Some(psi) => {
                let (pw, pb) = psi?;
                Ok(x.attention_gate_score(&phi, &tw, tb.as_ref(), &pw, pb.as_ref())?)
            }
            None => {
                let theta = x.conv2d(&tw, tb.as_ref(), (1, 1), (0, 0))?;
                let a = theta.add(&phi.resize_bilinear(h, w, false)?)?.relu();
                self.psi.forward(&a, pass)
            }
        }
    }

    /// The score map through the layers' own forward passes, keeping the
    /// `[N, inter_channels, H, W]` intermediates: the path for layers that
    /// have no weights to hand out (MC dropout, per-example noise).
    ///
    /// # Errors
    /// As [`gate`](Self::gate).
    pub fn score_unfused(&self, x: &Tensor, g: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        let (h, w) = (x.shape()[2], x.shape()[3]);
        let theta = self.theta.forward(x, pass)?;
        let phi = self.phi.forward(g, pass)?.resize_bilinear(h, w, false)?;
        self.psi.forward(&theta.add(&phi)?.relu(), pass)
    }
}

impl Module for AttentionGate {
    fn forward(&self, _x: &Tensor, _pass: &mut Pass<'_>) -> Result<Tensor> {
        Err(fanaroff_core::input(
            "AttentionGate",
            "a gate takes features and a gating signal: call AttentionGate::gate",
        ))
    }
    fanaroff_nn::children!(theta, phi, psi);
}
