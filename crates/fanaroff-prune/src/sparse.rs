//! A compressed file for pruned models: kept values and a bit mask.
//!
//! The file is safetensors, so any safetensors reader can list it:
//!
//! ```text
//! __metadata__            {"format": "fanaroff-sparse", "version": "1"}
//! <layer>.weight_mask.bits  U8 [ceil(n / 8)]  bit i (least significant first in
//!                           byte i / 8) is 1 when weight i (row-major) is kept
//! <param>.kept              F32 [k]  the k kept entries of every parameter of
//!                           that layer with the mask's shape (weight, or
//!                           weight_mu and weight_rho), in row-major order
//! <name>                    F32, dense: every other parameter and buffer
//! ```
//!
//! A weight costs one bit plus 4 bytes per stored array if kept (a
//! variational weight: 8), so a BBB layer with 30 % pruned takes
//! 0.7 x 8 + 1/8 = 5.7 bytes per weight instead of 8. Pruned entries of
//! `weight_rho` are not stored; loading sets them to zero, which no output
//! sees while the mask is set.

use crate::error::{Error, Result};
use fanaroff_nn::{Module, TensorFile, join, load_from, model_tensors};
use ndarray::{ArrayD, IxDyn};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

const FORMAT: &str = "fanaroff-sparse";
const MASK: &str = ".weight_mask";

/// Sizes of a sparse file and of the dense file of the same model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SparseSize {
    /// Bytes of the sparse file.
    pub sparse_bytes: usize,
    /// Bytes [`save_model`](fanaroff_nn::save_model) writes for the same
    /// model (masks included, as F32).
    pub dense_bytes: usize,
    /// Bytes of a dense file of the parameters and buffers alone (no masks):
    /// the size of the unpruned model's file.
    pub unmasked_bytes: usize,
}

impl SparseSize {
    /// `sparse / unmasked`: the saving against the unpruned model's file.
    pub fn ratio(&self) -> f64 {
        self.sparse_bytes as f64 / self.unmasked_bytes as f64
    }
}

/// One entry of the file before serialisation.
struct Entry {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

fn f32_entry(shape: &[usize], values: impl Iterator<Item = f32>) -> Entry {
    Entry {
        dtype: Dtype::F32,
        shape: shape.to_vec(),
        bytes: values.flat_map(f32::to_le_bytes).collect(),
    }
}

/// The mask covering a parameter: the mask of its layer when the parameter
/// is one of the layer's weight tensors (`weight`, `weight_mu`,
/// `weight_rho`) and has the mask's shape.
fn mask_of<'a>(
    param: &str,
    shape: &[usize],
    masks: &'a HashMap<String, ArrayD<f32>>,
) -> Option<&'a ArrayD<f32>> {
    let (layer, field) = param.rsplit_once('.').unwrap_or(("", param));
    if !field.starts_with("weight") {
        return None;
    }
    let m = masks.get(&join(layer, "weight_mask"))?;
    (m.shape() == shape).then_some(m)
}

fn encode(model: &dyn Module) -> BTreeMap<String, Entry> {
    let tensors = model_tensors(model);
    let masks: HashMap<String, ArrayD<f32>> = tensors
        .iter()
        .filter(|(n, _)| n.ends_with(MASK))
        .cloned()
        .collect();
    let mut out = BTreeMap::new();
    for (name, a) in &tensors {
        if let Some(m) = masks.get(name) {
            let bits = pack_bits(m.iter().map(|&v| v != 0.0));
            out.insert(
                format!("{name}.bits"),
                Entry {
                    dtype: Dtype::U8,
                    shape: vec![bits.len()],
                    bytes: bits,
                },
            );
        } else if let Some(m) = mask_of(name, a.shape(), &masks) {
            let kept: Vec<f32> = a
                .iter()
                .zip(m.iter())
                .filter(|(_, k)| **k != 0.0)
                .map(|(v, _)| *v)
                .collect();
            out.insert(
                format!("{name}.kept"),
                f32_entry(&[kept.len()], kept.into_iter()),
            );
        } else {
            out.insert(name.clone(), f32_entry(a.shape(), a.iter().copied()));
        }
    }
    out
}

fn pack_bits(bits: impl Iterator<Item = bool>) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, b) in bits.enumerate() {
        if i % 8 == 0 {
            out.push(0u8);
        }
        if b {
            *out.last_mut().expect("pushed") |= 1 << (i % 8);
        }
    }
    out
}

fn serialize(entries: &BTreeMap<String, Entry>, path: &str, sparse: bool) -> Result<Vec<u8>> {
    let mut views = BTreeMap::new();
    for (n, e) in entries {
        let v = TensorView::new(e.dtype, e.shape.clone(), &e.bytes)
            .map_err(|err| format_err(path, format!("{n}: {err}")))?;
        views.insert(n.clone(), v);
    }
    let meta = sparse.then(|| {
        HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("version".to_string(), "1".to_string()),
        ])
    });
    safetensors::serialize(views, meta).map_err(|e| format_err(path, e.to_string()))
}

fn format_err(path: &str, msg: impl Into<String>) -> Error {
    Error::Format {
        path: path.to_string(),
        msg: msg.into(),
    }
}

/// Bytes of the dense safetensors file of `model` (what `save_model` writes,
/// masks included).
///
/// # Errors
/// Serialisation errors.
pub fn dense_size(model: &dyn Module) -> Result<usize> {
    dense_bytes(model_tensors(model))
}

fn dense_bytes(tensors: Vec<(String, ArrayD<f32>)>) -> Result<usize> {
    let dense: BTreeMap<String, Entry> = tensors
        .iter()
        .map(|(n, a)| (n.clone(), f32_entry(a.shape(), a.iter().copied())))
        .collect();
    Ok(serialize(&dense, "<dense>", false)?.len())
}

/// Saves `model` in the sparse layout (see the module docs), atomically.
/// Layers without a mask are stored dense.
///
/// # Errors
/// [`Io`](fanaroff_core::Error::Io) when the file cannot be written.
pub fn save_sparse(model: &dyn Module, path: impl AsRef<Path>) -> Result<SparseSize> {
    let path = path.as_ref();
    let p = path.display().to_string();
    let data = serialize(&encode(model), &p, true)?;
    fanaroff_train::write_atomic(path, &data)?;
    let unmasked = model_tensors(model)
        .into_iter()
        .filter(|(n, _)| !n.ends_with(MASK))
        .collect();
    Ok(SparseSize {
        sparse_bytes: data.len(),
        dense_bytes: dense_size(model)?,
        unmasked_bytes: dense_bytes(unmasked)?,
    })
}

/// Loads a file written by [`save_sparse`] into a model of the same
/// architecture: parameters, buffers and masks; pruned entries become zero.
/// Every tensor of the model must be in the file and every tensor of the
/// file must be used.
///
/// # Errors
/// [`Io`](fanaroff_core::Error::Io) for an unreadable file, [`Error::Format`] for a file that is
/// not sparse-model safetensors, has the wrong counts, or does not fit the model.
pub fn load_sparse(model: &mut dyn Module, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(fanaroff_core::io(path))?;
    let (_, meta) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| format_err(&p, format!("not a safetensors file: {e}")))?;
    if meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get("format"))
        .map(String::as_str)
        != Some(FORMAT)
    {
        return Err(format_err(
            &p,
            "not a fanaroff sparse model (metadata format missing)",
        ));
    }
    let st = SafeTensors::deserialize(&bytes).map_err(|e| format_err(&p, e.to_string()))?;
    let arrays = decode(model, &st, &p)?;
    let file = TensorFile::from_arrays(&p, arrays);
    load_from(model, &file, true).map_err(|e| format_err(&p, e.to_string()))
}

/// Rebuilds the dense arrays the model expects from the file's entries.
fn decode(model: &dyn Module, st: &SafeTensors<'_>, p: &str) -> Result<Vec<(String, ArrayD<f32>)>> {
    let mut expected = Vec::new();
    model.visit_params("", &mut |n, t| {
        expected.push((n.to_string(), t.shape().to_vec()))
    });
    model.visit_buffers("", &mut |n, t| {
        expected.push((n.to_string(), t.shape().to_vec()))
    });
    model.visit_masks("", &mut |n, m| {
        expected.push((n.to_string(), m.shape().to_vec()))
    });
    let n_entries = st.names().len();
    let mut masks: HashMap<String, ArrayD<f32>> = HashMap::new();
    let mut out = Vec::new();
    let mut used = 0;
    for (n, shape) in expected.iter().filter(|(n, _)| n.ends_with(MASK)) {
        if let Ok(v) = st.tensor(&format!("{n}.bits")) {
            let m = unpack_mask(&v, shape, n, p)?;
            masks.insert(n.clone(), m.clone());
            out.push((n.clone(), m));
            used += 1;
        }
    }
    for (n, shape) in expected.iter().filter(|(n, _)| !n.ends_with(MASK)) {
        if let Ok(v) = st.tensor(n) {
            out.push((n.clone(), f32_array(&v, shape, n, p)?));
        } else if let (Ok(v), Some(m)) =
            (st.tensor(&format!("{n}.kept")), mask_of(n, shape, &masks))
        {
            out.push((n.clone(), scatter(&v, m, n, p)?));
        } else {
            return Err(format_err(p, format!("{n} is missing")));
        }
        used += 1;
    }
    if used != n_entries {
        return Err(format_err(
            p,
            format!("{n_entries} entries, {used} of them used by the model"),
        ));
    }
    Ok(out)
}

fn f32_values(v: &TensorView<'_>, n: &str, p: &str) -> Result<Vec<f32>> {
    if v.dtype() != Dtype::F32 {
        return Err(format_err(
            p,
            format!("{n}: dtype {:?}, expected F32", v.dtype()),
        ));
    }
    Ok(v.data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

fn f32_array(v: &TensorView<'_>, shape: &[usize], n: &str, p: &str) -> Result<ArrayD<f32>> {
    if v.shape() != shape {
        return Err(format_err(
            p,
            format!("{n}: file has shape {:?}, model {shape:?}", v.shape()),
        ));
    }
    ArrayD::from_shape_vec(IxDyn(shape), f32_values(v, n, p)?)
        .map_err(|e| format_err(p, format!("{n}: {e}")))
}

fn unpack_mask(v: &TensorView<'_>, shape: &[usize], n: &str, p: &str) -> Result<ArrayD<f32>> {
    let len: usize = shape.iter().product();
    if v.dtype() != Dtype::U8 || v.data().len() != len.div_ceil(8) {
        return Err(format_err(
            p,
            format!(
                "{n}.bits: expected {} bytes of U8 for {len} weights",
                len.div_ceil(8)
            ),
        ));
    }
    let d = v.data();
    let bits = (0..len).map(|i| f32::from((d[i / 8] >> (i % 8)) & 1));
    Ok(ArrayD::from_shape_vec(IxDyn(shape), bits.collect()).expect("len entries"))
}

fn scatter(v: &TensorView<'_>, mask: &ArrayD<f32>, n: &str, p: &str) -> Result<ArrayD<f32>> {
    let kept = f32_values(v, n, p)?;
    let count = mask.iter().filter(|&&k| k != 0.0).count();
    if kept.len() != count {
        return Err(format_err(
            p,
            format!(
                "{n}.kept has {} values for {count} kept weights",
                kept.len()
            ),
        ));
    }
    let mut it = kept.into_iter();
    Ok(mask.mapv(|k| {
        if k != 0.0 {
            it.next().expect("counted")
        } else {
            0.0
        }
    }))
}
