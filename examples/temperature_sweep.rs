//! Cold-posterior sweep of the BBB LeNet on MBFRConfident: test error, NLL and
//! UCE against the posterior temperature T (GMM prior) and against the prior
//! (at T = 0.01). Writes a markdown table, a JSON file and a PNG plot.
//!
//! ```text
//! cargo run --release --example temperature_sweep -- --epochs 20 --threads 2
//! cargo run --release --example temperature_sweep -- --temperatures 1,0.01 --priors gaussian:0.1
//! ```
//!
//! Each run checkpoints under `--work/<name>/ckpt`; rerunning with `--resume`
//! skips finished runs and continues a killed one. Falls back to synthetic
//! data (with a notice) when the MiraBest release is missing.

use fanaroff::bayes::{
    Elbo, ElboStep, PredictConfig, PriorSpec, VariationalConfig, bbb_lenet, per_sample_error,
    predict_samples,
};
use fanaroff::calibrate::plot::{Color, LineChart};
use fanaroff::calibrate::{CalibrationReport, Predictions, ReportConfig};
use fanaroff::data::{Dataset, MiraBest, Subset, SyntheticConfig};
use fanaroff::nn::models::LeNetConfig;
use fanaroff::train::{ArrayLoader, Loader, TrainConfig, Trainer, Validation, write_atomic};
use fanaroff_examples::{SCALING, init_logging};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::path::PathBuf;

const HELP: &str = "temperature_sweep: BBB LeNet test error / NLL / UCE vs temperature and prior

options (defaults in brackets):
  --data PATH          MiraBest full release [../shared/data/mirabest/MiraBest_full_batches.tar.gz]
  --temperatures LIST  comma-separated T values for the GMM prior [1,0.1,0.01,0.001,0.0001]
  --priors LIST        semicolon-separated prior specs run at --prior-temperature [gaussian:0.1;laplace:1;cauchy:1]
  --prior-temperature T                                                   [0.01]
  --epochs N           epochs per run [20]
  --lr LR              [5e-4]
  --samples N          MC draws for the test metrics [100]
  --seed N             [0]
  --threads N          rayon threads [all]
  --docs DIR           where the table and plot go [docs]
  --work DIR           checkpoints and per-run results [target/temperature_sweep]
  --resume             skip finished runs, continue a killed one";

struct Args {
    data: PathBuf,
    temperatures: Vec<f64>,
    priors: Vec<PriorSpec>,
    prior_temperature: f64,
    epochs: usize,
    lr: f32,
    samples: usize,
    seed: u64,
    threads: Option<usize>,
    docs: PathBuf,
    work: PathBuf,
    resume: bool,
}

fn parse() -> Result<Option<Args>, String> {
    let mut a = Args {
        data: PathBuf::from("../shared/data/mirabest/MiraBest_full_batches.tar.gz"),
        temperatures: vec![1.0, 1e-1, 1e-2, 1e-3, 1e-4],
        priors: vec![
            PriorSpec::Gaussian { s: 0.1 },
            PriorSpec::Laplace { b: 1.0 },
            PriorSpec::StudentT { nu: 1.0, s: 1.0 },
        ],
        prior_temperature: 0.01,
        epochs: 20,
        lr: 5e-4,
        samples: 100,
        seed: 0,
        threads: None,
        docs: PathBuf::from("docs"),
        work: PathBuf::from("target/temperature_sweep"),
        resume: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = |n: &str| it.next().ok_or_else(|| format!("{n} needs a value"));
        fn num<T: std::str::FromStr>(n: &str, v: &str) -> Result<T, String> {
            v.trim()
                .parse::<T>()
                .map_err(|_| format!("{n}: cannot parse {v:?}"))
        }
        match flag.as_str() {
            "--help" | "-h" => return Ok(None),
            "--data" => a.data = PathBuf::from(val("--data")?),
            "--temperatures" => {
                a.temperatures = val("--temperatures")?
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| num("--temperatures", s))
                    .collect::<Result<_, _>>()?
            }
            "--priors" => {
                a.priors = val("--priors")?
                    .split(';')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| s.trim().parse::<PriorSpec>().map_err(|e| e.to_string()))
                    .collect::<Result<_, _>>()?
            }
            "--prior-temperature" => {
                a.prior_temperature = num("--prior-temperature", &val("--prior-temperature")?)?
            }
            "--epochs" => a.epochs = num("--epochs", &val("--epochs")?)?,
            "--lr" => a.lr = num("--lr", &val("--lr")?)?,
            "--samples" => a.samples = num("--samples", &val("--samples")?)?,
            "--seed" => a.seed = num("--seed", &val("--seed")?)?,
            "--threads" => a.threads = Some(num("--threads", &val("--threads")?)?),
            "--docs" => a.docs = PathBuf::from(val("--docs")?),
            "--work" => a.work = PathBuf::from(val("--work")?),
            "--resume" => a.resume = true,
            o => return Err(format!("unknown option {o:?}; see --help")),
        }
    }
    Ok(Some(a))
}

fn td(d: &Dataset) -> Result<ArrayLoader<u8>, Box<dyn std::error::Error>> {
    Ok(ArrayLoader::from_dataset(d, SCALING)?)
}

struct Result1 {
    name: String,
    prior: String,
    temperature: f64,
    error: f64,
    error_std: f64,
    nll: f64,
    uce: f64,
    ece: f64,
    seconds: f64,
    epochs: usize,
}

fn run(a: Args) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(t) = a.threads {
        fanaroff::tensor::set_num_threads(t)?;
    }
    let mut rng = StdRng::seed_from_u64(a.seed);
    let (source, train, val, test) = match MiraBest::open(&a.data) {
        Ok(mb) => {
            let conf = mb.train().subset(Subset::MbFrConfident)?;
            let (tr, va) = conf.stratified_split(0.2, &mut rng)?;
            let te = mb.test().subset(Subset::MbFrConfident)?;
            (
                format!("MiraBest MBFRConfident ({})", a.data.display()),
                tr,
                va,
                te,
            )
        }
        Err(e) => {
            eprintln!("notice: MiraBest not available ({e}); falling back to synthetic data");
            let all = SyntheticConfig::default().with_seed(a.seed).generate(832)?;
            let (tv, te) = all.stratified_split(0.125, &mut rng)?;
            let (tr, va) = tv.stratified_split(0.2, &mut rng)?;
            ("synthetic (832 images)".to_string(), tr, va, te)
        }
    };
    let (train, val, test) = (td(&train)?, td(&val)?, td(&test)?);
    let test_x = test.inputs();
    let mut runs: Vec<(String, PriorSpec, f64)> = a
        .temperatures
        .iter()
        .map(|&t| (format!("gmm_T{t:e}"), PriorSpec::default(), t))
        .collect();
    for p in &a.priors {
        let label = p.label().replace(['(', ')', ','], "_");
        runs.push((
            format!("{label}T{:e}", a.prior_temperature),
            *p,
            a.prior_temperature,
        ));
    }
    std::fs::create_dir_all(&a.work)?;
    std::fs::create_dir_all(&a.docs)?;
    let mut results = Vec::new();
    for (name, prior, t) in &runs {
        let dir = a.work.join(name);
        let done = dir.join("result.json");
        if a.resume && done.exists() {
            let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&done)?)?;
            let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
            eprintln!("{name}: finished earlier, reusing {}", done.display());
            results.push(Result1 {
                name: name.clone(),
                prior: prior.label(),
                temperature: *t,
                error: f("error"),
                error_std: f("error_std"),
                nll: f("nll"),
                uce: f("uce"),
                ece: f("ece"),
                seconds: f("seconds"),
                epochs: v["epochs"].as_u64().unwrap_or(0) as usize,
            });
            continue;
        }
        eprintln!(
            "== {name}: prior {}, T = {t}, {} epochs ==",
            prior.label(),
            a.epochs
        );
        let vcfg = VariationalConfig::default().prior_spec(*prior).check()?;
        let mut model = bbb_lenet(
            &LeNetConfig::default(),
            &vcfg,
            &mut StdRng::seed_from_u64(a.seed),
        )?;
        let cfg = TrainConfig::default()
            .epochs(a.epochs)
            .adam(a.lr)
            .seed(a.seed)
            .checkpoint_dir(dir.join("ckpt"))
            .resume(a.resume)
            .progress(false);
        let hist = Trainer::new(cfg)?
            .step(ElboStep::new(Elbo::default().temperature(*t))?)
            .validation(Validation::new(&val))
            .fit(&mut model, &train)?;
        let seconds: f64 = hist.records.iter().map(|r| r.seconds).sum();
        let s = predict_samples(
            &model,
            test_x.view(),
            &PredictConfig::with_samples(a.samples).seed(a.seed ^ 0x5eed),
        )?;
        let errs = per_sample_error(s.view(), test.labels())?;
        let n = errs.len() as f64;
        let error = errs.iter().sum::<f64>() / n;
        let error_std =
            (errs.iter().map(|e| (e - error).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        let rep = CalibrationReport::compute(
            &Predictions::from_samples(s.view()),
            test.labels(),
            &ReportConfig::default(),
        )?;
        let r = Result1 {
            name: name.clone(),
            prior: prior.label(),
            temperature: *t,
            error,
            error_std,
            nll: rep.nll,
            uce: rep.uce,
            ece: rep.ece,
            seconds,
            epochs: hist.records.len(),
        };
        eprintln!(
            "{name}: error {:.2} +- {:.2} %, NLL {:.4}, UCE {:.4}, ECE {:.4} ({:.0} s)",
            100.0 * r.error,
            100.0 * r.error_std,
            r.nll,
            r.uce,
            r.ece,
            r.seconds
        );
        let json = serde_json::json!({
            "name": name, "prior": r.prior, "temperature": t, "error": r.error, "error_std": r.error_std,
            "nll": r.nll, "uce": r.uce, "ece": r.ece, "seconds": r.seconds, "epochs": r.epochs,
            "best_epoch": hist.best_epoch,
        });
        write_atomic(&done, serde_json::to_string_pretty(&json)?.as_bytes())?;
        results.push(r);
    }

    // markdown table
    let mut md = format!(
        "<!-- written by `cargo run --release --example temperature_sweep -- --epochs {} --lr {} --samples {} --seed {}` -->\n\n\
         Data: {source}; {} train / {} validation / {} test images. {} epochs per run, Adam lr {}, batch 50, \
         reduce-on-plateau x0.95 (patience 3) on validation NLL, weights of the best validation epoch; \
         test metrics from {} weight draws (error = mean over draws +- std over draws; NLL and UCE of the \
         predictive mean, UCE with 10 equal-width bins).\n\n\
         | run | prior | T | test error (%) | NLL | UCE | ECE | epochs | train time (s) |\n|---|---|---|---|---|---|---|---|---|\n",
        a.epochs,
        a.lr,
        a.samples,
        a.seed,
        train.len(),
        val.len(),
        test.len(),
        a.epochs,
        a.lr,
        a.samples
    );
    for r in &results {
        md.push_str(&format!(
            "| {} | {} | {} | {:.2} +- {:.2} | {:.4} | {:.4} | {:.4} | {} | {:.0} |\n",
            r.name,
            r.prior,
            r.temperature,
            100.0 * r.error,
            100.0 * r.error_std,
            r.nll,
            r.uce,
            r.ece,
            r.epochs,
            r.seconds
        ));
    }
    let md_path = a.docs.join("bayes_temperature_sweep.md");
    write_atomic(&md_path, md.as_bytes())?;
    // plot: GMM runs against T
    let gmm: Vec<&Result1> = results
        .iter()
        .filter(|r| r.name.starts_with("gmm_T"))
        .collect();
    if gmm.len() >= 2 {
        let ts: Vec<f64> = gmm.iter().map(|r| r.temperature).collect();
        let err: Vec<f64> = gmm.iter().map(|r| r.error).collect();
        let nll: Vec<f64> = gmm.iter().map(|r| r.nll).collect();
        let uce: Vec<f64> = gmm.iter().map(|r| r.uce).collect();
        LineChart::new("BBB LeNet on MBFRConfident: cold posteriors")
            .x_log(true)
            .x_label("posterior temperature T")
            .y_label("test error / NLL / UCE")
            .line("test error", &ts, &err, Color::palette(0))
            .line("NLL", &ts, &nll, Color::palette(1))
            .line("UCE", &ts, &uce, Color::palette(2))
            .write_png(a.docs.join("bayes_temperature_sweep.png"))?;
    }
    println!("{md}");
    println!(
        "wrote {} and bayes_temperature_sweep.png",
        md_path.display()
    );
    Ok(())
}

fn main() {
    init_logging();
    match parse() {
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
