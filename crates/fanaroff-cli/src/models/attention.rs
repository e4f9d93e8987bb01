//! The attention-gated CNN of Bowles et al. (2021) as a model kind, with a
//! layer factory per part (plain, MC dropout or Bayesian).

use crate::error::{Result, invalid};
use crate::model::{Built, ModelSettings, Stage, Step};
use crate::models::check_dropout;
use fanaroff_attention::{
    Aggregation, AttentionNet, AttentionNetConfig, DeepSupervisionStep, Parts,
    ProbabilityCrossEntropyStep,
};
use fanaroff_bayes::{BayesLayers, Elbo, ElboStep, VariationalConfig};
use fanaroff_nn::Module;
use fanaroff_nn::init::{reinit_kaiming_normal, reinit_kaiming_normal_convs};
use fanaroff_nn::models::{LayerFactory, McDropoutLayers, PlainLayers};
use fanaroff_train::CrossEntropyStep;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

/// The layers of one part of the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerKind {
    /// Ordinary layers.
    #[default]
    Plain,
    /// Ordinary layers with dropout (`p`) kept on at prediction.
    McDropout,
    /// Bayes-by-backprop layers (`variational`), trained with the ELBO.
    Bayes,
}

/// The initial weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// Each layer's own initialisation (PyTorch's defaults).
    #[default]
    Default,
    /// Conv and linear weights from N(0, 2 / fan_in), batch-norm scales
    /// from N(1, 0.02): `init_weights(kaiming)` of Oktay et al.'s code
    /// applied to every layer.
    Kaiming,
    /// As `Kaiming` for convolutions and batch-norm scales only; linear
    /// layers keep their defaults. The scope of the Bowles et al. study
    /// code (`AGRadGalNet` initialises its `Conv2d` and `BatchNorm2d`
    /// modules, and its gates' convolutions, this way).
    KaimingConv,
}

/// What the classifier's cross-entropy is taken of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// The logits (log-softmax inside the loss).
    #[default]
    Logits,
    /// The softmax output taken as logits again, as the attention study
    /// code does (a double softmax); concat and mean aggregations only.
    /// Select the model by it with `training.monitor = { metric =
    /// "val_prob_ce" }`, as that code does.
    Probabilities,
}

/// The factory of each part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttentionLayers {
    /// The convolutions of the backbone.
    pub backbone: LayerKind,
    /// The gates' 1x1 convolutions.
    pub gates: LayerKind,
    /// The classifiers.
    pub head: LayerKind,
}

impl AttentionLayers {
    fn any(&self, k: LayerKind) -> bool {
        [self.backbone, self.gates, self.head].contains(&k)
    }
}

/// `kind = "attention_net"`: the gated network for a normalisation ×
/// aggregation.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `net` | the paper's network | an [`AttentionNetConfig`] table (`normalisation`, `aggregation`, …) |
/// | `layers` | all `plain` | `{ backbone, gates, head }`, each `plain`, `mc_dropout` or `bayes` |
/// | `p` | 0.5 | dropout of `mc_dropout` parts |
/// | `variational`, `elbo` | defaults | settings of `bayes` parts and their objective |
/// | `finetune_epochs` | 20 | second stage of the `fine_tuned` aggregation (the combination alone) |
/// | `init` | `default` | `default`, `kaiming` or `kaiming_conv` ([`Init`]) |
/// | `loss` | `logits` | `logits` or `probabilities` ([`Loss`]) |
///
/// Training step: the ELBO when a part is Bayesian; deep supervision for
/// the `deep_supervision` and `fine_tuned` aggregations; cross-entropy
/// otherwise (`loss`: on the logits, or the study code's on the softmax
/// probabilities), one stage for `study_fine_tuned`. Bayesian parts with
/// deep supervision are refused.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttentionModel {
    /// The network's settings.
    #[serde(default)]
    pub net: AttentionNetConfig,
    /// The factory of each part.
    #[serde(default)]
    pub layers: AttentionLayers,
    /// Dropout of `mc_dropout` parts.
    #[serde(default = "half")]
    pub p: f32,
    /// Settings of `bayes` parts.
    #[serde(default)]
    pub variational: VariationalConfig,
    /// The objective when a part is Bayesian.
    #[serde(default)]
    pub elbo: Elbo,
    /// Epochs of the fine-tuned aggregation's second stage.
    #[serde(default = "twenty")]
    pub finetune_epochs: usize,
    /// The initial weights.
    #[serde(default, skip_serializing_if = "is_default")]
    pub init: Init,
    /// The training loss.
    #[serde(default, skip_serializing_if = "is_default")]
    pub loss: Loss,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

fn half() -> f32 {
    0.5
}

fn twenty() -> usize {
    20
}

impl Default for AttentionModel {
    fn default() -> Self {
        AttentionModel {
            net: AttentionNetConfig::default(),
            layers: AttentionLayers::default(),
            p: half(),
            variational: VariationalConfig::default(),
            elbo: Elbo::default(),
            finetune_epochs: twenty(),
            init: Init::default(),
            loss: Loss::default(),
        }
    }
}

impl ModelSettings for AttentionModel {
    const KIND: &'static str = "attention_net";

    fn stochastic(&self) -> bool {
        self.layers.any(LayerKind::Bayes) || self.layers.any(LayerKind::McDropout)
    }

    fn check(&self) -> Result<()> {
        self.net.check()?;
        check_dropout(self.p)?;
        let supervised = matches!(
            self.net.aggregation,
            Aggregation::DeepSupervision | Aggregation::FineTuned
        );
        if self.loss == Loss::Probabilities && (supervised || self.layers.any(LayerKind::Bayes)) {
            return Err(invalid(
                "model.loss",
                "probabilities: not with bayes parts, nor with deep_supervision or fine_tuned (their step supervises every head; study_fine_tuned takes it)",
            ));
        }
        if self.layers.any(LayerKind::Bayes) {
            self.variational.clone().check()?;
            self.elbo.check()?;
            if supervised {
                return Err(invalid(
                    "model.layers",
                    "bayes parts train with the ELBO, which has no deep supervision",
                ));
            }
        }
        Ok(())
    }

    fn build(&self, rng: &mut dyn RngCore) -> Result<Built> {
        let mut seeds = [rng.next_u64(), rng.next_u64(), rng.next_u64()].map(StdRng::seed_from_u64);
        let [r1, r2, r3] = &mut seeds;
        let vcfg = self.variational.clone().check()?;
        let mut b = factory(self.layers.backbone, self.p, &vcfg, r1)?;
        let mut g = factory(self.layers.gates, self.p, &vcfg, r2)?;
        let mut h = factory(self.layers.head, self.p, &vcfg, r3)?;
        let mut net = self.net.build_parts(Parts {
            backbone: &mut b,
            gates: &mut g,
            head: &mut h,
        })?;
        match self.init {
            Init::Default => {}
            Init::Kaiming => {
                reinit_kaiming_normal(&mut net, &mut StdRng::seed_from_u64(rng.next_u64()))?
            }
            Init::KaimingConv => {
                reinit_kaiming_normal_convs(&mut net, &mut StdRng::seed_from_u64(rng.next_u64()))?
            }
        }
        let mut built = Built::new(net, CrossEntropyStep);
        built.step = self.step()?;
        if self.net.aggregation == Aggregation::FineTuned {
            built.second_stage = Some(Stage {
                epochs: self.finetune_epochs,
                prepare: freeze_for_fine_tuning,
                step: Box::new(CrossEntropyStep),
            });
        }
        Ok(built)
    }
}

impl AttentionModel {
    fn step(&self) -> Result<Step> {
        Ok(if self.layers.any(LayerKind::Bayes) {
            Box::new(ElboStep::new(self.elbo.check()?)?)
        } else if matches!(
            self.net.aggregation,
            Aggregation::DeepSupervision | Aggregation::FineTuned
        ) {
            Box::new(DeepSupervisionStep)
        } else if self.loss == Loss::Probabilities {
            Box::new(ProbabilityCrossEntropyStep)
        } else {
            Box::new(CrossEntropyStep)
        })
    }
}

fn freeze_for_fine_tuning(m: &mut dyn Module) -> Result<()> {
    let net = m
        .as_any_mut()
        .and_then(|a| a.downcast_mut::<AttentionNet>())
        .ok_or_else(|| invalid("model", "the fine-tuning stage needs an attention net"))?;
    Ok(net.freeze_for_fine_tuning()?)
}

/// One part's factory behind a common face.
fn factory<'r>(
    kind: LayerKind,
    p: f32,
    vcfg: &VariationalConfig,
    rng: &'r mut StdRng,
) -> Result<AnyLayers<'r>> {
    Ok(match kind {
        LayerKind::Plain => AnyLayers::Plain(PlainLayers::new(rng)),
        LayerKind::McDropout => AnyLayers::Dropout(McDropoutLayers::new(p, rng)?),
        LayerKind::Bayes => AnyLayers::Bayes(BayesLayers::new(vcfg, rng)?),
    })
}

/// The three factories as one type, so each part can take any of them.
enum AnyLayers<'r> {
    Plain(PlainLayers<'r>),
    Dropout(McDropoutLayers<'r>),
    Bayes(BayesLayers<'r>),
}

impl LayerFactory for AnyLayers<'_> {
    type Error = fanaroff_nn::Error;

    fn linear(
        &mut self,
        cfg: fanaroff_nn::LinearConfig,
    ) -> std::result::Result<Box<dyn Module>, Self::Error> {
        match self {
            AnyLayers::Plain(f) => f.linear(cfg),
            AnyLayers::Dropout(f) => f.linear(cfg),
            AnyLayers::Bayes(f) => f.linear(cfg).map_err(nn_error),
        }
    }

    fn conv2d(
        &mut self,
        cfg: fanaroff_nn::Conv2dConfig,
    ) -> std::result::Result<Box<dyn Module>, Self::Error> {
        match self {
            AnyLayers::Plain(f) => f.conv2d(cfg),
            AnyLayers::Dropout(f) => f.conv2d(cfg),
            AnyLayers::Bayes(f) => f.conv2d(cfg).map_err(nn_error),
        }
    }

    fn before_linear(&mut self) -> std::result::Result<Option<Box<dyn Module>>, Self::Error> {
        match self {
            AnyLayers::Plain(f) => f.before_linear(),
            AnyLayers::Dropout(f) => f.before_linear(),
            AnyLayers::Bayes(f) => f.before_linear().map_err(nn_error),
        }
    }
}

fn nn_error(e: fanaroff_bayes::Error) -> fanaroff_nn::Error {
    fanaroff_nn::Error::External(Box::new(e))
}
