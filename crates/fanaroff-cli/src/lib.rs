//! Experiments as files, runs as records, sweeps locally or on SLURM: the
//! library behind the `fanaroff` command.
//!
//! An [`Experiment`] is one TOML file naming the data, the model, the
//! training loop's settings and the evaluation. [`run`] trains and
//! evaluates it in a folder and returns a [`RunRecord`] (also written there
//! as JSON, atomically, last). A [`Grid`] expands a base experiment over
//! axes of values into numbered runs; a [`Sweep`] runs them one index at a
//! time (what a SLURM array task does), all with a bounded pool of worker
//! processes, or writes an `sbatch --array` script, and [`collect`]s the
//! records into CSV and markdown tables with mean ± std over seeds.
//!
//! ```no_run
//! use fanaroff_cli::{Experiment, RunOptions, run};
//! let exp = Experiment::from_toml(r#"
//!     name = "quick"
//!     [data]
//!     synthetic = 256
//!     [model]
//!     kind = "bbb_lenet"
//!     [training]
//!     epochs = 5
//! "#)?;
//! let record = run(&exp, &RunOptions::new("target/quick").threads(Some(2)))?;
//! println!("test error {:.3}", record.metrics["test_error_mean"]);
//! # Ok::<(), fanaroff_cli::Error>(())
//! ```
#![deny(missing_docs)]

#[cfg(feature = "binary")]
mod calibrate_cmd;
mod collect;
mod collect_keys;
mod collect_rows;
mod data;
mod ensemble;
mod error;
mod evaluate;
mod experiment;
mod grid;
mod heatmaps;
mod inspect;
mod log;
mod model;
pub mod models;
mod record;
mod registry;
mod run;
mod saved;
mod slurm;
mod step;
mod steps;
mod studies;
mod study;
mod sweep;

#[cfg(feature = "binary")]
pub use calibrate_cmd::CalibrateArgs;
pub use collect::{Collected, collect};
pub use data::{DataSpec, RunData, ScalingSpec};
pub use ensemble::evaluate_ensemble;
pub use error::{Error, Result};
pub use evaluate::{evaluate, evaluate_classifier, evaluate_experiment, evaluate_saved};
pub use experiment::{EvalSpec, Experiment};
pub use grid::{Grid, PlannedRun};
pub use heatmaps::MetricTable;
pub use inspect::{fits_summary, release_stats};
pub use log::init_stderr_log;
pub use model::{Built, ModelSettings, ModelSetup, ModelSpec, Stage, Step};
pub use record::{METRICS, RECORD_FILE, RunRecord, check_metric};
pub use registry::{
    model_kinds, register_model, register_step, register_study, step_kinds, study_kinds,
};
pub use run::{RunOptions, run};
pub use saved::{SavedRun, as_nchw};
pub use slurm::SlurmOptions;
pub use step::{StepInput, StepSettings, StepSetup, StepSpec, Wrapped};
pub use steps::{MmdAdaptation, MmdKernel};
pub use studies::{
    AttentionStudySpec, EnsembleStudy, LaplaceSpec, MapSpreadStudySpec, PruneStudySpec,
    RobustnessStudySpec, SprayStudy, TrainStudy, UncertaintyStudy,
};
pub use study::{ROWS_FILE, StudyContext, StudySettings, StudySetup, StudySpec, fresh_model};
pub use sweep::{RunState, Sweep};

// The README's examples, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
