//! Stochastic gradient descent with momentum and weight decay.

use super::{Optimizer, for_each_update};
use crate::error::{Error, Result, config, non_negative, positive};
use crate::module::Module;
use fanaroff_tensor::Gradients;
use ndarray::{ArrayD, Zip};
use std::collections::BTreeMap;

/// Settings of [`Sgd`] (PyTorch semantics).
///
/// | name | default | meaning | valid |
/// |---|---|---|---|
/// | `lr` | 0.01 | step size | > 0 |
/// | `momentum` | 0 | velocity decay | [0, 1) |
/// | `weight_decay` | 0 | L2 penalty added to the gradient | >= 0 |
/// | `nesterov` | false | Nesterov momentum | needs momentum > 0 |
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SgdConfig {
    /// Step size.
    pub lr: f32,
    /// Momentum factor.
    pub momentum: f32,
    /// L2 penalty.
    pub weight_decay: f32,
    /// Nesterov momentum.
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 0.01,
            momentum: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

impl SgdConfig {
    /// Validates the settings and builds the optimiser.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for values outside the table above.
    pub fn build(self) -> Result<Sgd> {
        if !positive(self.lr) {
            return Err(config("Sgd", format!("lr = {} must be positive", self.lr)));
        }
        if !(0.0..1.0).contains(&self.momentum) || !non_negative(self.weight_decay) {
            return Err(config(
                "Sgd",
                "momentum must be in [0, 1) and weight_decay >= 0",
            ));
        }
        if self.nesterov && self.momentum == 0.0 {
            return Err(config("Sgd", "Nesterov needs momentum > 0"));
        }
        Ok(Sgd {
            cfg: self,
            velocity: BTreeMap::new(),
        })
    }
}

/// Stochastic gradient descent:
///
/// ```text
/// g = grad + wd * p;  v = momentum * v + g;  p -= lr * (nesterov ? g + momentum * v : v)
/// ```
#[derive(Debug, Clone)]
pub struct Sgd {
    cfg: SgdConfig,
    velocity: BTreeMap<String, ArrayD<f32>>,
}

impl Optimizer for Sgd {
    fn step(&mut self, model: &mut dyn Module, grads: &Gradients) -> Result<()> {
        let c = self.cfg;
        for_each_update(model, grads, |name, data, g| {
            if c.momentum == 0.0 {
                Zip::from(data)
                    .and(g)
                    .for_each(|p, &g| *p -= c.lr * (g + c.weight_decay * *p));
            } else {
                let v = self
                    .velocity
                    .entry(name.to_string())
                    .or_insert_with(|| ArrayD::zeros(g.raw_dim()));
                Zip::from(data).and(g).and(v).for_each(|p, &g, v| {
                    let g = g + c.weight_decay * *p;
                    *v = c.momentum * *v + g;
                    *p -= c.lr * if c.nesterov { g + c.momentum * *v } else { *v };
                });
            }
        })
    }
    fn learning_rate(&self) -> f32 {
        self.cfg.lr
    }
    fn set_learning_rate(&mut self, lr: f32) {
        self.cfg.lr = lr;
    }
    fn state(&self) -> Vec<(String, ArrayD<f32>)> {
        self.velocity
            .iter()
            .map(|(k, v)| (format!("sgd.velocity.{k}"), v.clone()))
            .collect()
    }
    fn load_state(&mut self, state: Vec<(String, ArrayD<f32>)>) -> Result<()> {
        self.velocity.clear();
        for (k, v) in state {
            let name = k
                .strip_prefix("sgd.velocity.")
                .ok_or_else(|| Error::Checkpoint {
                    path: "<optimizer state>".into(),
                    msg: format!("unexpected SGD state entry {k}"),
                })?;
            self.velocity.insert(name.to_string(), v);
        }
        Ok(())
    }
}
