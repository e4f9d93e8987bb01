//! Named tensors in safetensors files: model checkpoints that move between
//! this project and PyTorch (`state_dict` names and layouts), and reading of
//! arbitrary safetensors files (test fixtures, optimiser state).

use crate::error::{Error, Result};
use crate::module::Module;
use ndarray::{ArrayD, IxDyn};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::BTreeMap;
use std::path::Path;

/// One tensor read from a safetensors file, converted to a Rust type.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredTensor {
    /// `F32` (and `F64`, narrowed) data.
    F32(ArrayD<f32>),
    /// Integer data (`I64`, `I32`, `U8`), widened.
    I64(ArrayD<i64>),
}

/// The contents of a safetensors file by name.
#[derive(Debug, Clone, Default)]
pub struct TensorFile {
    path: String,
    tensors: BTreeMap<String, StoredTensor>,
}

fn ckpt_err(path: &str, msg: impl Into<String>) -> Error {
    Error::Checkpoint {
        path: path.to_string(),
        msg: msg.into(),
    }
}

impl TensorFile {
    /// Reads a whole safetensors file.
    ///
    /// # Errors
    /// [`Io`](fanaroff_core::Error::Io) when the file cannot be read, [`Error::Checkpoint`] when
    /// it is not valid safetensors or holds an unsupported dtype.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let p = path.as_ref().display().to_string();
        let bytes = std::fs::read(path.as_ref()).map_err(fanaroff_core::io(path.as_ref()))?;
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| ckpt_err(&p, format!("not a safetensors file: {e}")))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in st.tensors() {
            let shape = IxDyn(view.shape());
            let d = view.data();
            let t = match view.dtype() {
                Dtype::F32 => StoredTensor::F32(
                    ArrayD::from_shape_vec(
                        shape,
                        d.chunks_exact(4)
                            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                            .collect(),
                    )
                    .map_err(|e| ckpt_err(&p, format!("{name}: {e}")))?,
                ),
                Dtype::F64 => StoredTensor::F32(
                    ArrayD::from_shape_vec(
                        shape,
                        d.chunks_exact(8)
                            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
                            .collect(),
                    )
                    .map_err(|e| ckpt_err(&p, format!("{name}: {e}")))?,
                ),
                Dtype::I64 => StoredTensor::I64(
                    ArrayD::from_shape_vec(
                        shape,
                        d.chunks_exact(8)
                            .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
                            .collect(),
                    )
                    .map_err(|e| ckpt_err(&p, format!("{name}: {e}")))?,
                ),
                Dtype::I32 => StoredTensor::I64(
                    ArrayD::from_shape_vec(
                        shape,
                        d.chunks_exact(4)
                            .map(|b| i32::from_le_bytes(b.try_into().expect("4 bytes")) as i64)
                            .collect(),
                    )
                    .map_err(|e| ckpt_err(&p, format!("{name}: {e}")))?,
                ),
                Dtype::U8 => StoredTensor::I64(
                    ArrayD::from_shape_vec(shape, d.iter().map(|&b| b as i64).collect())
                        .map_err(|e| ckpt_err(&p, format!("{name}: {e}")))?,
                ),
                other => return Err(ckpt_err(&p, format!("{name}: unsupported dtype {other:?}"))),
            };
            tensors.insert(name, t);
        }
        Ok(TensorFile { path: p, tensors })
    }

    /// Named arrays held in memory as if read from a file (`label` names it
    /// in errors): snapshots restored with [`load_from`].
    pub fn from_arrays(label: &str, arrays: Vec<(String, ArrayD<f32>)>) -> Self {
        TensorFile {
            path: label.to_string(),
            tensors: arrays
                .into_iter()
                .map(|(n, a)| (n, StoredTensor::F32(a)))
                .collect(),
        }
    }

    /// Names of the stored tensors, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.tensors.keys().map(String::as_str).collect()
    }

    /// A float tensor by name.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when it is missing or holds integers.
    pub fn f32(&self, name: &str) -> Result<ArrayD<f32>> {
        match self.tensors.get(name) {
            Some(StoredTensor::F32(a)) => Ok(a.clone()),
            Some(StoredTensor::I64(_)) => Err(ckpt_err(
                &self.path,
                format!("{name} holds integers, not floats"),
            )),
            None => Err(ckpt_err(&self.path, format!("no tensor named {name}"))),
        }
    }

    /// An integer tensor by name.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when it is missing or holds floats.
    pub fn i64(&self, name: &str) -> Result<ArrayD<i64>> {
        match self.tensors.get(name) {
            Some(StoredTensor::I64(a)) => Ok(a.clone()),
            Some(StoredTensor::F32(_)) => Err(ckpt_err(
                &self.path,
                format!("{name} holds floats, not integers"),
            )),
            None => Err(ckpt_err(&self.path, format!("no tensor named {name}"))),
        }
    }
}

/// Writes named f32 arrays as a safetensors file, atomically: the data goes
/// to a temporary file in the same folder which is then renamed, so a killed
/// process leaves either the old file or the new one, never half of one.
///
/// # Errors
/// [`Io`](fanaroff_core::Error::Io) when writing fails, [`Error::Checkpoint`] on duplicate names.
pub fn write_tensors(path: impl AsRef<Path>, tensors: &[(String, ArrayD<f32>)]) -> Result<()> {
    let path = path.as_ref();
    let p = path.display().to_string();
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(n, a)| {
            (
                n.clone(),
                a.iter().flat_map(|v| v.to_le_bytes()).collect(),
                a.shape().to_vec(),
            )
        })
        .collect();
    let mut views = BTreeMap::new();
    for (n, b, s) in &bytes {
        let v = TensorView::new(Dtype::F32, s.clone(), b)
            .map_err(|e| ckpt_err(&p, format!("{n}: {e}")))?;
        if views.insert(n.clone(), v).is_some() {
            return Err(ckpt_err(&p, format!("duplicate tensor name {n}")));
        }
    }
    let data = safetensors::serialize(views, None).map_err(|e| ckpt_err(&p, e.to_string()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let io = |source| Error::from(fanaroff_core::IoError::new(path, source));
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&data).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}

/// A model's state by name: parameters, buffers and the masks that are set
/// (`<layer>.weight_mask`), as written by [`save_model`].
pub fn model_tensors(model: &dyn Module) -> Vec<(String, ArrayD<f32>)> {
    let mut v = Vec::new();
    model.visit_params("", &mut |n, t| v.push((n.to_string(), t.data().clone())));
    model.visit_buffers("", &mut |n, t| v.push((n.to_string(), t.data().clone())));
    model.visit_masks("", &mut |n, m| {
        if let Some(a) = m.get() {
            v.push((n.to_string(), a.clone()));
        }
    });
    v
}

/// Saves a model's parameters, buffers and masks under their dotted names.
///
/// # Errors
/// As [`write_tensors`].
pub fn save_model(model: &dyn Module, path: impl AsRef<Path>) -> Result<()> {
    write_tensors(path, &model_tensors(model))
}

/// Loads parameters, buffers and masks by name into a model built with the
/// same architecture. Every parameter and buffer must be present with the
/// same shape; a mask slot takes the file's mask when there is one and is
/// cleared otherwise; extra entries in the file are an error too when
/// `strict`.
///
/// # Errors
/// [`Error::Checkpoint`] naming the first missing, mis-shaped or (strict)
/// unexpected tensor; [`Io`](fanaroff_core::Error::Io) when the file cannot be read.
pub fn load_model(model: &mut dyn Module, path: impl AsRef<Path>, strict: bool) -> Result<()> {
    let file = TensorFile::read(path)?;
    load_from(model, &file, strict)
}

/// Like [`load_model`], from an already-read file.
///
/// # Errors
/// As [`load_model`].
pub fn load_from(model: &mut dyn Module, file: &TensorFile, strict: bool) -> Result<()> {
    let mut used = std::collections::BTreeSet::new();
    let missing = assign_present(model, file, &mut used)?;
    if let Some(n) = missing.first() {
        return Err(ckpt_err(&file.path, format!("no tensor named {n}")));
    }
    load_masks(model, file, &mut used)?;
    if strict && let Some(extra) = file.names().into_iter().find(|n| !used.contains(*n)) {
        return Err(ckpt_err(
            &file.path,
            format!("unexpected tensor {extra} (not in the model)"),
        ));
    }
    Ok(())
}

/// Loads the parameters and buffers the file has (same names, same shapes)
/// into a model and returns the names of those it lacks, which keep their
/// values; masks as in [`load_model`]. For a model that extends the one
/// saved, e.g. a network with an added output layer that starts from a
/// trained network's weights.
///
/// # Errors
/// [`Error::Checkpoint`] for a tensor of the wrong shape or type.
pub fn load_present(model: &mut dyn Module, file: &TensorFile) -> Result<Vec<String>> {
    let mut used = std::collections::BTreeSet::new();
    let missing = assign_present(model, file, &mut used)?;
    load_masks(model, file, &mut used)?;
    Ok(missing)
}

/// Assigns every parameter and buffer the file holds; names the absent ones.
fn assign_present(
    model: &mut dyn Module,
    file: &TensorFile,
    used: &mut std::collections::BTreeSet<String>,
) -> Result<Vec<String>> {
    let mut missing = Vec::new();
    let mut err: Option<Error> = None;
    let mut assign = |n: &str, t: &mut fanaroff_tensor::Tensor| {
        if err.is_some() {
            return;
        }
        if !file.tensors.contains_key(n) {
            missing.push(n.to_string());
            return;
        }
        match file.f32(n) {
            Ok(a) if a.shape() == t.shape() => {
                used.insert(n.to_string());
                match t.data_mut() {
                    Ok(d) => d.assign(&a),
                    Err(e) => err = Some(e.into()),
                }
            }
            Ok(a) => {
                err = Some(ckpt_err(
                    &file.path,
                    format!("{n}: file has shape {:?}, model {:?}", a.shape(), t.shape()),
                ))
            }
            Err(e) => err = Some(e),
        }
    };
    model.visit_params_mut("", &mut assign);
    model.visit_buffers_mut("", &mut assign);
    err.map_or(Ok(missing), Err)
}

/// Sets every mask slot from the file (or clears it when the file has none).
fn load_masks(
    model: &mut dyn Module,
    file: &TensorFile,
    used: &mut std::collections::BTreeSet<String>,
) -> Result<()> {
    let mut err: Option<Error> = None;
    model.visit_masks_mut("", &mut |n, m| {
        if err.is_some() {
            return;
        }
        if !file.tensors.contains_key(n) {
            m.clear();
            return;
        }
        let set = file.f32(n).and_then(|a| {
            m.set(a)
                .map_err(|e| ckpt_err(&file.path, format!("{n}: {e}")))
        });
        match set {
            Ok(()) => {
                used.insert(n.to_string());
            }
            Err(e) => err = Some(e),
        }
    });
    err.map_or(Ok(()), Err)
}
