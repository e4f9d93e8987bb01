//! Times exactly the work of `../shared/bench/torch_bbb_reference.py bench`
//! (the PyTorch CPU anchor), with the same JSON keys, so the two programs can
//! be run alternately and compared:
//!
//! * (a) `epoch_bbb`: a BBB training epoch on the 704 images of the basic
//!   MiraBest release, batch 50, ELBO (sum-NLL + T/M single-sample MC KL, GMM
//!   prior, `ln q` with detached `mu`), Adam lr 1e-4, through the generic loop;
//! * (b) `epoch_det`: the same epoch for the deterministic twin;
//! * (c) `inference_bbb_<S>`: the `S`-draw predictive on the 88 test images
//!   (one pass of all 88 per draw);
//! * (d) `minibatch`: one minibatch of 50, forward + backward (and the full
//!   step, forward without graph, and the weight draw + MC KL alone).
//!
//! ```text
//! cargo run --release --example 15_bench_vs_reference -- --threads 2 --out target/bench_ours.json
//! ```

use fanaroff::bayes::{
    Elbo, ElboStep, LogQGradient, PredictConfig, VariationalConfig, bbb_lenet, forward_kl,
    predict_samples, variational_layers_mut,
};
use fanaroff::data::MiraBest;
use fanaroff::nn::models::{LeNetConfig, lenet};
use fanaroff::nn::{
    AdamConfig, Module, ModuleExt, Optimizer, Pass, Reduction, Sequential, cross_entropy,
};
use fanaroff::tensor::{NoGradGuard, Tensor};
use fanaroff::train::{ArrayLoader, CrossEntropyStep, Loader, TrainConfig, Trainer};
use fanaroff_examples::alloc_count::{Counting, allocations};
use fanaroff_examples::timing::{summarize, timed};
use fanaroff_examples::{SCALING, median};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use std::path::PathBuf;

#[global_allocator]
static GLOBAL: Counting = Counting;

const HELP: &str =
    "15_bench_vs_reference: the timings of torch_bbb_reference.py bench, same JSON keys

options (defaults in brackets):
  --data PATH        MiraBest basic release [../shared/data/mirabest/MiraBest_basic_batches.tar.gz]
  --threads N        rayon threads [2]
  --repeats N        repeats of the epochs and the predictive [5]
  --mb-repeats N     repeats of each minibatch measurement [20]
  --samples N        draws of the predictive [50]
  --draws-per-pass G draws of the predictive evaluated in one forward pass [1]
  --predict-batch N  images per forward pass of the predictive [all 88]
  --batch N          minibatch size of the epochs and of (d) [50]
  --out PATH         write the JSON here [print only]";

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Args {
    data: PathBuf,
    threads: usize,
    repeats: usize,
    mb_repeats: usize,
    samples: usize,
    draws_per_pass: usize,
    predict_batch: Option<usize>,
    batch: usize,
    out: Option<PathBuf>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut a = Args {
        data: PathBuf::from("../shared/data/mirabest/MiraBest_basic_batches.tar.gz"),
        threads: 2,
        repeats: 5,
        mb_repeats: 20,
        samples: 50,
        draws_per_pass: 1,
        predict_batch: None,
        batch: 50,
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |v: String| {
            v.parse::<usize>()
                .map_err(|_| format!("cannot parse {v:?}"))
        };
        match flag.as_str() {
            "--help" | "-h" => return Ok(None),
            "--data" => a.data = PathBuf::from(val()?),
            "--threads" => a.threads = num(val()?)?,
            "--repeats" => a.repeats = num(val()?)?,
            "--mb-repeats" => a.mb_repeats = num(val()?)?,
            "--samples" => a.samples = num(val()?)?,
            "--draws-per-pass" => a.draws_per_pass = num(val()?)?,
            "--predict-batch" => a.predict_batch = Some(num(val()?)?.max(1)),
            "--batch" => a.batch = num(val()?)?,
            "--out" => a.out = Some(PathBuf::from(val()?)),
            other => return Err(format!("unknown option {other:?}; see --help")),
        }
    }
    if [
        a.threads,
        a.repeats,
        a.mb_repeats,
        a.samples,
        a.batch,
        a.draws_per_pass,
    ]
    .contains(&0)
    {
        return Err(
            "--threads, --repeats, --mb-repeats, --samples, --draws-per-pass and \
             --batch must be >= 1"
                .into(),
        );
    }
    Ok(Some(a))
}

/// `warmup` untimed calls, then `repeats` timed ones.
fn flops() -> (u64, u64, u64, u64) {
    let (mut f, mut dw, mut dx, mut params, mut h) = (0, 0, 0, 0, 150u64);
    for (ci, co) in [(1u64, 6u64), (6, 16), (16, 26), (26, 32)] {
        let ho = h + 2 - 5 + 1;
        let mac = co * ci * 25 * ho * ho;
        (f, dw, dx) = (f + mac, dw + mac, dx + if ci != 1 { mac } else { 0 });
        params += co * ci * 25 + co;
        h = ho / 2;
    }
    for (ci, co) in [(7 * 7 * 32u64, 120u64), (120, 84), (84, 2)] {
        (f, dw, dx, params) = (
            f + ci * co,
            dw + ci * co,
            dx + ci * co,
            params + ci * co + co,
        );
    }
    (f, dw, dx, params)
}

struct Models {
    bbb: Sequential,
    det: Sequential,
}

fn models() -> Res<Models> {
    let vcfg = VariationalConfig::default()
        .log_q_gradient(LogQGradient::DetachedMu)
        .check()?;
    let mut rng = StdRng::seed_from_u64(0);
    let bbb = bbb_lenet(&LeNetConfig::default(), &vcfg, &mut rng)?;
    let det = lenet(&LeNetConfig::default(), &mut rng)?;
    Ok(Models { bbb, det })
}

/// (d) and the other one-minibatch measurements, keyed as the reference.
fn minibatch(x: &Tensor, y: &[usize], nb: usize, reps: usize) -> Res<Value> {
    let Models { mut bbb, mut det } = models()?;
    let elbo = Elbo::default().temperature(1e-2).check()?;
    let mut rng = StdRng::seed_from_u64(1);
    let mut adam_b = AdamConfig::with_lr(1e-4).build()?;
    let mut adam_d = AdamConfig::with_lr(1e-4).build()?;
    let mut out = serde_json::Map::new();
    let mut record = |name: &str, f: &mut dyn FnMut() -> Res<()>| -> Res<()> {
        let ts = timed(f, reps, 3)?;
        println!("minibatch {name:<22} median {:.4} s", median(ts.clone()));
        out.insert(name.into(), summarize(&ts));
        Ok(())
    };
    let bbb_loss = |m: &Sequential, r: &mut StdRng| -> Res<Tensor> {
        let (logits, kl) = forward_kl(m, x, r)?;
        Ok(elbo.loss(&logits, y, &kl, 0, nb)?.loss)
    };
    record("bbb_fwd_bwd", &mut || {
        bbb_loss(&bbb, &mut rng)?.backward()?;
        Ok(())
    })?;
    record("bbb_step", &mut || {
        let g = bbb_loss(&bbb, &mut rng)?.backward()?;
        Ok(adam_b.step(&mut bbb, &g)?)
    })?;
    let det_loss = |m: &Sequential, r: &mut StdRng| -> Res<Tensor> {
        Ok(cross_entropy(
            &m.forward(x, &mut Pass::new(r))?,
            y,
            Reduction::Sum,
        )?)
    };
    record("det_fwd_bwd", &mut || {
        det_loss(&det, &mut rng)?.backward()?;
        Ok(())
    })?;
    record("det_step", &mut || {
        let g = det_loss(&det, &mut rng)?.backward()?;
        Ok(adam_d.step(&mut det, &g)?)
    })?;
    record("bbb_fwd_nograd", &mut || {
        let _g = NoGradGuard::new();
        bbb.forward_rng(x, &mut rng)?;
        Ok(())
    })?;
    record("det_fwd_nograd", &mut || {
        let _g = NoGradGuard::new();
        det.forward_rng(x, &mut rng)?;
        Ok(())
    })?;
    record("bbb_sample_kl_fwd_bwd", &mut || {
        let mut terms = Vec::new();
        variational_layers_mut(&mut bbb, &mut |_, l| terms.push(l.kl(&mut rng)));
        let mut total = fanaroff::bayes::KlTerms::zero();
        for k in terms {
            total = total.add(&k?)?;
        }
        {
            total.weighted(1.0, 1.0)?.backward()?;
            Ok(())
        }
    })?;
    Ok(Value::Object(out))
}

fn epoch_config(batch: usize) -> TrainConfig {
    TrainConfig::default()
        .epochs(1)
        .batch_size(batch)
        .adam(1e-4)
        .schedule(None)
        .restore_best(false)
        .progress(false)
        .log_epochs(false)
}

/// (a), (b) and (c).
fn epochs_and_predictive(
    train: &dyn Loader,
    test_x: &ndarray::ArrayD<f32>,
    a: &Args,
) -> Res<Value> {
    let Models { mut bbb, mut det } = models()?;
    let mut tb = Trainer::new(epoch_config(a.batch))?
        .step(ElboStep::new(Elbo::default().temperature(1e-2))?);
    let ep_b = timed(
        &mut || tb.fit(&mut bbb, train).map(|_| ()).map_err(Into::into),
        a.repeats,
        1,
    )?;
    println!(
        "epoch BBB  median {:.3} s  {ep_b:.3?}",
        median(ep_b.clone())
    );
    let allocs = allocations(&mut || tb.fit(&mut bbb, train).map(|_| ()).map_err(Into::into))?;
    let mut td = Trainer::new(epoch_config(a.batch))?.step(CrossEntropyStep);
    let ep_d = timed(
        &mut || td.fit(&mut det, train).map(|_| ()).map_err(Into::into),
        a.repeats,
        1,
    )?;
    println!(
        "epoch det  median {:.3} s  {ep_d:.3?}",
        median(ep_d.clone())
    );
    let n_test = test_x.shape()[0];
    let pcfg = PredictConfig::with_samples(a.samples)
        .batch_size(a.predict_batch.unwrap_or(n_test))
        .draws_per_pass(a.draws_per_pass);
    let inf = timed(
        &mut || {
            predict_samples(&bbb, test_x.view(), &pcfg)?;
            Ok(())
        },
        a.repeats,
        1,
    )?;
    println!(
        "inference ({} samples x {n_test} images, {} per pass) median {:.3} s  {inf:.3?}",
        a.samples,
        a.draws_per_pass,
        median(inf.clone())
    );
    let key = format!("inference_bbb_{}", a.samples);
    Ok(json!({
        "epoch_bbb": summarize(&ep_b), "epoch_det": summarize(&ep_d), key: summarize(&inf),
        "allocations_epoch_bbb": allocs, "draws_per_pass": a.draws_per_pass,
    }))
}

fn run(a: &Args) -> Res<()> {
    fanaroff::tensor::set_num_threads(a.threads)?;
    let mb = MiraBest::open(&a.data)?;
    let train = ArrayLoader::from_dataset(mb.train(), SCALING)?;
    let test_x = ArrayLoader::from_dataset(mb.test(), SCALING)?.inputs();
    let (f, dw, dx, n_params) = flops();
    let (fwd_flop, train_flop) = (2 * f, 2 * (f + dw + dx));
    println!(
        "fanaroff, threads {}, data {} train / {} test",
        fanaroff::tensor::num_threads(),
        train.len(),
        test_x.shape()[0]
    );
    let first: Vec<usize> = (0..a.batch.min(train.len())).collect();
    let b = train.batch(&first, 0, false)?;
    let nb = train.len().div_ceil(a.batch);
    let minib = minibatch(&b.inputs, &b.labels, nb, a.mb_repeats)?;
    let rest = epochs_and_predictive(&train, &test_x, a)?;
    let med = |v: &Value| v["median"].as_f64().unwrap_or(f64::NAN);
    let (n, nt) = (train.len() as f64, test_x.shape()[0] as f64);
    let inf_key = format!("inference_bbb_{}", a.samples);
    let mb = first.len() as f64;
    let g = json!({
        "epoch_bbb": n * train_flop as f64 / med(&rest["epoch_bbb"]) / 1e9,
        "epoch_det": n * train_flop as f64 / med(&rest["epoch_det"]) / 1e9,
        "inference": a.samples as f64 * nt * fwd_flop as f64 / med(&rest[&inf_key]) / 1e9,
        "mb_bbb_fwd_bwd": mb * train_flop as f64 / med(&minib["bbb_fwd_bwd"]) / 1e9,
        "mb_det_fwd_bwd": mb * train_flop as f64 / med(&minib["det_fwd_bwd"]) / 1e9,
        "mb_bbb_fwd_nograd": mb * fwd_flop as f64 / med(&minib["bbb_fwd_nograd"]) / 1e9,
    });
    let mut res = json!({
        "fanaroff": env!("CARGO_PKG_VERSION"), "threads": fanaroff::tensor::num_threads(),
        "n_train": train.len(), "n_test": test_x.shape()[0], "batch": a.batch, "sigma": "exp",
        "fwd_flop_per_image": fwd_flop, "train_flop_per_image": train_flop, "n_params": n_params,
        "minibatch": minib, "achieved_gflops": g,
    });
    if let (Some(m), Some(r)) = (res.as_object_mut(), rest.as_object()) {
        m.extend(r.clone());
    }
    println!("achieved GFLOP/s: {}", res["achieved_gflops"]);
    if let Some(path) = &a.out {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        fanaroff::train::write_atomic(path, serde_json::to_string_pretty(&res)?.as_bytes())?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn main() {
    match parse_args() {
        Ok(None) => println!("{HELP}"),
        Ok(Some(a)) => {
            if let Err(e) = run(&a) {
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
