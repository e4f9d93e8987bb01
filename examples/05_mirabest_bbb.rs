//! The Bayes-by-backprop LeNet of Mohan et al. (2022) on MBFRConfident: a
//! thin front end to [`fanaroff::cli::run`], the library function behind
//! `fanaroff train`.
//!
//! Trains the BBB LeNet (every layer variational, GMM prior, sigma = exp(rho),
//! one weight draw per minibatch, loss = sum-NLL + (T/M) KL with T = 0.01;
//! by default with random rotations of the training images, `--no-augment`
//! for the paper's setting), then prints the test error (mean over 100
//! weight draws), calibration (ECE, UCE, cUCE, NLL, Brier summed over
//! classes; 10 equal-width bins) and the mean normalised predictive entropy
//! on MBFRConfident test images vs MBFRUncertain images. The run folder
//! (`--out`) gets `experiment.toml`, `ckpt/`, `model.safetensors` and
//! `record.json`; rerunning with the same folder resumes a killed run.
//!
//! ```text
//! cargo run --release --example 05_mirabest_bbb -- --threads 2
//! cargo run --release --example 05_mirabest_bbb -- --prior gaussian:0.1 --temperature 1 --estimator flipout
//! cargo run --release --example 05_mirabest_bbb -- --epochs 5 --save-experiment my.toml   # then: fanaroff train my.toml
//! ```
//!
//! `--data PATH` must name a readable MiraBest release. Without `--data` the
//! default path is used, or, when it is absent, synthetic FRI/FRII images
//! with a notice.

use fanaroff::bayes::{
    Elbo, Estimator, KlEstimator, KlWeighting, PriorSpec, SigmaTransform, VariationalConfig,
};
use fanaroff::cli::models::BbbLenet;
use fanaroff::cli::{DataSpec, EvalSpec, Experiment, ModelSpec, RunOptions, RunRecord, run};
use fanaroff::data::transform::Augment;
use fanaroff::nn::models::LeNetConfig;
use fanaroff::train::TrainConfig;
use fanaroff_examples::{Flags, argv, data_source, exit_on_error, init_logging};
use std::path::PathBuf;

const HELP: &str = "05_mirabest_bbb: BBB LeNet on MBFRConfident (Mohan et al. 2022)

options (defaults in brackets):
  --data PATH          MiraBest full release (.tar.gz or folder); must exist [../shared/data/mirabest/MiraBest_full_batches.tar.gz, else synthetic]
  --synthetic N        use N synthetic galaxies instead of MiraBest [off]
  --prior SPEC         gmm[:pi,s1,s2] | gaussian:s | laplace:b | laplace_mixture[:pi,b1,b2] | cauchy:s | student:nu,s [gmm:0.75,1,9e-4]
  --kl K               auto (closed form where the prior has one) | mc (single-sample Monte Carlo, the paper's) | mc:N [auto]
  --temperature T      posterior temperature, KL weight T/M [0.01]
  --weighting W        uniform | blundell [uniform]
  --estimator E        reparam | local | flipout [reparam]
  --sigma S            exp | softplus [exp]
  --epochs N           [100]
  --lr LR              Adam learning rate [5e-4]
  --batch N            [50]
  --seed N             [0]
  --no-augment         no random rotations (the paper's setting)
  --val-fraction F     stratified validation split of the training images [0.2]
  --val-samples N      MC draws for the per-epoch validation [4]
  --samples N          MC draws for the test error and calibration [100]
  --entropy-samples N  MC draws for the entropy comparison [100]
  --patience N         early stopping on validation NLL [off]
  --threads N          rayon threads [all]
  --out DIR            run folder; an existing one is resumed [target/mirabest_bbb]
  --save-experiment F  also write the experiment file (for `fanaroff train F`)
  --no-progress        no progress bar";

const FLAGS: [&str; 20] = [
    "--data",
    "--synthetic",
    "--prior",
    "--temperature",
    "--weighting",
    "--estimator",
    "--kl",
    "--sigma",
    "--epochs",
    "--lr",
    "--batch",
    "--seed",
    "--val-fraction",
    "--val-samples",
    "--samples",
    "--entropy-samples",
    "--patience",
    "--threads",
    "--out",
    "--save-experiment",
];

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The data section: a named path (must exist), synthetic images, or the
/// default release when present.
fn data_spec(f: &Flags) -> Res<DataSpec> {
    let mut d = DataSpec {
        val_fraction: f.get("--val-fraction", 0.2)?,
        ..DataSpec::default()
    };
    data_source(f, &mut d)?;
    if f.switch("--no-augment") {
        d.augment = Augment::default();
    }
    Ok(d)
}

fn model_spec(f: &Flags) -> Res<ModelSpec> {
    let weighting = match f.get("--weighting", "uniform".to_string())?.as_str() {
        "uniform" => KlWeighting::Uniform,
        "blundell" => KlWeighting::Blundell,
        o => return Err(format!("--weighting: unknown {o:?}").into()),
    };
    let sigma = match f.get("--sigma", "exp".to_string())?.as_str() {
        "exp" => SigmaTransform::Exp,
        "softplus" => SigmaTransform::Softplus,
        o => return Err(format!("--sigma: unknown {o:?}").into()),
    };
    Ok(ModelSpec::new(BbbLenet {
        lenet: LeNetConfig::default(),
        variational: VariationalConfig::default()
            .prior_spec(f.get("--prior", PriorSpec::default())?)
            .estimator(f.get("--estimator", Estimator::Reparam)?)
            .kl(f.get("--kl", KlEstimator::Auto)?)
            .sigma(sigma),
        elbo: Elbo::default()
            .temperature(f.get("--temperature", 0.01)?)
            .weighting(weighting),
    }))
}

fn experiment(f: &Flags) -> Res<Experiment> {
    let exp = Experiment {
        name: "mirabest_bbb".into(),
        seed: f.get("--seed", 0)?,
        data: data_spec(f)?,
        model: model_spec(f)?,
        study: Default::default(),
        step: Default::default(),
        training: TrainConfig::default()
            .epochs(f.get("--epochs", 100)?)
            .batch_size(f.get("--batch", 50)?)
            .adam(f.get("--lr", 5e-4)?)
            .early_stopping(f.opt("--patience")?),
        evaluation: EvalSpec {
            samples: f.get("--samples", 100)?,
            entropy_samples: f.get("--entropy-samples", 100)?,
            val_samples: f.get("--val-samples", 4)?,
            ..EvalSpec::default()
        },
    };
    exp.check()?;
    Ok(exp)
}

fn report(r: &RunRecord, synthetic: bool, kl: KlEstimator) {
    let m = |k: &str| r.metrics.get(k).copied().unwrap_or(f64::NAN);
    println!("== mirabest_bbb ({}; KL estimator {kl}) ==", r.data);
    println!(
        "epochs run {} (best {:?}); training {:.1} min on {} threads",
        r.epochs_run,
        r.best_epoch,
        r.train_seconds / 60.0,
        r.threads
    );
    println!(
        "test error, mean over draws: {:.2} +- {:.2} %   (error of the predictive mean: {:.2} %)",
        100.0 * m("test_error_mean"),
        100.0 * m("test_error_std"),
        100.0 * m("test_error_predictive")
    );
    println!(
        "calibration (10 bins): ECE {:.4}  UCE {:.4}  cUCE {:.4}  NLL {:.4}  Brier (summed over classes) {:.4}",
        m("ece"),
        m("uce"),
        m("cuce"),
        m("nll"),
        m("brier")
    );
    println!(
        "UCE in the study's convention (8 bins, percent): {:.2}  cUCE {:.2}",
        m("uce_study"),
        m("cuce_study")
    );
    let other = if synthetic {
        "a second synthetic draw (not hard cases)"
    } else {
        "MBFRUncertain"
    };
    println!(
        "mean normalised predictive entropy: MBFRConfident test {:.4}, {other} {:.4} (one-sided Mann-Whitney p {:.3})",
        m("entropy_confident"),
        m("entropy_uncertain"),
        m("entropy_mwu_p")
    );
    println!(
        "mean mutual information / ln 2: MBFRConfident test {:.4}, {other} {:.4} (p {:.3})",
        m("mi_confident"),
        m("mi_uncertain"),
        m("mi_mwu_p")
    );
}

fn main() {
    init_logging();
    exit_on_error((|| {
        let f =
            Flags::parse_with_switches(&argv(), &FLAGS, &["--no-augment", "--no-progress"], HELP)?;
        let exp = experiment(&f)?;
        if let Some(p) = f.opt::<PathBuf>("--save-experiment")? {
            std::fs::write(&p, exp.to_toml()?)?;
            eprintln!("wrote {}", p.display());
        }
        let out: PathBuf = f.get("--out", PathBuf::from("target/mirabest_bbb"))?;
        let opts = RunOptions::new(&out)
            .threads(f.opt("--threads")?)
            .progress(!f.switch("--no-progress"));
        let r = run(&exp, &opts)?;
        report(
            &r,
            exp.data.synthetic.is_some(),
            f.get("--kl", KlEstimator::Auto)?,
        );
        println!(
            "wrote {}/record.json, model.safetensors, ckpt/",
            out.display()
        );
        Ok(())
    })());
}
