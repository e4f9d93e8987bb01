//! The loop's checkpoint: model, optimiser, callbacks and history in one
//! folder, every file written atomically.
//!
//! ```text
//! ckpt-NNNNN.safetensors   parameters, buffers, masks and "optim.*" state after epoch NNNNN
//! state.json               epochs done, settings fingerprint, rate, callback states, history
//! best.safetensors         the best epoch's model (BestCheckpoint)
//! history.csv, history.json
//! ```
//!
//! The RNG needs no saving: epoch `e` draws from a generator seeded with
//! `(seed, e)`, so the seed and the number of finished epochs are its state.

use crate::callback::Callback;
use crate::error::{Error, Result, input, io};
use crate::history::{History, write_atomic};
use fanaroff_nn::{Module, Optimizer, TensorFile, load_from, model_tensors, write_tensors};
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Everything of a run besides the tensors.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct LoopState {
    pub version: u32,
    pub epochs_done: usize,
    pub checkpoint: String,
    pub fingerprint: serde_json::Value,
    pub lr: f32,
    pub callbacks: BTreeMap<String, serde_json::Value>,
    pub history: History,
}

impl LoopState {
    pub fn new(fingerprint: serde_json::Value, lr: f32) -> Self {
        LoopState {
            version: 2,
            fingerprint,
            lr,
            ..Self::default()
        }
    }
}

/// Writes the tensors, then `state.json`, then the history; removes the
/// previous tensor file.
pub(crate) fn save<M: Module>(
    dir: &Path,
    model: &M,
    opt: &dyn Optimizer,
    callbacks: &[Box<dyn Callback<M> + '_>],
    st: &mut LoopState,
) -> Result<()> {
    let name = format!("ckpt-{:05}.safetensors", st.epochs_done);
    let mut tensors: Vec<(String, ArrayD<f32>)> = model_tensors(model);
    tensors.extend(
        opt.state()
            .into_iter()
            .map(|(n, a)| (format!("optim.{n}"), a)),
    );
    write_tensors(dir.join(&name), &tensors)?;
    st.callbacks = callbacks.iter().map(|c| (c.name(), c.state())).collect();
    let previous = std::mem::replace(&mut st.checkpoint, name.clone());
    let json = serde_json::to_string_pretty(&*st)
        .map_err(|e| input::<Error>("checkpoint", e.to_string()))?;
    write_atomic(&dir.join("state.json"), json.as_bytes())?;
    if !previous.is_empty() && previous != name {
        let _ = std::fs::remove_file(dir.join(previous));
    }
    st.history.write(dir)
}

fn differing_keys(saved: &serde_json::Value, now: &serde_json::Value) -> Vec<String> {
    match (saved.as_object(), now.as_object()) {
        (Some(a), Some(b)) => {
            let mut keys: Vec<String> = a
                .iter()
                .filter(|(k, v)| b.get(*k) != Some(*v))
                .map(|(k, v)| {
                    format!(
                        "{k} (saved {v}, now {})",
                        b.get(k).cloned().unwrap_or_default()
                    )
                })
                .collect();
            keys.extend(
                b.keys()
                    .filter(|k| !a.contains_key(*k))
                    .map(|k| format!("{k} (new)")),
            );
            keys
        }
        _ if saved != now => vec![format!("saved {saved}, now {now}")],
        _ => Vec::new(),
    }
}

/// Reads `state.json`, refuses other settings, and loads model, optimiser
/// and callback states.
pub(crate) fn load<M: Module>(
    dir: &Path,
    fingerprint: &serde_json::Value,
    model: &mut M,
    opt: &mut dyn Optimizer,
    callbacks: &mut [Box<dyn Callback<M> + '_>],
) -> Result<LoopState> {
    let path = dir.join("state.json");
    let p = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let ckpt = |msg: String| Error::Checkpoint {
        path: p.clone(),
        msg,
    };
    let st: LoopState = serde_json::from_str(&text).map_err(|e| ckpt(e.to_string()))?;
    let diff = differing_keys(&st.fingerprint, fingerprint);
    if !diff.is_empty() {
        return Err(ckpt(format!(
            "the saved run used other settings; resume needs the same ones: {}",
            diff.join("; ")
        )));
    }
    let file = TensorFile::read(dir.join(&st.checkpoint))?;
    load_from(model, &file, false)?;
    let state: Vec<(String, ArrayD<f32>)> = file
        .names()
        .iter()
        .filter_map(|n| {
            n.strip_prefix("optim.")
                .map(|s| (n.to_string(), s.to_string()))
        })
        .map(|(full, short)| Ok((short, file.f32(&full)?)))
        .collect::<Result<_>>()?;
    opt.load_state(state)?;
    opt.set_learning_rate(st.lr);
    for c in callbacks.iter_mut() {
        if let Some(v) = st.callbacks.get(&c.name()) {
            c.load_state(v.clone())?;
        }
    }
    Ok(st)
}
