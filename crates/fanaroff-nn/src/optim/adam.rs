//! Adam and AdamW with bias correction.

use super::{Optimizer, for_each_update};
use crate::error::{Error, Result, config, non_negative, positive};
use crate::module::Module;
use fanaroff_tensor::Gradients;
use ndarray::{ArrayD, IxDyn, Zip};
use std::collections::BTreeMap;

/// Settings of [`Adam`] (PyTorch semantics).
///
/// | name | default | meaning | valid |
/// |---|---|---|---|
/// | `lr` | 1e-3 | step size | > 0 |
/// | `beta1` | 0.9 | first-moment decay | [0, 1) |
/// | `beta2` | 0.999 | second-moment decay | [0, 1) |
/// | `eps` | 1e-8 | added to sqrt(v) | > 0 |
/// | `weight_decay` | 0 | L2 penalty (Adam) or decoupled decay (AdamW) | >= 0 |
/// | `decoupled` | false | AdamW: decay the weights directly | |
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamConfig {
    /// Step size.
    pub lr: f32,
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Numerical floor in the denominator.
    pub eps: f32,
    /// Weight decay.
    pub weight_decay: f32,
    /// AdamW (decoupled weight decay) instead of Adam's L2 penalty.
    pub decoupled: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
        }
    }
}

impl AdamConfig {
    /// Adam with learning rate `lr` and default moments.
    pub fn with_lr(lr: f32) -> Self {
        AdamConfig {
            lr,
            ..Self::default()
        }
    }

    /// Validates the settings and builds the optimiser.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for values outside the table above.
    pub fn build(self) -> Result<Adam> {
        if !positive(self.lr) || !positive(self.eps) {
            return Err(config(
                "Adam",
                format!("lr = {} and eps = {} must be positive", self.lr, self.eps),
            ));
        }
        if !(0.0..1.0).contains(&self.beta1) || !(0.0..1.0).contains(&self.beta2) {
            return Err(config(
                "Adam",
                format!("betas ({}, {}) must be in [0, 1)", self.beta1, self.beta2),
            ));
        }
        if !non_negative(self.weight_decay) {
            return Err(config("Adam", "weight_decay must be >= 0"));
        }
        Ok(Adam {
            cfg: self,
            moments: BTreeMap::new(),
        })
    }
}

/// Per-parameter state: step count, first moment m, second moment v.
#[derive(Debug, Clone)]
struct Moments {
    step: u64,
    m: ArrayD<f32>,
    v: ArrayD<f32>,
}

/// Adam (Kingma & Ba) with bias correction; AdamW when `decoupled`.
///
/// ```text
/// g = grad (+ wd * p for Adam);   p *= 1 - lr * wd   (AdamW)
/// m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
/// p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
/// ```
///
/// The second moment `v` is a running average of squared gradients, a
/// diagonal Fisher estimate; [`Adam::second_moment`] exposes it (pruning by
/// Fisher information uses it).
#[derive(Debug, Clone)]
pub struct Adam {
    cfg: AdamConfig,
    moments: BTreeMap<String, Moments>,
}

impl Adam {
    /// The running average of squared gradients of parameter `name`.
    pub fn second_moment(&self, name: &str) -> Option<&ArrayD<f32>> {
        self.moments.get(name).map(|s| &s.v)
    }

    /// The running average of gradients of parameter `name`.
    pub fn first_moment(&self, name: &str) -> Option<&ArrayD<f32>> {
        self.moments.get(name).map(|s| &s.m)
    }

    /// Number of updates applied to parameter `name`.
    pub fn step_count(&self, name: &str) -> u64 {
        self.moments.get(name).map_or(0, |s| s.step)
    }

    /// The settings.
    pub fn config(&self) -> &AdamConfig {
        &self.cfg
    }
}

impl Optimizer for Adam {
    fn step(&mut self, model: &mut dyn Module, grads: &Gradients) -> Result<()> {
        let c = self.cfg;
        for_each_update(model, grads, |name, data, g| {
            let st = self
                .moments
                .entry(name.to_string())
                .or_insert_with(|| Moments {
                    step: 0,
                    m: ArrayD::zeros(g.raw_dim()),
                    v: ArrayD::zeros(g.raw_dim()),
                });
            st.step += 1;
            let t = st.step as i32;
            let bc1 = 1.0 - c.beta1.powi(t);
            let bc2 = 1.0 - c.beta2.powi(t);
            let step_size = c.lr / bc1;
            let bc2_sqrt = bc2.sqrt();
            let (wd, decoupled) = (c.weight_decay, c.decoupled);
            Zip::from(data)
                .and(g)
                .and(&mut st.m)
                .and(&mut st.v)
                .for_each(|p, &g, m, v| {
                    let g = if decoupled {
                        *p *= 1.0 - c.lr * wd;
                        g
                    } else {
                        g + wd * *p
                    };
                    *m = c.beta1 * *m + (1.0 - c.beta1) * g;
                    *v = c.beta2 * *v + (1.0 - c.beta2) * g * g;
                    *p -= step_size * *m / (v.sqrt() / bc2_sqrt + c.eps);
                });
        })
    }
    fn learning_rate(&self) -> f32 {
        self.cfg.lr
    }
    fn set_learning_rate(&mut self, lr: f32) {
        self.cfg.lr = lr;
    }
    fn state(&self) -> Vec<(String, ArrayD<f32>)> {
        let mut out = Vec::new();
        for (k, s) in &self.moments {
            // The step count is stored as f32 (exact below 2^24 steps).
            out.push((
                format!("adam.step.{k}"),
                ArrayD::from_elem(IxDyn(&[]), s.step as f32),
            ));
            out.push((format!("adam.m.{k}"), s.m.clone()));
            out.push((format!("adam.v.{k}"), s.v.clone()));
        }
        out
    }
    fn load_state(&mut self, state: Vec<(String, ArrayD<f32>)>) -> Result<()> {
        self.moments.clear();
        let bad = |k: &str| Error::Checkpoint {
            path: "<optimizer state>".into(),
            msg: format!("unexpected Adam state entry {k}"),
        };
        let mut steps = BTreeMap::new();
        let mut ms = BTreeMap::new();
        let mut vs = BTreeMap::new();
        for (k, a) in state {
            if let Some(n) = k.strip_prefix("adam.step.") {
                steps.insert(
                    n.to_string(),
                    a.iter().next().copied().unwrap_or(0.0) as u64,
                );
            } else if let Some(n) = k.strip_prefix("adam.m.") {
                ms.insert(n.to_string(), a);
            } else if let Some(n) = k.strip_prefix("adam.v.") {
                vs.insert(n.to_string(), a);
            } else {
                return Err(bad(&k));
            }
        }
        for (n, step) in steps {
            let (Some(m), Some(v)) = (ms.remove(&n), vs.remove(&n)) else {
                return Err(bad(&n));
            };
            self.moments.insert(n, Moments { step, m, v });
        }
        Ok(())
    }
}
