//! `kind = "mmd"`: domain adaptation towards noisy images (after
//! Ciprijanović et al. 2022), the model's step plus an MMD term between
//! the latent features of clean and of unlabelled noisy training images.

use crate::error::{Result, invalid};
use crate::model::Step;
use crate::step::{StepInput, StepSettings, Wrapped};
use fanaroff_nn::Sequential;
use fanaroff_perturb::{GaussianSnr, Mmd, MmdStep, perturb_batch};
use fanaroff_train::{ArrayLoader, TwoStream};
use ndarray::Ix4;
use serde::{Deserialize, Serialize};

/// | key | default | meaning |
/// |---|---|---|
/// | `snr` | 5 | peak SNR of the Gaussian noise on the target domain: one noisy copy of every training image, labels unused |
/// | `lambda` | 0.5 | weight of MMD²; the paper's 0.01 times the batch of 50, because the ELBO sums the NLL over the batch where the paper averages. `0` trains without adaptation on the same data and seed: the paired baseline of a grid |
/// | `kernel` | `std` | `std`: [`Mmd::default`], the 19 bandwidths as standard deviations; `paper`: [`Mmd::paper`], the DeepAdversaries code's convention (bandwidths as variances, MMD² floored at 1e-4) |
///
/// The features are the output of the layer before the last (the model
/// must be sequential, e.g. `bbb_lenet`). The noisy copies are drawn from
/// the experiment's seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MmdAdaptation {
    /// Peak SNR of the target domain's noise.
    #[serde(default = "five")]
    pub snr: f64,
    /// Weight of MMD².
    #[serde(default = "half")]
    pub lambda: f64,
    /// The kernel's convention.
    #[serde(default)]
    pub kernel: MmdKernel,
}

/// `kernel`: how the bandwidths enter the Gaussian kernel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MmdKernel {
    /// Bandwidths as standard deviations, no floor.
    #[default]
    Std,
    /// The DeepAdversaries code: bandwidths as variances, floor 1e-4.
    Paper,
}

impl MmdKernel {
    /// The MMD it names.
    pub fn mmd(self) -> Mmd {
        match self {
            MmdKernel::Std => Mmd::default(),
            MmdKernel::Paper => Mmd::paper(),
        }
    }
}

fn five() -> f64 {
    5.0
}

fn half() -> f64 {
    0.5
}

impl StepSettings for MmdAdaptation {
    const KIND: &'static str = "mmd";

    fn check(&self) -> Result<()> {
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return Err(invalid(
                "step.lambda",
                format!("{}; must be >= 0", self.lambda),
            ));
        }
        GaussianSnr::new(self.snr)?;
        Ok(())
    }

    fn wrap(&self, inner: Step, input: StepInput<'_>) -> Result<Wrapped> {
        let StepInput {
            model,
            train,
            experiment: exp,
            ..
        } = input;
        if self.lambda == 0.0 {
            return Ok((inner, Box::new(train)));
        }
        let layers = model
            .as_any()
            .and_then(|a| a.downcast_ref::<Sequential>())
            .map(Sequential::len)
            .ok_or_else(|| invalid("step", "mmd needs a sequential model (e.g. bbb_lenet)"))?;
        let raw = train
            .examples()
            .mapv(f32::from)
            .into_dimensionality::<Ix4>()
            .map_err(|e| invalid("step", e.to_string()))?;
        let noisy = perturb_batch(&GaussianSnr::new(self.snr)?, raw.view(), exp.seed ^ 0x7a2)?;
        let scaling = exp.data.scaling.scaling();
        let target = ArrayLoader::new(
            noisy.mapv(|v| scaling.apply_value(v)).into_dyn(),
            train.labels().to_vec(),
            2,
        )?;
        let step = MmdStep::new(inner, self.kernel.mmd(), self.lambda, layers - 1);
        Ok((Box::new(step), Box::new(TwoStream::new(train, target)?)))
    }
}
