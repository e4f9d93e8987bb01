//! `fanaroff._native.data`: the MiraBest reader, the FITS-to-MiraBest
//! image pipeline and the synthetic generator, as numpy arrays.

use crate::errors::{data as data_err, guarded};
use fanaroff_data::fits::{Recipe, convert_dir, fits_to_image as convert_one};
use fanaroff_data::{Dataset, MiraBest, Subset, SyntheticConfig};
use ndarray::Axis;
use numpy::{IntoPyArray, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;

/// A data set as a dict: `images` `[N, H, W]` uint8, `labels` `[N]` int64,
/// `codes` `[N]` int64 (the MiraBest label code, -1 when unknown),
/// `filenames`, `class_names`.
pub fn dataset_dict<'py>(py: Python<'py>, ds: Dataset) -> PyResult<Bound<'py, PyDict>> {
    let codes: Vec<i64> = ds
        .samples()
        .iter()
        .map(|s| s.code.map_or(-1, |c| i64::from(c.value())))
        .collect();
    let filenames: Vec<String> = ds.samples().iter().map(|s| s.filename.clone()).collect();
    let (images, labels, names, _) = ds.into_parts();
    let images = images.remove_axis(Axis(1));
    let labels: Vec<i64> = labels.into_iter().map(|v| v as i64).collect();
    let out = PyDict::new(py);
    out.set_item("images", images.into_pyarray(py))?;
    out.set_item("labels", labels.into_pyarray(py))?;
    out.set_item("codes", codes.into_pyarray(py))?;
    out.set_item("filenames", filenames)?;
    out.set_item("class_names", names)?;
    Ok(out)
}

/// Reads a MiraBest release (folder or `.tar.gz`): one split (`train`,
/// `test` or `all`), optionally one subset (`MBFRConfident`, ...).
#[pyfunction]
#[pyo3(signature = (path, split, subset=None))]
fn read_mirabest<'py>(
    py: Python<'py>,
    path: PathBuf,
    split: &str,
    subset: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    let subset: Option<Subset> = subset.map(str::parse).transpose().map_err(data_err)?;
    let ds = guarded(|| {
        py.detach(|| -> fanaroff_data::Result<Dataset> {
            let mb = MiraBest::open(&path)?;
            let ds = match split {
                "train" => mb.train().clone(),
                "test" => mb.test().clone(),
                "all" => mb.all()?,
                other => {
                    return Err(fanaroff_data::Error::InvalidParameter {
                        name: "split",
                        reason: format!("{other:?}: expected \"train\", \"test\" or \"all\""),
                    });
                }
            };
            match subset {
                Some(s) => ds.subset(s),
                None => Ok(ds),
            }
        })
        .map_err(data_err)
    })?;
    dataset_dict(py, ds)
}

/// `n` synthetic FRI/FRII images (seeded), shaped like MiraBest.
#[pyfunction]
#[pyo3(signature = (n, seed, image_size))]
fn synthetic(
    py: Python<'_>,
    n: usize,
    seed: u64,
    image_size: usize,
) -> PyResult<Bound<'_, PyDict>> {
    let cfg = SyntheticConfig::default()
        .with_seed(seed)
        .with_image_size(image_size)
        .check()
        .map_err(data_err)?;
    let ds = guarded(|| py.detach(|| cfg.generate(n)).map_err(data_err))?;
    dataset_dict(py, ds)
}

fn recipe(
    clip_sigma: f64,
    max_iters: usize,
    threshold_sigma: f64,
    crop: usize,
) -> PyResult<Recipe> {
    Recipe::default()
        .with_clip_sigma(clip_sigma)
        .with_max_iters(max_iters)
        .with_threshold_sigma(threshold_sigma)
        .with_crop(crop)
        .check()
        .map_err(data_err)
}

/// One FITS cut-out as a MiraBest-style image `[crop, crop]` uint8.
#[pyfunction]
#[pyo3(signature = (path, clip_sigma, max_iters, threshold_sigma, crop))]
fn fits_to_image<'py>(
    py: Python<'py>,
    path: PathBuf,
    clip_sigma: f64,
    max_iters: usize,
    threshold_sigma: f64,
    crop: usize,
) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let r = recipe(clip_sigma, max_iters, threshold_sigma, crop)?;
    let img = guarded(|| py.detach(|| convert_one(&path, &r)).map_err(data_err))?;
    Ok(img.into_pyarray(py))
}

/// Every `.fits` file of a folder: `images` `[N, crop, crop]`, `stems`
/// (sorted file names without `.fits`) and `failures` (`(path, message)`).
#[pyfunction]
#[pyo3(signature = (folder, clip_sigma, max_iters, threshold_sigma, crop))]
fn convert_fits_dir<'py>(
    py: Python<'py>,
    folder: PathBuf,
    clip_sigma: f64,
    max_iters: usize,
    threshold_sigma: f64,
    crop: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let r = recipe(clip_sigma, max_iters, threshold_sigma, crop)?;
    let c = guarded(|| {
        py.detach(|| convert_dir(&folder, &r, false))
            .map_err(data_err)
    })?;
    let failures: Vec<(String, String)> = c
        .failures
        .iter()
        .map(|(p, e)| (p.display().to_string(), e.to_string()))
        .collect();
    let out = PyDict::new(py);
    out.set_item("images", c.images.into_pyarray(py))?;
    out.set_item("stems", c.stems)?;
    out.set_item("failures", failures)?;
    Ok(out)
}

/// The `data` submodule.
pub fn module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    let m = PyModule::new(py, "data")?;
    m.add_function(wrap_pyfunction!(read_mirabest, &m)?)?;
    m.add_function(wrap_pyfunction!(synthetic, &m)?)?;
    m.add_function(wrap_pyfunction!(fits_to_image, &m)?)?;
    m.add_function(wrap_pyfunction!(convert_fits_dir, &m)?)?;
    Ok(m)
}
