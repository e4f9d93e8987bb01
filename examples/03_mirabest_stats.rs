//! Loads a MiraBest release, prints counts per label code, per subset and for
//! the train/validation split, and writes a PNG grid of example images.
//!
//! ```text
//! cargo run --release --example 03_mirabest_stats -- [--data PATH] [--out FILE.png]
//! ```
//!
//! `PATH`: a release folder or its `.tar.gz`; without it, synthetic galaxies
//! (and where to get MiraBest). The grid goes to `docs/out/mirabest_grid.png`.

use fanaroff::data::image_io::save_grid;
use fanaroff::data::mirabest::DOWNLOAD_HINT;
use fanaroff::data::{Dataset, FrClass, LabelCode, MiraBest, Subset, SyntheticConfig};
use fanaroff_examples::{Flags, argv, exit_on_error};
use rand::SeedableRng;
use rand::rngs::StdRng;

const HELP: &str = "mirabest_stats [--data PATH to a release folder or .tar.gz] [--out FILE.png]";

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Up to `n` images (indices) whose label and code pass `keep`.
fn first_n(ds: &Dataset, keep: impl Fn(usize, LabelCode) -> bool, n: usize) -> Vec<usize> {
    let code = |i: usize| ds.samples()[i].code;
    (0..ds.len())
        .filter(|&i| code(i).is_some_and(|c| keep(ds.labels()[i], c)))
        .take(n)
        .collect()
}

/// The grid row of a label code (see `release`).
fn grid_row(c: LabelCode) -> usize {
    match (c.class(), c.is_confident()) {
        (FrClass::FRI, true) => 0,
        (FrClass::FRII, true) => 1,
        (FrClass::FRI, false) => 2,
        (FrClass::FRII, false) => 3,
        (FrClass::Hybrid, _) => 4,
    }
}

fn print_counts(title: &str, train: &Dataset, test: &Dataset) {
    println!(
        "\n{title}\n  {:<8} {:>6} {:>6} {:>6}",
        "class", "train", "test", "total"
    );
    let (a, b) = (train.class_counts(), test.class_counts());
    for (k, name) in train.class_names().iter().enumerate() {
        println!("  {:<8} {:>6} {:>6} {:>6}", name, a[k], b[k], a[k] + b[k]);
    }
    let (n, m) = (train.len(), test.len());
    println!("  {:<8} {n:>6} {m:>6} {:>6}", "all", n + m);
}

fn main() {
    exit_on_error(run());
}

fn run() -> Res<()> {
    let f = Flags::parse(&argv(), &["--data", "--out"], HELP)?;
    let out: String = f.get("--out", "docs/out/mirabest_grid.png".to_string())?;
    match f.opt::<std::path::PathBuf>("--data")? {
        Some(path) => release(&path, &out),
        None => synthetic(&out),
    }
}

/// Without a path: counts and a grid of synthetic galaxies.
fn synthetic(out: &str) -> Res<()> {
    println!("No MiraBest path given.\n{DOWNLOAD_HINT}");
    println!("\nFalling back to 400 synthetic FRI/FRII galaxies (seed 0).");
    let ds = SyntheticConfig::default().generate(400)?;
    let (train, test) = ds.stratified_split(0.2, &mut StdRng::seed_from_u64(0))?;
    print_counts("Synthetic data, 80/20 stratified split", &train, &test);
    let mut idx = first_n(&ds, |l, _| l == 0, 8);
    idx.extend(first_n(&ds, |l, _| l == 1, 8));
    save_grid(out, ds.select(&idx)?.images(), 8)?;
    println!("\nwrote {out} (row 1 FRI, row 2 FRII)");
    Ok(())
}

/// Median and range of the values `f` finds, as `median (range lo-hi)`.
fn median_range(all: &Dataset, f: impl Fn(&fanaroff::data::SourceName) -> Option<f64>) -> String {
    let mut v: Vec<f64> = all
        .samples()
        .iter()
        .filter_map(|s| f(s.source.as_ref()?))
        .collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => "unknown".into(),
        n => format!("{:.3} (range {:.3}-{:.3})", v[n / 2], v[0], v[n - 1]),
    }
}

/// Counts, subsets, sizes and a grid of a MiraBest release.
fn release(path: &std::path::Path, out: &str) -> Res<()> {
    print!("{}", fanaroff::cli::release_stats(path)?);
    let mb = MiraBest::open(path)?;
    print_counts("Images per label", mb.train(), mb.test());
    let conf = mb.train().subset(Subset::MbFrConfident)?;
    let (tr, va) = conf.stratified_split(0.2, &mut StdRng::seed_from_u64(0))?;
    println!(
        "\nMBFRConfident training images split 80/20 (seeded, stratified): {} / {}",
        tr.len(),
        va.len()
    );
    let all = mb.all()?;
    println!("median redshift {}", median_range(&all, |s| s.redshift));
    println!(
        "median size (arcsec) {}",
        median_range(&all, |s| s.size_arcsec)
    );
    let mut idx = Vec::new();
    for row in 0..5 {
        idx.extend(first_n(&all, |_, c| grid_row(c) == row, 8));
    }
    save_grid(out, all.select(&idx)?.images(), 8)?;
    println!(
        "\nwrote {out} (rows: confident FRI, confident FRII, uncertain FRI, uncertain FRII, hybrid)"
    );
    Ok(())
}
