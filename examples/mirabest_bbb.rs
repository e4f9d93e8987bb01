//! The Bayes-by-backprop LeNet of Mohan et al. (2022) on MBFRConfident.
//!
//! Trains the BBB LeNet (every layer variational, GMM prior, sigma = exp(rho),
//! one weight draw per minibatch, loss = sum-NLL + (T/M) KL with T = 0.01;
//! by default with random rotations of the training images, `--no-augment`
//! for the paper's setting),
//! then prints the test error (mean over 100 weight draws), the calibration
//! metrics (ECE, UCE, cUCE, NLL, Brier; 10 equal-width bins) and the mean
//! normalised predictive entropy on MBFRConfident test images vs MBFRUncertain
//! images. Saves `model.safetensors`, `report.json` and the training history
//! into `--out` (checkpoints under `--out/ckpt`; `--resume` continues a killed
//! run).
//!
//! ```text
//! cargo run --release --example mirabest_bbb -- --threads 2
//! cargo run --release --example mirabest_bbb -- --prior gaussian:0.1 --temperature 1 --estimator flipout
//! cargo run --release --example mirabest_bbb -- --help
//! ```
//!
//! Without the MiraBest release (path from `--data`, default
//! `../shared/data/mirabest/MiraBest_full_batches.tar.gz`) it falls back to
//! synthetic FRI/FRII images with a notice.

use fanaroff::bayes::{
    Elbo, ElboStep, Estimator, KlWeighting, PredictConfig, PriorSpec, SigmaTransform,
    VariationalConfig, bbb_lenet, num_weights, per_sample_error, predict_samples, predictive_mean,
};
use fanaroff::calibrate::{CalibrationReport, Predictions, ReportConfig, normalised_entropy};
use fanaroff::data::transform::Augment;
use fanaroff::data::{Dataset, MiraBest, Subset, SyntheticConfig};
use fanaroff::nn::models::LeNetConfig;
use fanaroff::nn::save_model;
use fanaroff::train::{ArrayLoader, Loader, TrainConfig, Trainer, Validation};
use fanaroff_examples::{SCALING, init_logging};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::path::PathBuf;
use std::time::Instant;

const HELP: &str = "mirabest_bbb: BBB LeNet on MBFRConfident (Mohan et al. 2022)

options (defaults in brackets):
  --data PATH          MiraBest full release (.tar.gz or folder) [../shared/data/mirabest/MiraBest_full_batches.tar.gz]
  --synthetic N        use N synthetic galaxies instead of MiraBest [off]
  --prior SPEC         gmm[:pi,s1,s2] | gaussian:s | laplace:b | cauchy:s | student:nu,s [gmm:0.75,1,9e-4]
  --temperature T      posterior temperature, KL weight T/M [0.01]
  --weighting W        uniform | blundell [uniform]
  --estimator E        reparam | local | flipout [reparam]
  --sigma S            exp | softplus [exp]
  --epochs N           [100]
  --lr LR              Adam learning rate [5e-4]
  --batch N            [50]
  --seed N             [0]
  --augment            random rotations (0-360 deg) of the training images [on]
  --no-augment         no augmentation (the paper's setting)
  --val-fraction F     stratified validation split of the training images [0.2]
  --val-samples N      MC draws for the per-epoch validation [4]
  --samples N          MC draws for the test error and calibration [100]
  --entropy-samples N  MC draws for the entropy comparison [100]
  --patience N         early stopping on validation NLL [off]
  --threads N          rayon threads [all]
  --out DIR            output folder [target/mirabest_bbb]
  --resume             continue the run in --out/ckpt
  --no-progress        no progress bar
  --bench N            only time N minibatch steps (BBB vs deterministic twin, sampling + KL alone) and exit";

#[derive(Debug, Clone)]
struct Args {
    data: PathBuf,
    synthetic: Option<usize>,
    prior: PriorSpec,
    temperature: f64,
    weighting: KlWeighting,
    estimator: Estimator,
    sigma: SigmaTransform,
    epochs: usize,
    lr: f32,
    batch: usize,
    seed: u64,
    augment: bool,
    val_fraction: f64,
    val_samples: usize,
    samples: usize,
    entropy_samples: usize,
    patience: Option<usize>,
    threads: Option<usize>,
    out: PathBuf,
    resume: bool,
    progress: bool,
    bench: Option<usize>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut a = Args {
        data: PathBuf::from("../shared/data/mirabest/MiraBest_full_batches.tar.gz"),
        synthetic: None,
        prior: PriorSpec::default(),
        temperature: 0.01,
        weighting: KlWeighting::Uniform,
        estimator: Estimator::Reparam,
        sigma: SigmaTransform::Exp,
        epochs: 100,
        lr: 5e-4,
        batch: 50,
        seed: 0,
        augment: true,
        val_fraction: 0.2,
        val_samples: 4,
        samples: 100,
        entropy_samples: 100,
        patience: None,
        threads: None,
        out: PathBuf::from("target/mirabest_bbb"),
        resume: false,
        progress: true,
        bench: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        fn num<T: std::str::FromStr>(name: &str, v: String) -> Result<T, String> {
            v.parse::<T>()
                .map_err(|_| format!("{name}: cannot parse {v:?}"))
        }
        match flag.as_str() {
            "--help" | "-h" => return Ok(None),
            "--data" => a.data = PathBuf::from(val("--data")?),
            "--synthetic" => a.synthetic = Some(num("--synthetic", val("--synthetic")?)?),
            "--prior" => a.prior = val("--prior")?.parse().map_err(|e| format!("{e}"))?,
            "--temperature" => a.temperature = num("--temperature", val("--temperature")?)?,
            "--weighting" => {
                a.weighting = match val("--weighting")?.as_str() {
                    "uniform" => KlWeighting::Uniform,
                    "blundell" => KlWeighting::Blundell,
                    o => return Err(format!("--weighting: unknown {o:?}")),
                }
            }
            "--estimator" => {
                a.estimator = val("--estimator")?.parse().map_err(|e| format!("{e}"))?
            }
            "--sigma" => {
                a.sigma = match val("--sigma")?.as_str() {
                    "exp" => SigmaTransform::Exp,
                    "softplus" => SigmaTransform::Softplus,
                    o => return Err(format!("--sigma: unknown {o:?}")),
                }
            }
            "--epochs" => a.epochs = num("--epochs", val("--epochs")?)?,
            "--lr" => a.lr = num("--lr", val("--lr")?)?,
            "--batch" => a.batch = num("--batch", val("--batch")?)?,
            "--seed" => a.seed = num("--seed", val("--seed")?)?,
            "--augment" => a.augment = true,
            "--no-augment" => a.augment = false,
            "--val-fraction" => a.val_fraction = num("--val-fraction", val("--val-fraction")?)?,
            "--val-samples" => a.val_samples = num("--val-samples", val("--val-samples")?)?,
            "--samples" => a.samples = num("--samples", val("--samples")?)?,
            "--entropy-samples" => {
                a.entropy_samples = num("--entropy-samples", val("--entropy-samples")?)?
            }
            "--patience" => a.patience = Some(num("--patience", val("--patience")?)?),
            "--threads" => a.threads = Some(num("--threads", val("--threads")?)?),
            "--out" => a.out = PathBuf::from(val("--out")?),
            "--resume" => a.resume = true,
            "--no-progress" => a.progress = false,
            "--bench" => a.bench = Some(num("--bench", val("--bench")?)?),
            other => return Err(format!("unknown option {other:?}; see --help")),
        }
    }
    if !(a.val_fraction > 0.0 && a.val_fraction < 1.0) {
        return Err("--val-fraction must be in (0, 1)".into());
    }
    Ok(Some(a))
}

/// Train / validation / test (MBFRConfident) and the MBFRUncertain images.
struct Data {
    source: String,
    train: Dataset,
    val: Dataset,
    test: Dataset,
    uncertain: Dataset,
}

fn load_data(a: &Args) -> Result<Data, Box<dyn std::error::Error>> {
    let mut rng = StdRng::seed_from_u64(a.seed);
    let from_mb = if a.synthetic.is_some() {
        None
    } else {
        match MiraBest::open(&a.data) {
            Ok(mb) => Some(mb),
            Err(e) => {
                eprintln!("notice: MiraBest not available ({e}); falling back to synthetic data");
                None
            }
        }
    };
    Ok(match from_mb {
        Some(mb) => {
            let conf = mb.train().subset(Subset::MbFrConfident)?;
            let (train, val) = conf.stratified_split(a.val_fraction, &mut rng)?;
            let test = mb.test().subset(Subset::MbFrConfident)?;
            let uncertain = Dataset::concat(&[
                &mb.train().subset(Subset::MbFrUncertain)?,
                &mb.test().subset(Subset::MbFrUncertain)?,
            ])?;
            Data {
                source: format!("MiraBest full release at {}", a.data.display()),
                train,
                val,
                test,
                uncertain,
            }
        }
        None => {
            let n = a.synthetic.unwrap_or(832);
            let all = SyntheticConfig::default().with_seed(a.seed).generate(n)?;
            let (trainval, test) = all.stratified_split(0.125, &mut rng)?;
            let (train, val) = trainval.stratified_split(a.val_fraction, &mut rng)?;
            // No human-uncertain synthetic set: use a differently seeded draw.
            let uncertain = SyntheticConfig::default()
                .with_seed(a.seed + 1)
                .generate(n / 2)?;
            Data {
                source: format!("synthetic ({n} images, seed {})", a.seed),
                train,
                val,
                test,
                uncertain,
            }
        }
    })
}

fn loader(d: &Dataset) -> Result<ArrayLoader<u8>, Box<dyn std::error::Error>> {
    Ok(ArrayLoader::from_dataset(d, SCALING)?)
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, var.sqrt())
}

fn mean_normalised_entropy(
    samples: ndarray::ArrayView3<'_, f32>,
) -> Result<f64, Box<dyn std::error::Error>> {
    let mean = predictive_mean(samples).mapv(f64::from);
    let h = normalised_entropy(mean.view())?;
    Ok(h.mean().unwrap_or(f64::NAN))
}

fn run(a: Args) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(t) = a.threads {
        fanaroff::tensor::set_num_threads(t)?;
    }
    if let Some(n) = a.bench {
        return bench(&a, n);
    }
    let data = load_data(&a)?;
    eprintln!(
        "data: {}; train {} / val {} / test {} (MBFRConfident), {} MBFRUncertain",
        data.source,
        data.train.len(),
        data.val.len(),
        data.test.len(),
        data.uncertain.len()
    );
    // Rotations act on the raw images (background 0), before scaling.
    let augment = Augment::default().with_rotation(180.0).check()?;
    let train = loader(&data.train)?.with_augment(augment);
    let val = loader(&data.val)?;
    let (test, uncertain) = (loader(&data.test)?, loader(&data.uncertain)?);
    let (test_x, uncertain_x) = (test.inputs(), uncertain.inputs());

    let vcfg = VariationalConfig::default()
        .prior_spec(a.prior)
        .estimator(a.estimator)
        .sigma(a.sigma)
        .check()?;
    let mut model = bbb_lenet(
        &LeNetConfig::default(),
        &vcfg,
        &mut StdRng::seed_from_u64(a.seed),
    )?;
    let elbo = Elbo::default()
        .temperature(a.temperature)
        .weighting(a.weighting)
        .check()?;
    std::fs::create_dir_all(&a.out)?;
    let tcfg = TrainConfig::default()
        .epochs(a.epochs)
        .batch_size(a.batch)
        .adam(a.lr)
        .seed(a.seed)
        .augment(a.augment)
        .early_stopping(a.patience)
        .checkpoint_dir(a.out.join("ckpt"))
        .resume(a.resume)
        .progress(a.progress);
    eprintln!(
        "model: BBB LeNet, {} weights; prior {}, T = {}, estimator {:?}, sigma {:?}, lr {}, batch {}, {} epochs, augment {}, threads {}",
        num_weights(&model),
        a.prior.label(),
        a.temperature,
        a.estimator,
        a.sigma,
        a.lr,
        a.batch,
        a.epochs,
        a.augment,
        fanaroff::tensor::num_threads()
    );
    let t0 = Instant::now();
    let history = Trainer::new(tcfg)?
        .step(ElboStep::new(elbo)?)
        .validation(Validation::new(&val).samples(a.val_samples)?)
        .fit(&mut model, &train)?;
    let train_secs = t0.elapsed().as_secs_f64();
    let total_epoch_secs: f64 = history.records.iter().map(|r| r.seconds).sum();

    let t1 = Instant::now();
    let pcfg = PredictConfig::with_samples(a.samples)
        .batch_size(a.batch)
        .seed(a.seed ^ 0x5eed);
    let samples = predict_samples(&model, test_x.view(), &pcfg)?;
    let errs = per_sample_error(samples.view(), test.labels())?;
    let (err_mean, err_std) = mean_std(&errs);
    let mean_probs = predictive_mean(samples.view());
    let err_pred = fanaroff::bayes::error_rate(mean_probs.view(), test.labels());
    let report = CalibrationReport::compute(
        &Predictions::from_samples(samples.view()),
        test.labels(),
        &ReportConfig::default(),
    )?;

    let ecfg = PredictConfig::with_samples(a.entropy_samples)
        .batch_size(a.batch)
        .seed(a.seed ^ 0xe27);
    let s_conf = predict_samples(&model, test_x.view(), &ecfg)?;
    let s_unc = predict_samples(&model, uncertain_x.view(), &ecfg)?;
    let h_conf = mean_normalised_entropy(s_conf.view())?;
    let h_unc = mean_normalised_entropy(s_unc.view())?;
    let unc_err =
        fanaroff::bayes::error_rate(predictive_mean(s_unc.view()).view(), uncertain.labels());
    let eval_secs = t1.elapsed().as_secs_f64();

    println!("== mirabest_bbb ({}) ==", data.source);
    println!(
        "epochs run {} (best {:?}); training wall time {:.1} s ({:.1} min, {:.2} s/epoch) on {} threads",
        history.records.len(),
        history.best_epoch,
        total_epoch_secs,
        total_epoch_secs / 60.0,
        total_epoch_secs / history.records.len().max(1) as f64,
        fanaroff::tensor::num_threads()
    );
    println!(
        "test error, mean over {} draws: {:.2} +- {:.2} %   (error of the predictive mean: {:.2} %)",
        a.samples,
        100.0 * err_mean,
        100.0 * err_std,
        100.0 * err_pred
    );
    println!(
        "calibration (10 equal-width bins): ECE {:.4}  UCE {:.4}  cUCE {:.4}  NLL {:.4}  Brier {:.4}",
        report.ece, report.uce, report.class_uce.cuce, report.nll, report.brier
    );
    println!(
        "mean normalised predictive entropy ({} draws): MBFRConfident test {:.4}  MBFRUncertain {:.4}  ({})",
        a.entropy_samples,
        h_conf,
        h_unc,
        if h_unc > h_conf {
            "uncertain > confident, as in the paper"
        } else {
            "NOT higher on MBFRUncertain"
        }
    );
    println!(
        "MBFRUncertain error of the predictive mean: {:.2} %",
        100.0 * unc_err
    );
    println!("evaluation time {:.1} s", eval_secs);

    save_model(&model, a.out.join("model.safetensors"))?;
    let json = serde_json::json!({
        "data": data.source,
        "n_train": train.len(), "n_val": val.len(), "n_test": test.len(), "n_uncertain": uncertain.len(),
        "prior": a.prior.label(),
        "temperature": a.temperature,
        "weighting": format!("{:?}", a.weighting),
        "estimator": format!("{:?}", a.estimator),
        "sigma": format!("{:?}", a.sigma),
        "lr": a.lr, "batch": a.batch, "seed": a.seed, "augment": a.augment,
        "threads": fanaroff::tensor::num_threads(),
        "epochs_requested": a.epochs,
        "epochs_run": history.records.len(),
        "best_epoch": history.best_epoch,
        "train_seconds_this_process": train_secs,
        "train_seconds_all_epochs": total_epoch_secs,
        "samples": a.samples,
        "test_error_mean": err_mean,
        "test_error_std": err_std,
        "test_error_predictive_mean": err_pred,
        "ece": report.ece, "uce": report.uce, "cuce": report.class_uce.cuce,
        "nll": report.nll, "brier": report.brier,
        "entropy_samples": a.entropy_samples,
        "mean_normalised_entropy_confident_test": h_conf,
        "mean_normalised_entropy_uncertain": h_unc,
        "uncertain_error_predictive_mean": unc_err,
        "calibration_report": serde_json::from_str::<serde_json::Value>(&report.to_json()?)?,
    });
    fanaroff::train::write_atomic(
        &a.out.join("report.json"),
        serde_json::to_string_pretty(&json)?.as_bytes(),
    )?;
    println!(
        "wrote {}/model.safetensors, report.json, ckpt/history.csv",
        a.out.display()
    );
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median wall times of one minibatch step (forward + backward) of the BBB
/// LeNet, of the deterministic twin, and of the BBB-specific work alone
/// (drawing all 232k weights and the MC KL, forward + backward).
fn bench(a: &Args, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    use fanaroff::bayes::{Elbo as E, KlTerms, forward_kl, variational_layers_mut};
    use fanaroff::tensor::Tensor;
    let mut rng = StdRng::seed_from_u64(a.seed);
    let vcfg = VariationalConfig::default()
        .prior_spec(a.prior)
        .estimator(a.estimator)
        .sigma(a.sigma)
        .check()?;
    let mut bbb = bbb_lenet(&LeNetConfig::default(), &vcfg, &mut rng)?;
    let twin = fanaroff::nn::models::lenet(&LeNetConfig::default(), &mut rng)?;
    let x = Tensor::randn(&[a.batch, 1, 150, 150], &mut rng);
    let y: Vec<usize> = (0..a.batch).map(|i| i % 2).collect();
    let elbo = E::default().temperature(a.temperature).check()?;
    let time = |f: &mut dyn FnMut() -> Result<(), Box<dyn std::error::Error>>| -> Result<f64, Box<dyn std::error::Error>> {
        f()?; // warm-up
        let mut v = Vec::new();
        for _ in 0..n {
            let t = Instant::now();
            f()?;
            v.push(t.elapsed().as_secs_f64());
        }
        Ok(median(v))
    };
    let t_bbb = time(&mut || {
        let (logits, kl) = forward_kl(&bbb, &x, &mut rng)?;
        elbo.loss(&logits, &y, &kl, 0, 12)?.loss.backward()?;
        Ok(())
    })?;
    let t_det = time(&mut || {
        let (logits, kl) = forward_kl(&twin, &x, &mut rng)?;
        elbo.loss(&logits, &y, &kl, 0, 12)?.loss.backward()?;
        Ok(())
    })?;
    let t_kl = time(&mut || {
        let mut terms: Vec<fanaroff::bayes::Result<KlTerms>> = Vec::new();
        variational_layers_mut(&mut bbb, &mut |_, l| terms.push(l.kl(&mut rng)));
        let mut total = KlTerms::zero();
        for k in terms {
            total = total.add(&k?)?;
        }
        total.weighted(1.0, 1.0)?.backward()?;
        Ok(())
    })?;
    let pcfg = PredictConfig::with_samples(8).batch_size(a.batch).seed(1);
    let xs = x.data().clone();
    let t_pred = time(&mut || {
        predict_samples(&bbb, xs.view(), &pcfg)?;
        Ok(())
    })?;
    println!(
        "minibatch of {} images, {} threads, median of {n}:",
        a.batch,
        fanaroff::tensor::num_threads()
    );
    println!(
        "  BBB LeNet forward + backward (estimator {:?}): {:.3} s",
        a.estimator, t_bbb
    );
    println!(
        "  deterministic twin forward + backward:        {:.3} s",
        t_det
    );
    println!(
        "  BBB weight draw + MC KL alone, fwd + bwd:      {:.3} s",
        t_kl
    );
    println!(
        "  MC predictive, 8 draws x {} images (no grad):   {:.3} s",
        a.batch, t_pred
    );
    Ok(())
}

fn main() {
    init_logging();
    match parse_args() {
        Ok(None) => println!("{HELP}"),
        Ok(Some(a)) => {
            if let Err(e) = run(a) {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{HELP}");
            std::process::exit(2);
        }
    }
}
