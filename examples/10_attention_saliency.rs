//! Where the networks look: the fraction of attention and of saliency
//! (gradient, gradient x input, LRP) on source pixels of the MBFRConfident
//! test images, for trained attention-gated networks and for the plain
//! LeNet trained with the same recipe.
//!
//! ```text
//! cargo run --release --example 09_attention_gating -- --norms softmax --aggs mean --constant-lr
//! cargo run --release --example 10_attention_saliency -- \
//!     --runs target/attention_gating/softmax_mean_s0_const --lenet-epochs 100 --docs docs/attention
//! ```
//!
//! Saliency maps are signed; their mass is that of their absolute value
//! (summed over the input channel). Attention maps are non-negative after
//! their minimum is subtracted. Source pixels are the non-zero pixels of the
//! processed image, as in `attention_gating`.

use fanaroff::attention::{
    Aggregation, AttentionNet, AttentionNetConfig, InputRule, LrpConfig, Normalisation,
    attention_maps, gradient, gradient_x_input, lrp, lrp_attention, per_pixel, source_mass,
};
use fanaroff::data::{Dataset, Scaling};
use fanaroff::nn::models::{LeNetConfig, PlainLayers, lenet};
use fanaroff::nn::{Module, ModuleExt, Sequential, load_model, save_model};
use fanaroff::plot::{Figure, ImageGrid};
use fanaroff::tensor::Tensor;
use fanaroff::train::{
    ArrayLoader, CrossEntropyStep, Loader, PredictConfig, TrainConfig, Trainer, Validation, argmax,
    predict_samples, predictive_mean, write_atomic,
};
use fanaroff_examples::{Flags, bowles_augment, load_confident, mean_std_cell};
use ndarray::{Array2, Array4, ArrayD, Axis, Ix2, Ix4};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const HELP: &str = "10_attention_saliency: attention and saliency mass on source pixels

options (defaults in brackets):
  --runs LIST          attention_gating run folders (result.json + model.safetensors) [none]
  --data PATH          MiraBest full release [../shared/data/mirabest/MiraBest_full_batches.tar.gz;
                       synthetic images with a notice when the default is absent]
  --synthetic N        use N synthetic galaxies [off]
  --lenet-epochs N     also train the plain LeNet (232,444 parameters) with the attention
                       recipe (batch 16, constant Adam rate, the paper's augmentation, model
                       selection by validation NLL) and explain it [0: no LeNet]
  --lenet-seeds LIST   its training seeds [0,1,2]
  --lenet-lr LR        its Adam learning rate [5e-5, the attention recipe's]
  --epsilon E          LRP stabiliser [1e-6]; the input layer uses the z^B rule on [-1, 1]
  --batch N            images per explanation batch [8]
  --threads N          rayon threads [all]
  --out DIR            LeNet runs and per-model JSON [target/attention_saliency]
  --docs DIR           where attention_saliency.md and the figure go [--out]";

const FLAGS: [&str; 11] = [
    "--runs",
    "--data",
    "--synthetic",
    "--lenet-epochs",
    "--lenet-seeds",
    "--lenet-lr",
    "--epsilon",
    "--batch",
    "--threads",
    "--out",
    "--docs",
];

struct Args {
    runs: Vec<PathBuf>,
    data: Option<PathBuf>,
    synthetic: Option<usize>,
    lenet_epochs: usize,
    lenet_seeds: Vec<u64>,
    lenet_lr: f32,
    lrp: LrpConfig,
    batch: usize,
    out: PathBuf,
    docs: Option<PathBuf>,
}

fn parse_args(argv: &[String]) -> Res<Args> {
    let f = Flags::parse(argv, &FLAGS, HELP)?;
    if let Some(t) = f.opt::<usize>("--threads")? {
        fanaroff::tensor::set_num_threads(t)?;
    }
    let a = Args {
        runs: f.list("--runs")?.unwrap_or_default(),
        data: f.opt("--data")?,
        synthetic: f.opt("--synthetic")?,
        lenet_epochs: f.get("--lenet-epochs", 0)?,
        lenet_seeds: f.list("--lenet-seeds")?.unwrap_or(vec![0, 1, 2]),
        lenet_lr: f.get("--lenet-lr", 5e-5)?,
        lrp: LrpConfig {
            epsilon: f.get("--epsilon", 1e-6)?,
            input_rule: InputRule::ZBox {
                low: -1.0,
                high: 1.0,
            },
        },
        batch: f.get("--batch", 8)?,
        out: f.get("--out", PathBuf::from("target/attention_saliency"))?,
        docs: f.opt("--docs")?,
    };
    if a.runs.is_empty() && a.lenet_epochs == 0 {
        return Err("nothing to explain: give --runs and/or --lenet-epochs".into());
    }
    if a.batch == 0 || a.lrp.epsilon.is_nan() || a.lrp.epsilon < 0.0 {
        return Err("--batch must be positive and --epsilon non-negative".into());
    }
    Ok(a)
}

/// The parts of an `attention_gating` result this example needs.
#[derive(Debug, Deserialize)]
struct RunInfo {
    norm: String,
    agg: String,
    seed: u64,
}

/// Mass on source pixels of one trained model, averaged over test images.
#[derive(Debug, Clone, Serialize)]
struct Row {
    model: String,
    seed: u64,
    test_accuracy: f64,
    /// Per gate (attention networks only).
    attention: Vec<f64>,
    gradient: f64,
    gradient_x_input: f64,
    lrp: f64,
}

/// The test images: inputs in [-1, 1], raw pixels (to find sources), labels.
struct Test {
    loader: ArrayLoader<u8>,
    raw: Array4<f32>,
}

impl Test {
    fn new(ds: &Dataset) -> Res<Self> {
        let loader = ArrayLoader::from_dataset(ds, Scaling::Symmetric)?;
        let raw = loader
            .examples()
            .mapv(f32::from)
            .into_dimensionality::<Ix4>()?;
        Ok(Test { loader, raw })
    }

    fn batches(&self, size: usize) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        (0..self.loader.len())
            .step_by(size)
            .map(move |s| s..(s + size).min(self.loader.len()))
    }

    fn inputs(&self, r: std::ops::Range<usize>) -> Tensor {
        Tensor::new(
            self.loader
                .inputs()
                .slice_axis(Axis(0), r.into())
                .to_owned(),
        )
    }

    fn raw(&self, r: std::ops::Range<usize>) -> Array4<f32> {
        self.raw.slice_axis(Axis(0), r.into()).to_owned()
    }
}

/// Predicted class of every test image, and the accuracy.
fn predictions(model: &dyn Module, test: &Test) -> Res<(Vec<usize>, f64)> {
    let x = test.loader.inputs();
    let cfg = PredictConfig::with_samples(1).batch_size(32);
    let p = predictive_mean(predict_samples(model, x.view(), &cfg)?.view());
    let classes: Vec<usize> = p
        .outer_iter()
        .map(|r| argmax(r.as_slice().unwrap_or(&r.to_vec())))
        .collect();
    let labels = test.loader.labels();
    let right = classes.iter().zip(labels).filter(|(c, y)| c == y).count();
    Ok((classes, right as f64 / labels.len() as f64))
}

/// Mean over test images of the source mass of `explain`'s absolute map.
fn mass_of(
    test: &Test,
    batch: usize,
    classes: &[usize],
    mut explain: impl FnMut(&Tensor, &[usize]) -> Res<ArrayD<f32>>,
) -> Res<f64> {
    let mut all = Vec::new();
    for r in test.batches(batch) {
        let map = per_pixel(&explain(&test.inputs(r.clone()), &classes[r.clone()])?);
        all.extend(source_mass(&test.raw(r), &map.mapv(f32::abs))?);
    }
    Ok(all.iter().sum::<f64>() / all.len() as f64)
}

/// Gradient and gradient x input masses of a model.
fn gradient_masses(
    model: &dyn Module,
    test: &Test,
    batch: usize,
    classes: &[usize],
) -> Res<(f64, f64)> {
    let g = mass_of(test, batch, classes, |x, c| Ok(gradient(model, x, c, 0)?))?;
    let gx = mass_of(test, batch, classes, |x, c| {
        Ok(gradient_x_input(model, x, c, 0)?)
    })?;
    Ok((g, gx))
}

/// Loads an `attention_gating` run in evaluation mode.
fn load_attention(dir: &Path) -> Res<(AttentionNet, RunInfo)> {
    let text = std::fs::read_to_string(dir.join("result.json")).map_err(|e| {
        format!(
            "{}: {e} (not a finished attention_gating run?)",
            dir.display()
        )
    })?;
    let info: RunInfo = serde_json::from_str(&text)
        .map_err(|e| format!("{}: {e}", dir.join("result.json").display()))?;
    let find = |name: &str| Normalisation::ALL.into_iter().find(|n| n.name() == name);
    let cfg = AttentionNetConfig {
        normalisation: find(&info.norm).ok_or("unknown normalisation in result.json")?,
        aggregation: Aggregation::ALL
            .into_iter()
            .find(|n| n.name() == info.agg)
            .ok_or("unknown aggregation in result.json")?,
        ..AttentionNetConfig::default()
    };
    let mut net = cfg.build(&mut PlainLayers::new(&mut StdRng::seed_from_u64(info.seed)))?;
    load_model(&mut net, dir.join("model.safetensors"), true)?;
    net.eval();
    Ok((net, info))
}

/// The test images of the data a run of `seed` was trained on.
fn load_test(a: &Args, seed: u64) -> Res<Test> {
    let mut rng = StdRng::seed_from_u64(seed);
    let d = load_confident(a.data.as_deref(), a.synthetic, seed, 0.2, &mut rng)?;
    Test::new(&d.test)
}

/// Attention and saliency masses of one attention run.
fn explain_attention(dir: &Path, a: &Args) -> Res<Row> {
    let (mut net, info) = load_attention(dir)?;
    let test = &load_test(a, info.seed)?;
    let (classes, acc) = predictions(&net, test)?;
    let mut per_gate = vec![Vec::new(); net.num_gates()];
    for r in test.batches(a.batch) {
        for (k, m) in attention_maps(&net, &test.inputs(r.clone()), 0)?
            .iter()
            .enumerate()
        {
            per_gate[k].extend(source_mass(&test.raw(r.clone()), m)?);
        }
    }
    let (g, gx) = gradient_masses(&net, test, a.batch, &classes)?;
    let l = mass_of(test, a.batch, &classes, |x, c| {
        Ok(lrp_attention(&mut net, x, c, &a.lrp)?)
    })?;
    let folder = dir.file_name().unwrap_or_default().to_string_lossy();
    Ok(Row {
        // one name for all seeds of a setting: the folder without `_s<seed>`
        model: folder.replacen(&format!("_s{}", info.seed), "", 1),
        seed: info.seed,
        test_accuracy: acc,
        attention: per_gate
            .iter()
            .map(|v| v.iter().sum::<f64>() / v.len() as f64)
            .collect(),
        gradient: g,
        gradient_x_input: gx,
        lrp: l,
    })
}

/// Trains (or loads) the plain LeNet with the attention recipe.
fn lenet_model(a: &Args, seed: u64) -> Res<(Sequential, Test)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let d = load_confident(a.data.as_deref(), a.synthetic, seed, 0.2, &mut rng)?;
    let mut net = lenet(&LeNetConfig::default(), &mut rng)?;
    let dir = a.out.join(format!("lenet_s{seed}_e{}", a.lenet_epochs));
    let path = dir.join("model.safetensors");
    if path.exists() {
        load_model(&mut net, &path, true)?;
    } else {
        let train = ArrayLoader::from_dataset(&d.train, Scaling::Symmetric)?
            .with_augment(bowles_augment().check()?);
        let val = ArrayLoader::from_dataset(&d.val, Scaling::Symmetric)?;
        let cfg = TrainConfig::default()
            .epochs(a.lenet_epochs)
            .batch_size(16)
            .adam(a.lenet_lr)
            .schedule(None)
            .seed(seed)
            .checkpoint_dir(dir.join("ckpt"))
            .resume(true);
        eprintln!("== LeNet seed {seed}: {} epochs", a.lenet_epochs);
        Trainer::new(cfg)?
            .validation(Validation::new(&val).samples(1)?)
            .step(CrossEntropyStep)
            .fit(&mut net, &train)?;
        save_model(&net, &path)?;
    }
    net.eval();
    Ok((net, Test::new(&d.test)?))
}

/// Saliency masses of the plain LeNet of one seed.
fn explain_lenet(a: &Args, seed: u64) -> Res<Row> {
    let (mut net, test) = lenet_model(a, seed)?;
    let (classes, acc) = predictions(&net, &test)?;
    let (g, gx) = gradient_masses(&net, &test, a.batch, &classes)?;
    let l = mass_of(&test, a.batch, &classes, |x, c| {
        Ok(lrp(&mut net, x, c, &a.lrp)?)
    })?;
    Ok(Row {
        model: format!("lenet_e{}", a.lenet_epochs),
        seed,
        test_accuracy: acc,
        attention: Vec::new(),
        gradient: g,
        gradient_x_input: gx,
        lrp: l,
    })
}

/// One table row per model (mean ± std over its seeds).
fn table(rows: &[Row], area: f64, a: &Args) -> String {
    let mut md = format!(
        "# Attention and saliency on source pixels\n\n\
         Mean over the MBFRConfident test images of the fraction of each map's mass on \
         source pixels (non-zero in the processed image; {:.1} % of the area). Attention: \
         each gate's map minus its minimum. Saliency: absolute values, for the predicted \
         class; LRP with epsilon {:e} and the z^B rule on [-1, 1] at the input. Cells: \
         mean ± std over seeds.\n\n\
         | model | seeds | test accuracy | attention (gate 1, 2, 3) | gradient | gradient x input | LRP |\n\
         |---|---|---|---|---|---|---|\n",
        100.0 * area,
        a.lrp.epsilon
    );
    let mut models: Vec<&str> = Vec::new();
    for r in rows {
        if !models.contains(&r.model.as_str()) {
            models.push(&r.model);
        }
    }
    for m in models {
        let g: Vec<&Row> = rows.iter().filter(|r| r.model == m).collect();
        let col =
            |f: &dyn Fn(&Row) -> f64| mean_std_cell(&g.iter().map(|r| f(r)).collect::<Vec<_>>());
        let gates = (0..g[0].attention.len())
            .map(|k| col(&|r| r.attention[k]))
            .collect::<Vec<_>>()
            .join(", ");
        let seeds: Vec<String> = g.iter().map(|r| r.seed.to_string()).collect();
        let _ = writeln!(
            md,
            "| {m} | {} | {} | {} | {} | {} | {} |",
            seeds.join(", "),
            col(&|r| r.test_accuracy),
            if gates.is_empty() {
                "—".into()
            } else {
                gates
            },
            col(&|r| r.gradient),
            col(&|r| r.gradient_x_input),
            col(&|r| r.lrp)
        );
    }
    md
}

/// A heat map `[H, W]` of image `i` from a per-image explanation.
fn tile(map: &ArrayD<f32>, i: usize) -> Res<Array2<f32>> {
    let m = per_pixel(map).mapv(f32::abs);
    Ok(m.index_axis(Axis(0), i)
        .to_owned()
        .into_dimensionality::<Ix2>()?)
}

/// Rows of test images (three right, three wrong for the attention net);
/// columns: the image, each gate, then |gradient| and |LRP| of the
/// attention net and, when trained, of the first LeNet.
fn figure(a: &Args, docs: &Path) -> Res<()> {
    let Some(dir) = a.runs.first() else {
        return Ok(());
    };
    let (mut net, info) = load_attention(dir)?;
    let test = load_test(a, info.seed)?;
    let mut le = match (a.lenet_epochs, a.lenet_seeds.first()) {
        (0, _) | (_, None) => None,
        (_, Some(&s)) => Some(lenet_model(a, s)?.0),
    };
    let (classes, _) = predictions(&net, &test)?;
    let labels = test.loader.labels();
    let right = |i: &usize| classes[*i] == labels[*i];
    let mut rows: Vec<usize> = (0..labels.len()).filter(right).take(3).collect();
    rows.extend((0..labels.len()).filter(|i| !right(i)).take(3));
    let mut grid = ImageGrid::new(1 + net.num_gates() + if le.is_some() { 4 } else { 2 });
    for &i in &rows {
        let x = test.inputs(i..i + 1);
        let c = &classes[i..i + 1];
        let img = test
            .raw
            .index_axis(Axis(0), i)
            .index_axis(Axis(0), 0)
            .to_owned();
        grid.push(img.view(), None)?;
        let mut maps: Vec<ArrayD<f32>> = attention_maps(&net, &x, 0)?;
        maps.push(gradient(&net, &x, c, 0)?);
        maps.push(lrp_attention(&mut net, &x, c, &a.lrp)?);
        if let Some(l) = le.as_mut() {
            maps.push(gradient(l, &x, c, 0)?);
            maps.push(lrp(l, &x, c, &a.lrp)?);
        }
        for m in &maps {
            grid.push(img.view(), Some(tile(m, 0)?.view()))?;
        }
    }
    let path = docs.join("attention_saliency.png");
    grid.save(&path)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn run(a: &Args) -> Res<()> {
    std::fs::create_dir_all(&a.out)?;
    let docs = a.docs.clone().unwrap_or_else(|| a.out.clone());
    std::fs::create_dir_all(&docs)?;
    let mut rows = Vec::new();
    for dir in &a.runs {
        eprintln!("== {}", dir.display());
        rows.push(explain_attention(dir, a)?);
    }
    if a.lenet_epochs > 0 {
        for &seed in &a.lenet_seeds {
            rows.push(explain_lenet(a, seed)?);
        }
    }
    let test = load_test(a, 0)?;
    let area = test.raw.iter().filter(|&&p| p != 0.0).count() as f64 / test.raw.len() as f64;
    let md = table(&rows, area, a);
    write_atomic(
        &a.out.join("rows.json"),
        serde_json::to_string_pretty(&rows)?.as_bytes(),
    )?;
    write_atomic(&docs.join("attention_saliency.md"), md.as_bytes())?;
    figure(a, &docs)?;
    print!("{md}");
    Ok(())
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = parse_args(&argv).and_then(|a| run(&a)) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
