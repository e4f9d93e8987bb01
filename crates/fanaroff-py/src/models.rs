//! `fanaroff._native.models`: trained run folders (predict with
//! uncertainty, prune, attention maps) and experiments run from Python.

use crate::errors::{cli, guarded, value};
use fanaroff_cli::{Experiment, RunOptions, SavedRun, as_nchw};
use fanaroff_prune::CriterionName;
use numpy::{IntoPyArray, PyArray3, PyArrayDyn, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;

/// What pruning did: criterion, sparsity, `(layer, total, kept)` per layer.
type PruneSummary = (String, f64, Vec<(String, usize, usize)>);

/// A finished run folder with its trained model.
#[pyclass(module = "fanaroff._native.models")]
pub struct Run {
    inner: SavedRun,
}

fn images(x: PyReadonlyArrayDyn<'_, u8>) -> PyResult<ndarray::Array4<u8>> {
    as_nchw(x.as_array().to_owned()).map_err(cli)
}

#[pymethods]
impl Run {
    #[new]
    fn open(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = guarded(|| py.detach(|| SavedRun::open(&path)).map_err(cli))?;
        Ok(Run { inner })
    }

    /// The run record as JSON text.
    fn record_json(&self) -> PyResult<String> {
        serde_json::to_string(self.inner.record()).map_err(value)
    }

    /// The experiment as TOML text.
    fn experiment_toml(&self) -> PyResult<String> {
        self.inner.experiment().to_toml().map_err(cli)
    }

    /// Whether predictions vary between weight draws.
    fn stochastic(&self) -> bool {
        self.inner.stochastic()
    }

    /// The model kind.
    fn kind(&self) -> &'static str {
        self.inner.experiment().model.label()
    }

    /// The batch size of the run's evaluation.
    fn eval_batch_size(&self) -> usize {
        self.inner.experiment().evaluation.batch_size
    }

    /// The run's images split as the run split them: a dict of data sets
    /// (`train`, `val`, `test`, `uncertain`).
    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = guarded(|| py.detach(|| self.inner.data()).map_err(cli))?;
        let out = PyDict::new(py);
        out.set_item("train", crate::data::dataset_dict(py, d.train)?)?;
        out.set_item("val", crate::data::dataset_dict(py, d.val)?)?;
        out.set_item("test", crate::data::dataset_dict(py, d.test)?)?;
        out.set_item("uncertain", crate::data::dataset_dict(py, d.uncertain)?)?;
        Ok(out)
    }

    /// Class probabilities of `draws` weight draws `[S, N, K]` float32.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        images_u8: PyReadonlyArrayDyn<'py, u8>,
        draws: usize,
        seed: u64,
        batch_size: usize,
    ) -> PyResult<Bound<'py, PyArray3<f32>>> {
        let x = images(images_u8)?;
        let p = guarded(|| {
            py.detach(|| {
                self.inner
                    .predict_batched(x.view(), draws, seed, batch_size)
            })
            .map_err(cli)
        })?;
        Ok(p.into_pyarray(py))
    }

    /// Prunes in memory; returns `(criterion, sparsity, [(layer, total, kept)])`.
    fn prune(&mut self, py: Python<'_>, criterion: &str, fraction: f64) -> PyResult<PruneSummary> {
        let c: CriterionName = criterion.parse().map_err(value)?;
        let inner = &mut self.inner;
        let r = guarded(|| py.detach(|| inner.prune(c, fraction)).map_err(cli))?;
        let layers = r
            .layers
            .iter()
            .map(|l| (l.layer.clone(), l.total, l.kept))
            .collect();
        Ok((r.criterion.clone(), r.sparsity(), layers))
    }

    /// One `[N, H, W]` map per gate, finest first.
    fn attention_maps<'py>(
        &self,
        py: Python<'py>,
        images_u8: PyReadonlyArrayDyn<'py, u8>,
        seed: u64,
    ) -> PyResult<Vec<Bound<'py, PyArrayDyn<f32>>>> {
        let x = images(images_u8)?;
        let maps = guarded(|| {
            py.detach(|| self.inner.attention_maps(x.view(), seed))
                .map_err(cli)
        })?;
        Ok(maps.into_iter().map(|m| m.into_pyarray(py)).collect())
    }
}

/// Runs the experiment file `path` in the folder `out`; returns the
/// record as JSON text.
#[pyfunction]
#[pyo3(signature = (path, out, threads, progress))]
fn run(
    py: Python<'_>,
    path: PathBuf,
    out: PathBuf,
    threads: Option<usize>,
    progress: bool,
) -> PyResult<String> {
    let record = guarded(|| {
        py.detach(|| {
            let exp = Experiment::from_file(&path)?;
            fanaroff_cli::run(
                &exp,
                &RunOptions::new(&out).threads(threads).progress(progress),
            )
        })
        .map_err(cli)
    })?;
    serde_json::to_string(&record).map_err(value)
}

/// The `models` submodule.
pub fn module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    let m = PyModule::new(py, "models")?;
    m.add_class::<Run>()?;
    m.add_function(wrap_pyfunction!(run, &m)?)?;
    Ok(m)
}
