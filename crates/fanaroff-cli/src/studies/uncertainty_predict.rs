//! Predictions of the trained model, and of a last-layer Laplace posterior
//! on it, in the form the uncertainty study scores.

use crate::error::Result;
use crate::studies::uncertainty_metrics::Predicted;
use fanaroff_attention::AttentionNet;
use fanaroff_laplace::LastLayerLaplace;
use fanaroff_nn::{LastLayer, Module, PENULTIMATE, Pass, Sequential};
use fanaroff_tensor::{Tensor, no_grad};
use fanaroff_train::{Classifier, ModuleClassifier, PredictConfig};
use ndarray::{Array2, ArrayD, Axis, Ix2, Slice};
use rand::SeedableRng;
use rand::rngs::StdRng;

const BATCH: usize = 50;

/// The model as a feature map plus last layer, for the models of the
/// workspace that have one (a `Sequential` such as the LeNets, the
/// attention net with `concat`).
pub(crate) fn last_layer_view(m: &dyn Module) -> Option<&dyn LastLayer> {
    let any = m.as_any()?;
    if let Some(s) = any.downcast_ref::<Sequential>() {
        return Some(s);
    }
    let net = any.downcast_ref::<AttentionNet>()?;
    net.last_layer().ok().map(|_| net as &dyn LastLayer)
}

/// The trained model on `x`: its predictive over `samples` draws (one for
/// a deterministic model), and the logits and penultimate features of
/// `mean_net`, the same network at its mean weights in evaluation mode.
pub(crate) fn model_predicted(
    model: &dyn Module,
    stochastic: bool,
    mean_net: &dyn Module,
    x: &ArrayD<f32>,
    samples: usize,
    seed: u64,
) -> Result<Predicted> {
    let draws = if stochastic { samples } else { 1 };
    let cfg = PredictConfig::with_samples(draws)
        .batch_size(BATCH)
        .seed(seed);
    let s = ModuleClassifier::new(model, stochastic)
        .predict(x.view(), &cfg)?
        .mapv(f64::from);
    let mean = s.mean_axis(Axis(0)).expect("at least one draw");
    let (logits, features) = logits_and_features(mean_net, x)?;
    Ok(Predicted {
        mean,
        samples: (draws > 1).then_some(s),
        logits: Some(logits),
        features,
    })
}

/// Logits `[N, K]` and, when the model taps them
/// ([`PENULTIMATE`](fanaroff_nn::PENULTIMATE): the LeNets, the attention
/// net with `concat`), penultimate features `[N, D]`: one pass per batch,
/// without gradients.
fn logits_and_features(
    net: &dyn Module,
    x: &ArrayD<f32>,
) -> Result<(Array2<f64>, Option<Array2<f64>>)> {
    let n = x.shape()[0];
    let (mut logits, mut features) = (Vec::new(), Vec::new());
    for start in (0..n).step_by(BATCH) {
        let xb = x.slice_axis(Axis(0), Slice::from(start..(start + BATCH).min(n)));
        let mut rng = StdRng::seed_from_u64(0);
        let mut pass = Pass::new(&mut rng).tapping(&[PENULTIMATE]);
        let z = no_grad(|| net.forward(&Tensor::from_array(xb.to_owned()), &mut pass))?;
        logits.push(matrix(&z)?);
        if let Some(f) = pass.tapped(PENULTIMATE) {
            features.push(matrix(f)?);
        }
    }
    let features = (features.len() == logits.len())
        .then(|| stack(&features))
        .transpose()?;
    Ok((stack(&logits)?, features))
}

/// A `[N, K]` tensor as an f64 matrix.
fn matrix(t: &Tensor) -> Result<Array2<f64>> {
    t.data()
        .mapv(f64::from)
        .into_dimensionality::<Ix2>()
        .map_err(|_| {
            crate::error::invalid(
                "uncertainty",
                format!("model output {:?} is not [N, K]", t.shape()),
            )
        })
}

/// Batches stacked along rows.
fn stack(parts: &[Array2<f64>]) -> Result<Array2<f64>> {
    let views: Vec<_> = parts.iter().map(|a| a.view()).collect();
    ndarray::concatenate(Axis(0), &views)
        .map_err(|e| crate::error::invalid("uncertainty", e.to_string()))
}

/// A Laplace posterior's predictive on images whose penultimate features
/// are `features`: the probit predictive, `samples` Monte Carlo draws (for
/// the mutual information), the logits at the trained weights and the
/// features themselves.
pub(crate) fn laplace_predicted(
    la: &LastLayerLaplace,
    features: &Array2<f64>,
    samples: usize,
    seed: u64,
) -> Result<Predicted> {
    let mean = la.predict_probit(features.view())?;
    let draws =
        la.sample_probabilities(features.view(), samples, &mut StdRng::seed_from_u64(seed))?;
    let (logits, _) = la.logit_moments(features.view())?;
    Ok(Predicted {
        mean,
        samples: (samples > 1).then_some(draws),
        logits: Some(logits),
        features: Some(features.clone()),
    })
}

/// A deep ensemble on `x`: each member's softmax is one draw, the logits
/// are the members' mean (no shared features, so no Mahalanobis score).
pub(crate) fn ensemble_predicted(
    members: &[Box<dyn Module>],
    x: &ArrayD<f32>,
) -> Result<Predicted> {
    let each: Vec<Predicted> = members
        .iter()
        .map(|m| model_predicted(&**m, false, &**m, x, 1, 0))
        .collect::<Result<_>>()?;
    let views: Vec<_> = each.iter().map(|p| p.mean.view()).collect();
    let samples = ndarray::stack(Axis(0), &views)
        .map_err(|e| crate::error::invalid("ensemble", e.to_string()))?;
    let mean = samples.mean_axis(Axis(0)).expect("members");
    let mut logits = Array2::<f64>::zeros(mean.dim());
    for p in &each {
        logits += p.logits.as_ref().expect("logits");
    }
    logits /= each.len() as f64;
    Ok(Predicted {
        mean,
        samples: Some(samples),
        logits: Some(logits),
        features: None,
    })
}
