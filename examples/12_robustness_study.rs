//! How a Bayesian radio-galaxy classifier breaks, and how much domain
//! adaptation repairs it (after Ciprijanović et al. 2022): trains the BBB
//! LeNet on clean MBFRConfident and, beside it, the same network with an
//! MMD term between clean training images and unlabelled noisy ones; then,
//! per training seed, evaluates both on noisy copies of the test set
//! (Gaussian noise at several peak SNRs): accuracy, predictive entropy,
//! mutual information, latent (penultimate-layer) distance to the clean
//! image, and the AUROC of entropy for telling noisy from clean images;
//! PGD and one-pixel attack success on the clean model. Results per seed
//! are kept (`--out/s{seed}/result.json`), so a rerun only adds what is
//! missing; the table is mean ± std over seeds.
//!
//! ```text
//! cargo run --release --example 12_robustness_study -- --seeds 0,1,2 --threads 2 --docs docs/robustness
//! ```
//!
//! `--data PATH` must be a readable MiraBest release; without `--data`,
//! the default release or (absent) synthetic galaxies with a notice.

use fanaroff::bayes::{Elbo, ElboStep, VariationalConfig, bbb_lenet};
use fanaroff::calibrate::{Uncertainty, auroc};
use fanaroff::cli::DataSpec;
use fanaroff::nn::Sequential;
use fanaroff::nn::models::LeNetConfig;
use fanaroff::perturb::attack::{Bounds, Goal, Norm, OnePixel, Pgd};
use fanaroff::perturb::{
    GaussianSnr, Mmd, MmdStep, ModuleClassifier, latent_distance, perturb_batch,
};
use fanaroff::plot::{Color, Figure, LineChart};
use fanaroff::tensor::Tensor;
use fanaroff::train::{
    ArrayLoader, PredictConfig, TrainConfig, Trainer, TwoStream, Validation, predict_samples,
};
use fanaroff_examples::{Flags, argv, data_source, exit_on_error, init_logging};
use ndarray::{Array4, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const HELP: &str = "12_robustness_study: noise, attacks and MMD domain adaptation for the BBB LeNet

options (defaults in brackets):
  --data PATH        MiraBest full release; must exist [../shared/data/mirabest/MiraBest_full_batches.tar.gz, else synthetic]
  --synthetic N      N synthetic galaxies instead [off]
  --seeds LIST       training seeds [0,1,2]
  --epochs N         epochs per model [50]
  --snr LIST         peak SNRs of the noisy test copies [20,10,5,2]
  --adapt-snr S      peak SNR of the unlabelled target domain for MMD [5]
  --lambda L         weight of MMD^2 [0.5: the paper's 0.01 times the batch of 50,
                     because the ELBO sums the NLL over the batch where the paper averages]
  --pgd-eps LIST     L-inf PGD budgets in pixel units (0-255) [1,2,4,8]
  --one-pixel N      test images for the one-pixel attack [10]
  --draws N          weight draws for predictions and EOT [20]
  --threads N        rayon threads [all]
  --out DIR          models and per-seed results [target/robustness_study]
  --docs DIR         where robustness.md goes [--out]";

const FLAGS: [&str; 13] = [
    "--data",
    "--synthetic",
    "--seeds",
    "--epochs",
    "--snr",
    "--adapt-snr",
    "--lambda",
    "--pgd-eps",
    "--one-pixel",
    "--draws",
    "--threads",
    "--out",
    "--docs",
];

/// Raw test or training images as f32 0-255, `[N, 1, H, W]`.
fn raw(l: &ArrayLoader<u8>) -> Res<Array4<f32>> {
    Ok(l.examples().mapv(f32::from).into_dimensionality()?)
}

/// Scaled model inputs of raw images.
fn scaled(spec: &DataSpec, x: &Array4<f32>) -> Array4<f32> {
    let s = spec.scaling.scaling();
    x.mapv(|v| s.apply_value(v))
}

/// Trains (or resumes) the BBB LeNet, with an MMD term towards `target`
/// when given.
fn train(
    a: &Flags,
    seed: u64,
    train: &ArrayLoader<u8>,
    val: &ArrayLoader<u8>,
    target: Option<ArrayLoader<f32>>,
    dir: &Path,
) -> Res<Sequential> {
    let mut model = bbb_lenet(
        &LeNetConfig::default(),
        &VariationalConfig::default(),
        &mut StdRng::seed_from_u64(seed),
    )?;
    let cfg = TrainConfig::default()
        .epochs(a.get("--epochs", 50)?)
        .adam(5e-4)
        .seed(seed)
        .checkpoint_dir(dir.join("ckpt"))
        .resume(true)
        .progress(false);
    let elbo = ElboStep::new(Elbo::default())?;
    let t = Trainer::new(cfg)?.validation(Validation::new(val).samples(2)?);
    match target {
        None => t.step(elbo).fit(&mut model, train)?,
        Some(tgt) => {
            let end = model.len() - 1; // features of the penultimate layer
            let step = MmdStep::new(elbo, Mmd::default(), a.get("--lambda", 0.5)?, end);
            t.step(step)
                .fit(&mut model, &TwoStream::new(train.clone(), tgt)?)?
        }
    };
    Ok(model)
}

/// Accuracy, mean entropy and MI, and mean latent distance to `clean`,
/// plus per-image entropy, for scaled inputs `x`.
fn measure(
    model: &Sequential,
    x: &Array4<f32>,
    clean: &Array4<f32>,
    labels: &[usize],
    draws: usize,
) -> Res<(Value, Vec<f64>)> {
    let cfg = PredictConfig::with_samples(draws).seed(7);
    let s = predict_samples(model, x.view().into_dyn(), &cfg)?.mapv(f64::from);
    let u = Uncertainty::from_samples(s.view())?;
    let acc = u
        .predicted_class
        .iter()
        .zip(labels)
        .filter(|(p, y)| p == y)
        .count() as f64
        / labels.len() as f64;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let end = model.len() - 1;
    let d = latent_distance(
        model,
        end,
        &Tensor::new(clean.clone().into_dyn()),
        &Tensor::new(x.clone().into_dyn()),
        7,
    )?;
    let mi = u.mutual_information.clone().unwrap_or_default();
    let v = json!({"accuracy": acc, "entropy": mean(&u.normalised_entropy), "mi": mean(&mi), "latent_distance": mean(&d)});
    Ok((v, u.normalised_entropy))
}

/// Every measure of one model on clean and noisy test copies.
fn noise_sweep(
    a: &Flags,
    model: &Sequential,
    spec: &DataSpec,
    test_raw: &Array4<f32>,
    labels: &[usize],
    seed: u64,
) -> Res<Value> {
    let draws = a.get("--draws", 20)?;
    let clean = scaled(spec, test_raw);
    let (c, h_clean) = measure(model, &clean, &clean, labels, draws)?;
    let mut levels = vec![json!({"snr": "clean", "m": c})];
    for snr in a
        .list::<f64>("--snr")?
        .unwrap_or(vec![20.0, 10.0, 5.0, 2.0])
    {
        let noisy = scaled(
            spec,
            &perturb_batch(&GaussianSnr::new(snr)?, test_raw.view(), seed ^ 0xa015e)?,
        );
        let (mut m, h) = measure(model, &noisy, &clean, labels, draws)?;
        let scores: Vec<f64> = h_clean.iter().chain(&h).copied().collect();
        let positives: Vec<bool> = (0..scores.len()).map(|i| i >= h_clean.len()).collect();
        m["auroc_noisy_vs_clean"] = json!(auroc(&scores, &positives)?);
        levels.push(json!({"snr": snr, "m": m}));
    }
    Ok(Value::Array(levels))
}

/// PGD (L-inf, EOT) success on correctly classified test images, per budget.
fn attacks(
    a: &Flags,
    model: &Sequential,
    spec: &DataSpec,
    test_raw: &Array4<f32>,
    labels: &[usize],
    seed: u64,
) -> Res<Value> {
    let draws: usize = a.get("--draws", 20)?;
    let clean = scaled(spec, test_raw);
    let cls = ModuleClassifier::new(model, true);
    let s = spec.scaling.scaling();
    let bounds = Bounds::new(s.apply_value(0.0), s.apply_value(255.0))?;
    let unit = s.apply_value(1.0) - s.apply_value(0.0); // one pixel unit in input units
    let pred = |x: &Array4<f32>| -> Res<Vec<usize>> {
        let p = fanaroff::perturb::mean_probabilities(&cls, x.view(), draws, 11)?;
        Ok(p.outer_iter().map(|r| usize::from(r[1] > r[0])).collect())
    };
    let p0 = pred(&clean)?;
    let right: Vec<usize> = (0..labels.len()).filter(|&i| p0[i] == labels[i]).collect();
    let xs = clean.select(Axis(0), &right);
    let ys: Vec<usize> = right.iter().map(|&i| labels[i]).collect();
    let mut pgd_rows = Vec::new();
    for eps in a
        .list::<f32>("--pgd-eps")?
        .unwrap_or(vec![1.0, 2.0, 4.0, 8.0])
    {
        let pgd = Pgd::new(Norm::LInf, eps * unit, bounds)?
            .steps(10, 0.25 * eps * unit)?
            .eot(4)?;
        let adv = pgd.attack(&cls, xs.view(), &ys, seed)?;
        let p = pred(&adv)?;
        let flipped = p.iter().zip(&ys).filter(|(a, b)| a != b).count();
        pgd_rows
            .push(json!({"eps_pixels": eps, "success": flipped as f64 / ys.len().max(1) as f64}));
    }
    let n1: usize = a.get("--one-pixel", 10)?;
    let de = OnePixel::new(Goal::PAPER_UNTARGETED, bounds);
    let mut wins = 0;
    for (k, &i) in right.iter().take(n1).enumerate() {
        let r = de.attack(
            &cls,
            clean.index_axis(Axis(0), i),
            labels[i],
            seed + k as u64,
        )?;
        wins += usize::from(r.success);
    }
    Ok(
        json!({"pgd": pgd_rows, "one_pixel": {"images": n1.min(right.len()), "success": wins as f64 / n1.min(right.len()).max(1) as f64}}),
    )
}

fn one_seed(a: &Flags, spec: &DataSpec, seed: u64, out: &Path) -> Res<Value> {
    let path = out.join(format!("s{seed}/result.json"));
    if let Ok(t) = std::fs::read_to_string(&path) {
        return Ok(serde_json::from_str(&t)?);
    }
    let data = spec.load(seed)?;
    let (tr, va, te) = (
        spec.train_loader(&data.train)?,
        spec.loader(&data.val)?,
        spec.loader(&data.test)?,
    );
    let noisy_train = perturb_batch(
        &GaussianSnr::new(a.get("--adapt-snr", 5.0)?)?,
        raw(&tr)?.view(),
        seed ^ 0x7a2,
    )?;
    let target = ArrayLoader::new(
        scaled(spec, &noisy_train).into_dyn(),
        tr.labels().to_vec(),
        2,
    )?;
    eprintln!("seed {seed}: training the clean model");
    let clean_model = train(a, seed, &tr, &va, None, &out.join(format!("s{seed}/clean")))?;
    eprintln!("seed {seed}: training with MMD towards noisy images");
    let mmd_model = train(
        a,
        seed,
        &tr,
        &va,
        Some(target),
        &out.join(format!("s{seed}/mmd")),
    )?;
    let test_raw = raw(&te)?;
    let r = json!({
        "seed": seed, "data": data.source,
        "clean_model": noise_sweep(a, &clean_model, spec, &test_raw, te.labels(), seed)?,
        "mmd_model": noise_sweep(a, &mmd_model, spec, &test_raw, te.labels(), seed)?,
        "attacks": attacks(a, &clean_model, spec, &test_raw, te.labels(), seed)?,
    });
    std::fs::create_dir_all(path.parent().unwrap_or(out))?;
    fanaroff::train::write_atomic(&path, serde_json::to_string_pretty(&r)?.as_bytes())?;
    Ok(r)
}

fn main() {
    init_logging();
    exit_on_error(run());
}

fn run() -> Res<()> {
    let f = Flags::parse(&argv(), &FLAGS, HELP)?;
    if let Some(t) = f.opt("--threads")? {
        fanaroff::tensor::set_num_threads(t)?;
    }
    let mut spec = DataSpec::default();
    data_source(&f, &mut spec)?;
    let out: PathBuf = f.get("--out", PathBuf::from("target/robustness_study"))?;
    let docs: PathBuf = f.opt("--docs")?.unwrap_or_else(|| out.clone());
    let mut results = Vec::new();
    for seed in f.list::<u64>("--seeds")?.unwrap_or(vec![0, 1, 2]) {
        results.push(one_seed(&f, &spec, seed, &out)?);
    }
    let md = report(&results);
    std::fs::create_dir_all(&docs)?;
    std::fs::write(docs.join("robustness.md"), &md)?;
    plots(&results, &docs)?;
    println!(
        "{md}\nwrote {}/robustness.md, robustness_noise.png, robustness_pgd.png",
        docs.display()
    );
    Ok(())
}

/// Mean ± std over seeds of `get(result)`.
fn over_seeds(rs: &[Value], get: impl Fn(&Value) -> Option<f64>) -> String {
    let v: Vec<f64> = rs.iter().filter_map(get).collect();
    if v.is_empty() {
        return "—".into();
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    if v.len() == 1 {
        format!("{m:.3}")
    } else {
        format!("{m:.3} ± {sd:.3}")
    }
}

fn report(rs: &[Value]) -> String {
    let mut md = format!(
        "{} seeds ({}); mean ± std over seeds.\n\n| test images | model | accuracy | entropy | MI | latent distance | AUROC noisy vs clean |\n|---|---|---|---|---|---|---|\n",
        rs.len(),
        rs.first().and_then(|r| r["data"].as_str()).unwrap_or("")
    );
    let levels = rs
        .first()
        .and_then(|r| r["clean_model"].as_array())
        .map_or(0, |v| v.len());
    for l in 0..levels {
        let name = rs[0]["clean_model"][l]["snr"].to_string().replace('"', "");
        for model in ["clean_model", "mmd_model"] {
            let cell = |k: &str| over_seeds(rs, |r| r[model][l]["m"][k].as_f64());
            md.push_str(&format!(
                "| SNR {name} | {} | {} | {} | {} | {} | {} |\n",
                model.trim_end_matches("_model"),
                cell("accuracy"),
                cell("entropy"),
                cell("mi"),
                cell("latent_distance"),
                cell("auroc_noisy_vs_clean")
            ));
        }
    }
    md.push_str("\n| attack (clean model) | success rate |\n|---|---|\n");
    let n_pgd = rs
        .first()
        .and_then(|r| r["attacks"]["pgd"].as_array())
        .map_or(0, |v| v.len());
    for k in 0..n_pgd {
        let eps = rs[0]["attacks"]["pgd"][k]["eps_pixels"]
            .as_f64()
            .unwrap_or(f64::NAN);
        md.push_str(&format!(
            "| PGD L-inf, {eps} pixel units, EOT 4 | {} |\n",
            over_seeds(rs, |r| r["attacks"]["pgd"][k]["success"].as_f64())
        ));
    }
    md.push_str(&format!(
        "| one pixel (p_true < 0.05) | {} |\n",
        over_seeds(rs, |r| r["attacks"]["one_pixel"]["success"].as_f64())
    ));
    md
}

/// Mean over seeds of `get(result)`.
fn seed_mean(rs: &[Value], get: impl Fn(&Value) -> Option<f64>) -> f64 {
    let v: Vec<f64> = rs.iter().filter_map(get).collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Accuracy and entropy vs SNR (both models) and PGD success vs budget,
/// means over seeds.
fn plots(rs: &[Value], docs: &Path) -> Res<()> {
    let levels: Vec<(usize, f64)> = rs[0]["clean_model"]
        .as_array()
        .map(|v| {
            v.iter()
                .enumerate()
                .filter_map(|(l, r)| r["snr"].as_f64().map(|s| (l, s)))
                .collect()
        })
        .unwrap_or_default();
    let snr: Vec<f64> = levels.iter().map(|&(_, s)| s).collect();
    let mut chart = LineChart::new("BBB LeNet on noisy MBFRConfident (mean over seeds)")
        .x_label("peak SNR of the added Gaussian noise")
        .y_label("accuracy / normalised entropy")
        .y_range(0.0, 1.0);
    let series = [
        ("accuracy, clean model", "clean_model", "accuracy"),
        ("accuracy, MMD model", "mmd_model", "accuracy"),
        ("entropy, clean model", "clean_model", "entropy"),
        ("entropy, MMD model", "mmd_model", "entropy"),
    ];
    for (j, (name, model, key)) in series.iter().enumerate() {
        let ys: Vec<f64> = levels
            .iter()
            .map(|&(l, _)| seed_mean(rs, |r| r[*model][l]["m"][*key].as_f64()))
            .collect();
        chart = chart.line(*name, &snr, &ys, Color::palette(j));
    }
    chart.save_both(docs.join("robustness_noise"))?; // PNG + SVG
    let n = rs[0]["attacks"]["pgd"].as_array().map_or(0, |v| v.len());
    let eps: Vec<f64> = (0..n)
        .filter_map(|k| rs[0]["attacks"]["pgd"][k]["eps_pixels"].as_f64())
        .collect();
    let rate: Vec<f64> = (0..n)
        .map(|k| seed_mean(rs, |r| r["attacks"]["pgd"][k]["success"].as_f64()))
        .collect();
    LineChart::new("PGD (L-inf, EOT over 4 draws) on the clean BBB LeNet")
        .x_label("budget in pixel units (of 255)")
        .y_label("success rate (mean over seeds)")
        .y_range(0.0, 1.0)
        .line("PGD", &eps, &rate, Color::palette(0))
        .save_both(docs.join("robustness_pgd"))?;
    Ok(())
}
