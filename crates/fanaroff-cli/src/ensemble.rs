//! Deep ensembles of finished runs: members trained on the same split with
//! different initialisations, evaluated as one predictive.

use crate::error::{Result, invalid};
use crate::evaluate::evaluate_classifier;
use crate::experiment::Experiment;
use fanaroff_bayes::Ensemble;
use fanaroff_nn::Module;
use fanaroff_nn::ModuleExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Evaluates the deterministic runs in `run_dirs` (each with its
/// `experiment.toml` and `model.safetensors`) as a deep ensemble: member
/// `m` gives sample `m` of the predictive, so `test_error_mean` is the
/// members' mean error and `test_error_predictive` the ensemble's. The
/// metrics are those of [`evaluate`](crate::evaluate), with the first
/// member's data and evaluation settings.
///
/// # Errors
/// Fewer than two runs; a stochastic member; members with different data
/// or validation splits; missing or unreadable files.
pub fn evaluate_ensemble(run_dirs: &[PathBuf]) -> Result<BTreeMap<String, f64>> {
    if run_dirs.len() < 2 {
        return Err(invalid("ensemble", "need at least two runs"));
    }
    let exps: Vec<Experiment> = run_dirs
        .iter()
        .map(|d| Experiment::from_file(&d.join("experiment.toml")))
        .collect::<Result<_>>()?;
    check_members(&exps, run_dirs)?;
    let members: Vec<Box<dyn Module>> = exps
        .iter()
        .zip(run_dirs)
        .map(|(e, d)| load_member(e, d))
        .collect::<Result<_>>()?;
    let first = &exps[0];
    let data = first.data.load(first.seed)?;
    let ensemble = Ensemble::new(members)?;
    let mut eval = first.evaluation.clone();
    eval.samples = ensemble.members.len();
    eval.entropy_samples = ensemble.members.len();
    evaluate_classifier(&ensemble, &first.data, &data, &eval, first.seed)
}

fn check_members(exps: &[Experiment], dirs: &[PathBuf]) -> Result<()> {
    let split = |e: &Experiment| e.data.split_seed.unwrap_or(e.seed);
    let first = &exps[0];
    for (e, d) in exps.iter().zip(dirs) {
        if e.model.stochastic() {
            return Err(invalid(
                "ensemble",
                format!("{}: members must be deterministic models", d.display()),
            ));
        }
        let same = e.data.mirabest == first.data.mirabest
            && e.data.synthetic == first.data.synthetic
            && e.data.val_fraction == first.data.val_fraction
            && split(e) == split(first);
        if !same {
            return Err(invalid(
                "ensemble",
                format!(
                    "{} was trained on other data or another split than {}",
                    d.display(),
                    dirs[0].display()
                ),
            ));
        }
    }
    Ok(())
}

fn load_member(exp: &Experiment, dir: &Path) -> Result<Box<dyn Module>> {
    let mut built = exp.model.build(&mut StdRng::seed_from_u64(exp.seed))?;
    fanaroff_nn::load_model(&mut built.model, dir.join("model.safetensors"), true)?;
    built.model.as_mut().eval();
    Ok(built.model)
}
