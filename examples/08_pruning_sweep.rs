//! Prunes trained BBB LeNets 0..90 % with each criterion and measures test
//! error, NLL, UCE and per-class UCE (FRI, FRII) on MBFRConfident's test set
//! (Mohan et al. 2022, section "pruning").
//!
//! ```text
//! # from models trained by mirabest_bbb (one folder per training seed)
//! cargo run --release --example 05_mirabest_bbb -- --seed 0 --out runs/s0   # ... s1, s2
//! cargo run --release --example 08_pruning_sweep -- --model runs/s0 --model runs/s1 --model runs/s2 --docs docs
//! # or let it train quick models itself (3 seeds, 30 epochs)
//! cargo run --release --example 08_pruning_sweep
//! ```
//!
//! Points already in `--out`/points.csv are reused, so an interrupted sweep
//! resumes and a sweep with more criteria or fractions computes only those.
//! Every point starts from the trained model, prunes the fully connected
//! weights (per layer, by default) and predicts with the same weight-draw
//! seed, so the curves of different criteria are paired. Writes
//! `points.csv` (one row per seed, criterion and fraction),
//! `pruning_sweep.md` and three PNG figures (test error, UCE of FRI and of
//! FRII sources against the pruned fraction).

use fanaroff::bayes::{Elbo, ElboStep, VariationalConfig, bbb_lenet};
use fanaroff::calibrate::{CalibrationReport, Predictions, ReportConfig};
use fanaroff::data::Dataset;
use fanaroff::data::transform::Augment;
use fanaroff::nn::models::LeNetConfig;
use fanaroff::nn::{Sequential, load_model, save_model};
use fanaroff::plot::{Color, Figure, LineChart};
use fanaroff::prune::{
    Criterion, Fisher, FisherPass, LayerSet, Magnitude, PruneConfig, Random, Scope, Snr, prune,
    save_sparse,
};
use fanaroff::train::{
    ArrayLoader, Loader, PredictConfig, TrainConfig, Trainer, Validation, per_sample_error,
    predict_samples, write_atomic,
};
use fanaroff_examples::{Flags, SCALING, load_confident};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const HELP: &str = "08_pruning_sweep: prune trained BBB LeNets 0..90 % with each criterion

options (defaults in brackets):
  --model DIR          a 05_mirabest_bbb output folder (model.safetensors, record.json, ckpt/);
                       repeat for several training seeds [train --seeds quick models]
  --seeds N            quick models to train when no --model is given [3]
  --epochs N           epochs of a quick model [30]
  --data PATH          MiraBest full release [../shared/data/mirabest/MiraBest_full_batches.tar.gz;
                       synthetic images with a notice when the default is absent]
  --synthetic N        use N synthetic galaxies [off]
  --criteria LIST      of snr, snr-db, fisher-adam, fisher-grad, magnitude, random,
                       fisher-adam-obd, fisher-grad-obd (score F mu^2 / 2)
                       [snr,fisher-adam,fisher-grad,magnitude,random]
  --fractions LIST     pruned fractions [0,0.1,...,0.9]
  --layers L           fc | conv | all | NAME,NAME,... [fc]
  --scope S            per-layer | global [per-layer]
  --samples N          weight draws per prediction [100]
  --finetune-epochs N  fine-tune each pruned model this many epochs [0]
  --threads N          rayon threads [all]
  --out DIR            points.csv, models of quick runs [target/pruning_sweep]
  --docs DIR           where pruning_sweep.md and the PNGs go [--out]
  --help";

#[derive(Debug, Clone)]
struct Args {
    models: Vec<PathBuf>,
    seeds: u64,
    epochs: usize,
    data: Option<PathBuf>,
    synthetic: Option<usize>,
    criteria: Vec<String>,
    fractions: Vec<f64>,
    layers: LayerSet,
    scope: Scope,
    samples: usize,
    finetune_epochs: usize,
    threads: Option<usize>,
    out: PathBuf,
    docs: Option<PathBuf>,
}

const CRITERIA: [&str; 8] = [
    "snr",
    "snr-db",
    "fisher-adam",
    "fisher-grad",
    "fisher-adam-obd",
    "fisher-grad-obd",
    "magnitude",
    "random",
];

fn default_args() -> Args {
    Args {
        models: Vec::new(),
        seeds: 3,
        epochs: 30,
        data: None,
        synthetic: None,
        criteria: ["snr", "fisher-adam", "fisher-grad", "magnitude", "random"]
            .map(String::from)
            .to_vec(),
        fractions: (0..10).map(|i| f64::from(i) / 10.0).collect(),
        layers: LayerSet::FullyConnected,
        scope: Scope::PerLayer,
        samples: 100,
        finetune_epochs: 0,
        threads: None,
        out: PathBuf::from("target/pruning_sweep"),
        docs: None,
    }
}

const FLAGS: [&str; 14] = [
    "--model",
    "--seeds",
    "--epochs",
    "--data",
    "--synthetic",
    "--criteria",
    "--fractions",
    "--layers",
    "--scope",
    "--samples",
    "--finetune-epochs",
    "--threads",
    "--out",
    "--docs",
];

/// Strict parsing: an unknown flag or a bad value is an error.
fn parse_args(argv: &[String]) -> Res<Args> {
    let f = Flags::parse(argv, &FLAGS, HELP)?;
    let d = default_args();
    let a = Args {
        models: f.all("--model").into_iter().map(PathBuf::from).collect(),
        seeds: f.get("--seeds", d.seeds)?,
        epochs: f.get("--epochs", d.epochs)?,
        data: f.opt("--data")?,
        synthetic: f.opt("--synthetic")?,
        criteria: f.list("--criteria")?.unwrap_or(d.criteria),
        fractions: f.list("--fractions")?.unwrap_or(d.fractions),
        layers: f
            .opt::<String>("--layers")?
            .map_or(d.layers, |v| parse_layers(&v)),
        scope: f
            .opt::<String>("--scope")?
            .map_or(Ok(d.scope), |v| parse_scope(&v))?,
        samples: f.get("--samples", d.samples)?,
        finetune_epochs: f.get("--finetune-epochs", d.finetune_epochs)?,
        threads: f.opt("--threads")?,
        out: f.get("--out", d.out)?,
        docs: f.opt("--docs")?,
    };
    if let Some(c) = a.criteria.iter().find(|c| !CRITERIA.contains(&c.as_str())) {
        return Err(format!("unknown criterion {c}; choose from {CRITERIA:?}").into());
    }
    if let Some(x) = a.fractions.iter().find(|x| !(0.0..=1.0).contains(*x)) {
        return Err(format!("--fractions: {x} is outside [0, 1]").into());
    }
    if a.models.is_empty() && a.seeds == 0 {
        return Err("--seeds must be at least 1 without --model".into());
    }
    Ok(a)
}

fn parse_layers(v: &str) -> LayerSet {
    match v {
        "fc" => LayerSet::FullyConnected,
        "conv" => LayerSet::Convolutional,
        "all" => LayerSet::All,
        names => LayerSet::Names(names.split(',').map(String::from).collect()),
    }
}

fn parse_scope(v: &str) -> Res<Scope> {
    match v {
        "per-layer" => Ok(Scope::PerLayer),
        "global" => Ok(Scope::Global),
        _ => Err(format!("--scope {v}: choose per-layer or global").into()),
    }
}

/// MBFRConfident: the training split of a seed (for Fisher and
/// fine-tuning), its validation split and the fixed test set.
struct Data {
    source: String,
    train: ArrayLoader<u8>,
    val: ArrayLoader<u8>,
    test: ArrayLoader<u8>,
}

fn load_data(a: &Args, seed: u64) -> Res<Data> {
    let mut rng = StdRng::seed_from_u64(seed);
    let d = load_confident(a.data.as_deref(), a.synthetic, seed, 0.2, &mut rng)?;
    let l = |d: &Dataset| ArrayLoader::from_dataset(d, SCALING);
    Ok(Data {
        source: d.source,
        train: l(&d.train)?,
        val: l(&d.val)?,
        test: l(&d.test)?,
    })
}

/// A trained model: where its weights are, its seed, its Adam state.
struct Trained {
    seed: u64,
    dir: PathBuf,
    vcfg: VariationalConfig,
}

impl Trained {
    fn model(&self) -> Res<Sequential> {
        let mut m = bbb_lenet(
            &LeNetConfig::default(),
            &self.vcfg,
            &mut StdRng::seed_from_u64(0),
        )?;
        load_model(&mut m, self.dir.join("model.safetensors"), true)?;
        Ok(m)
    }
}

/// Reads a 05_mirabest_bbb folder: the seed and the variational settings
/// from its `record.json` (the experiment it ran is recorded there).
fn from_folder(dir: &Path) -> Res<Trained> {
    let path = dir.join(fanaroff::cli::RECORD_FILE);
    let r =
        fanaroff::cli::RunRecord::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let exp = fanaroff::cli::Experiment::from_toml(&r.experiment)?;
    let Some(fanaroff::cli::models::BbbLenet { variational, .. }) = exp.model.settings() else {
        return Err(format!("{}: not a BBB LeNet run", path.display()).into());
    };
    Ok(Trained {
        seed: r.seed,
        dir: dir.to_path_buf(),
        vcfg: variational.clone().check()?,
    })
}

/// Trains a quick model with mirabest_bbb's defaults (rotations, GMM prior,
/// T = 0.01, lr 5e-4) and saves it like mirabest_bbb does.
fn train_quick(a: &Args, seed: u64, data: &Data) -> Res<Trained> {
    let dir = a.out.join(format!("seed{seed}"));
    let t = Trained {
        seed,
        dir: dir.clone(),
        vcfg: VariationalConfig::default(),
    };
    if dir.join("model.safetensors").exists() {
        eprintln!("seed {seed}: reusing {}", dir.display());
        return Ok(t);
    }
    let mut model = bbb_lenet(
        &LeNetConfig::default(),
        &t.vcfg,
        &mut StdRng::seed_from_u64(seed),
    )?;
    let train = data
        .train
        .clone()
        .with_augment(Augment::default().with_rotation(180.0).check()?);
    let cfg = TrainConfig::default()
        .epochs(a.epochs)
        .adam(5e-4)
        .seed(seed)
        .checkpoint_dir(dir.join("ckpt"))
        .resume(true);
    Trainer::new(cfg)?
        .step(ElboStep::new(Elbo::default())?)
        .validation(Validation::new(&data.val).samples(4)?)
        .fit(&mut model, &train)?;
    save_model(&model, dir.join("model.safetensors"))?;
    Ok(t)
}

/// One point of the sweep.
#[derive(Debug, Clone)]
struct Point {
    seed: u64,
    criterion: String,
    fraction: f64,
    sparsity: f64,
    err_mean: f64,
    err_std: f64,
    nll: f64,
    ece: f64,
    uce: f64,
    uce_fri: f64,
    uce_frii: f64,
    sparse_bytes: usize,
    dense_bytes: usize,
    unmasked_bytes: usize,
}

/// Test error over weight draws, NLL, ECE, UCE and per-class UCE.
fn evaluate(model: &Sequential, test: &ArrayLoader<u8>, samples: usize) -> Res<[f64; 7]> {
    let pcfg = PredictConfig::with_samples(samples)
        .batch_size(50)
        .seed(0x5eed);
    let s = predict_samples(model, test.inputs().view(), &pcfg)?;
    let errs = per_sample_error(s.view(), test.labels())?;
    let n = errs.len() as f64;
    let mean = errs.iter().sum::<f64>() / n;
    let std = (errs.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    let r = CalibrationReport::compute(
        &Predictions::from_samples(s.view()),
        test.labels(),
        &ReportConfig::default(),
    )?;
    let class = |k: usize| r.class_uce.per_class[k].unwrap_or(f64::NAN);
    Ok([mean, std, r.nll, r.ece, r.uce, class(0), class(1)])
}

/// Builds a criterion by name (the Fisher estimates of one trained model).
fn criterion(name: &str, t: &Trained, fisher_grad: &Option<Fisher>) -> Res<Box<dyn Criterion>> {
    Ok(match name {
        "snr" => Box::new(Snr::ratio()),
        "snr-db" => Box::new(Snr::db()),
        "fisher-adam" => Box::new(Fisher::from_checkpoint(t.dir.join("ckpt"))?),
        "fisher-grad" => Box::new(fisher_grad.clone().ok_or("no Fisher pass")?),
        "fisher-adam-obd" => Box::new(Fisher::from_checkpoint(t.dir.join("ckpt"))?.saliency()),
        "fisher-grad-obd" => Box::new(fisher_grad.clone().ok_or("no Fisher pass")?.saliency()),
        "magnitude" => Box::new(Magnitude),
        "random" => Box::new(Random::new(t.seed ^ 0xbad5eed)),
        other => return Err(format!("unknown criterion {other}").into()),
    })
}

/// Prunes a fresh copy of the model, fine-tunes it if asked, evaluates it.
fn one_point(a: &Args, t: &Trained, data: &Data, crit: &mut dyn Criterion, f: f64) -> Res<Point> {
    let mut m = t.model()?;
    let cfg = PruneConfig {
        layers: a.layers.clone(),
        scope: a.scope,
        amount: fanaroff::prune::Amount::Fraction(f),
    };
    let report = prune(&mut m, crit, &cfg)?;
    if a.finetune_epochs > 0 && f > 0.0 {
        let tcfg = TrainConfig::default()
            .epochs(a.finetune_epochs)
            .adam(5e-4)
            .seed(t.seed + 1000)
            .progress(false)
            .log_epochs(false);
        Trainer::new(tcfg)?
            .step(ElboStep::new(Elbo::default())?)
            .fit(&mut m, &data.train)?;
    }
    let size = save_sparse(&m, a.out.join("last.sparse.safetensors"))?;
    let [err_mean, err_std, nll, ece, uce, uce_fri, uce_frii] =
        evaluate(&m, &data.test, a.samples)?;
    Ok(Point {
        seed: t.seed,
        criterion: crit.name(),
        fraction: f,
        sparsity: report.sparsity(),
        err_mean,
        err_std,
        nll,
        ece,
        uce,
        uce_fri,
        uce_frii,
        sparse_bytes: size.sparse_bytes,
        dense_bytes: size.dense_bytes,
        unmasked_bytes: size.unmasked_bytes,
    })
}

/// Reads the points of an earlier run (`points.csv`), so an interrupted or
/// extended sweep only computes what is missing.
fn read_points(path: &Path) -> Res<Vec<Point>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(Vec::new());
    };
    let bad = |i: usize| format!("{} line {}: not a points.csv row", path.display(), i + 1);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        if c.len() != 14 {
            return Err(bad(i).into());
        }
        let f = |k: usize| c[k].parse::<f64>().map_err(|_| bad(i));
        let u = |k: usize| c[k].parse::<usize>().map_err(|_| bad(i));
        out.push(Point {
            seed: c[0].parse().map_err(|_| bad(i))?,
            criterion: c[1].to_string(),
            fraction: f(2)?,
            sparsity: f(3)?,
            err_mean: f(4)?,
            err_std: f(5)?,
            nll: f(6)?,
            ece: f(7)?,
            uce: f(8)?,
            uce_fri: f(9)?,
            uce_frii: f(10)?,
            sparse_bytes: u(11)?,
            dense_bytes: u(12)?,
            unmasked_bytes: u(13)?,
        });
    }
    Ok(out)
}

fn same_point(p: &Point, seed: u64, crit: &str, f: f64) -> bool {
    p.seed == seed && p.criterion == crit && (p.fraction - f).abs() < 1e-9
}

/// Every criterion and fraction for one trained model (fraction 0 once;
/// points in `done` are reused).
fn sweep_model(a: &Args, t: &Trained, data: &Data, done: &[Point]) -> Res<Vec<Point>> {
    let fisher_grad = if a.criteria.iter().any(|c| c.starts_with("fisher-grad")) {
        let t0 = Instant::now();
        let f = Fisher::from_gradients(&t.model()?, &data.train, &FisherPass::default())?;
        eprintln!(
            "seed {}: Fisher pass over {} images in {:.1} s",
            t.seed,
            data.train.len(),
            t0.elapsed().as_secs_f64()
        );
        Some(f)
    } else {
        None
    };
    let mut points = Vec::new();
    let mut unpruned: Option<Point> = None;
    for name in &a.criteria {
        let mut crit = criterion(name, t, &fisher_grad)?;
        for &f in &a.fractions {
            let cached = done.iter().find(|p| same_point(p, t.seed, name, f));
            let p = match (&unpruned, f == 0.0, cached) {
                (_, _, Some(p)) => p.clone(),
                (Some(p0), true, _) => p0.clone(),
                _ => one_point(a, t, data, crit.as_mut(), f)?,
            };
            if f == 0.0 {
                unpruned.get_or_insert(p.clone());
            }
            eprintln!(
                "seed {} {:<11} {:>3.0} %  error {:5.2} +- {:4.2} %  NLL {:.3}  UCE {:.3} (FRI {:.3}, FRII {:.3})",
                t.seed,
                name,
                100.0 * f,
                100.0 * p.err_mean,
                100.0 * p.err_std,
                p.nll,
                p.uce,
                p.uce_fri,
                p.uce_frii
            );
            points.push(Point {
                criterion: crit.name(),
                ..p
            });
        }
    }
    Ok(points)
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = parse_args(&argv).and_then(|a| run(&a)) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(a: &Args) -> Res<()> {
    if let Some(t) = a.threads {
        fanaroff::tensor::set_num_threads(t)?;
    }
    std::fs::create_dir_all(&a.out)?;
    let t0 = Instant::now();
    let done = read_points(&a.out.join("points.csv"))?;
    let mut points = Vec::new();
    let mut source = String::new();
    let runs: Vec<Option<PathBuf>> = if a.models.is_empty() {
        (0..a.seeds).map(|_| None).collect()
    } else {
        a.models.iter().cloned().map(Some).collect()
    };
    for (i, dir) in runs.iter().enumerate() {
        let seed = match dir {
            Some(d) => from_folder(d)?.seed,
            None => i as u64,
        };
        let data = load_data(a, seed)?;
        source = data.source.clone();
        let t = match dir {
            Some(d) => from_folder(d)?,
            None => train_quick(a, seed, &data)?,
        };
        points.extend(sweep_model(a, &t, &data, &done)?);
        let others = done.iter().filter(|d| {
            !points
                .iter()
                .any(|p| same_point(p, d.seed, &d.criterion, d.fraction))
        });
        let all: Vec<Point> = points.iter().chain(others).cloned().collect();
        write_atomic(&a.out.join("points.csv"), to_csv(&all).as_bytes())?;
    }
    let docs = a.docs.clone().unwrap_or_else(|| a.out.clone());
    std::fs::create_dir_all(&docs)?;
    let md = summary(a, &points, &source, t0.elapsed().as_secs_f64());
    write_atomic(&docs.join("pruning_sweep.md"), md.as_bytes())?;
    plots(&points, &docs)?;
    println!("{md}");
    println!(
        "wrote {}/points.csv, {}/pruning_sweep.md and pruning_sweep_{{error,uce_fri,uce_frii}}.{{png,svg}}",
        a.out.display(),
        docs.display()
    );
    Ok(())
}

fn to_csv(points: &[Point]) -> String {
    let mut s = String::from(
        "seed,criterion,fraction,sparsity,err_mean,err_std_draws,nll,ece,uce,uce_fri,uce_frii,sparse_bytes,dense_bytes,unmasked_bytes\n",
    );
    for p in points {
        let _ = writeln!(
            s,
            "{},{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{},{},{}",
            p.seed,
            p.criterion,
            p.fraction,
            p.sparsity,
            p.err_mean,
            p.err_std,
            p.nll,
            p.ece,
            p.uce,
            p.uce_fri,
            p.uce_frii,
            p.sparse_bytes,
            p.dense_bytes,
            p.unmasked_bytes
        );
    }
    s
}

/// Mean and sample standard deviation over seeds.
fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, var.sqrt())
}

/// Points grouped by (criterion, fraction in per mille), in criterion order.
fn grouped(points: &[Point]) -> Vec<((String, i64), Vec<&Point>)> {
    let mut order: Vec<String> = Vec::new();
    let mut g: BTreeMap<(usize, i64), Vec<&Point>> = BTreeMap::new();
    for p in points {
        let ci = order
            .iter()
            .position(|c| *c == p.criterion)
            .unwrap_or_else(|| {
                order.push(p.criterion.clone());
                order.len() - 1
            });
        let key = (ci, (p.fraction * 1000.0).round() as i64);
        g.entry(key).or_default().push(p);
    }
    g.into_iter()
        .map(|((ci, f), v)| ((order[ci].clone(), f), v))
        .collect()
}

fn pm(v: &[f64], scale: f64, digits: usize) -> String {
    let (m, s) = mean_std(v);
    format!("{:.*} ± {:.*}", digits, scale * m, digits, scale * s)
}

fn summary(a: &Args, points: &[Point], source: &str, secs: f64) -> String {
    let seeds: std::collections::BTreeSet<u64> = points.iter().map(|p| p.seed).collect();
    let mut md = format!(
        "# Pruning sweep\n\n{source}, test set; {} training seeds {:?}; layers {:?}, scope {:?}; \
         {} weight draws per prediction (same draw seed at every point); fine-tuning {} epochs. \
         Each cell: mean ± std **over training seeds**. `err ± draws`: the mean over seeds of the \
         spread over weight draws of one model. UCE: 10 bins. Sparse file: `save_sparse` \
         (bit mask + kept values); dense: the unpruned model's safetensors file (`save_model` of a \
         pruned model also stores its masks as F32 and is larger still). Wall time of this invocation \
         {:.1} min (points reused from points.csv are not recomputed).\n\n\
         `Δ error`: the change against the same seed's unpruned model (paired), mean ± std over seeds.\n\n\
         | criterion | pruned % | test error % | Δ error % | err ± draws % | NLL | UCE | UCE FRI | UCE FRII | sparse file MB (dense {:.2}) |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
        seeds.len(),
        seeds,
        a.layers,
        a.scope,
        a.samples,
        a.finetune_epochs,
        secs / 60.0,
        points
            .first()
            .map_or(0.0, |p| p.unmasked_bytes as f64 / 1e6)
    );
    for ((crit, _), g) in grouped(points) {
        let col = |f: fn(&Point) -> f64| g.iter().map(|p| f(p)).collect::<Vec<f64>>();
        let _ = writeln!(
            md,
            "| {crit} | {:.0} | {} | {} | {:.2} | {} | {} | {} | {} | {:.2} |",
            100.0 * g[0].sparsity,
            pm(&col(|p| p.err_mean), 100.0, 2),
            paired_delta(points, &g),
            100.0 * mean_std(&col(|p| p.err_std)).0,
            pm(&col(|p| p.nll), 1.0, 3),
            pm(&col(|p| p.uce), 1.0, 3),
            pm(&col(|p| p.uce_fri), 1.0, 3),
            pm(&col(|p| p.uce_frii), 1.0, 3),
            g[0].sparse_bytes as f64 / 1e6,
        );
    }
    md
}

/// Error change against the same seed's unpruned point, over seeds.
fn paired_delta(points: &[Point], g: &[&Point]) -> String {
    let d: Option<Vec<f64>> = g
        .iter()
        .map(|p| {
            let base = points
                .iter()
                .find(|u| same_point(u, p.seed, &p.criterion, 0.0))?;
            Some(p.err_mean - base.err_mean)
        })
        .collect();
    d.map_or("—".into(), |d| pm(&d, 100.0, 2))
}

/// Test error and per-class UCE against the pruned fraction: a line for
/// the mean over seeds, a dot per seed.
fn plots(points: &[Point], dir: &Path) -> Res<()> {
    type Get = fn(&Point) -> f64;
    let panels: [(&str, &str, Get); 3] = [
        ("error", "test error", |p| p.err_mean),
        ("uce_fri", "UCE of FRI sources", |p| p.uce_fri),
        ("uce_frii", "UCE of FRII sources", |p| p.uce_frii),
    ];
    for (file, label, get) in panels {
        let mut chart = LineChart::new(format!("{label}: mean (line), training seeds (dots)"))
            .size(900, 560)
            .x_label("pruned fraction of the selected weights")
            .y_label(label);
        let groups = grouped(points);
        let crits: Vec<String> =
            groups
                .iter()
                .map(|((c, _), _)| c.clone())
                .fold(Vec::new(), |mut v, c| {
                    if !v.contains(&c) {
                        v.push(c);
                    }
                    v
                });
        for (ci, crit) in crits.iter().enumerate() {
            let color = Color::palette(ci);
            let g: Vec<_> = groups.iter().filter(|((c, _), _)| c == crit).collect();
            let xs: Vec<f64> = g.iter().map(|(_, v)| v[0].fraction).collect();
            let ys: Vec<f64> = g
                .iter()
                .map(|(_, v)| mean_std(&v.iter().map(|p| get(p)).collect::<Vec<_>>()).0)
                .collect();
            let (dx, dy): (Vec<f64>, Vec<f64>) = g
                .iter()
                .flat_map(|(_, v)| v.iter().map(|p| (p.fraction, get(p))))
                .unzip();
            chart =
                chart
                    .line(crit.as_str(), &xs, &ys, color)
                    .points("", &dx, &dy, color.lighten(0.4));
        }
        chart.save_both(dir.join(format!("pruning_sweep_{file}")))?; // PNG + SVG
    }
    Ok(())
}
