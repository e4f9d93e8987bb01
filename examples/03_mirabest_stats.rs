//! Loads a MiraBest release, prints counts per label code, per subset and for
//! the train/validation split, and writes a PNG grid of example images.
//!
//! ```text
//! cargo run --release --example 03_mirabest_stats -- [PATH] [--out FILE.png]
//! ```
//!
//! `PATH` is a release folder or its `.tar.gz` (e.g.
//! `../shared/data/mirabest/MiraBest_full_batches.tar.gz`). Without a path the
//! example explains where to get MiraBest and uses synthetic galaxies instead.
//! The grid goes to `docs/out/mirabest_grid.png` unless `--out` says otherwise.

use std::time::Instant;

use fanaroff::data::image_io::save_grid;
use fanaroff::data::mirabest::DOWNLOAD_HINT;
use fanaroff::data::{Dataset, FrClass, LabelCode, MiraBest, Subset, SyntheticConfig};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn first_n(ds: &Dataset, keep: impl Fn(usize, LabelCode) -> bool, n: usize) -> Vec<usize> {
    (0..ds.len())
        .filter(|&i| {
            ds.samples()[i]
                .code
                .is_some_and(|c| keep(ds.labels()[i], c))
        })
        .take(n)
        .collect()
}

const ROWS: [&str; 5] = [
    "confident FRI",
    "confident FRII",
    "uncertain FRI",
    "uncertain FRII",
    "hybrid",
];

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
    println!("\n{title}");
    println!(
        "  {:<8} {:>6} {:>6} {:>6}",
        "class", "train", "test", "total"
    );
    let (a, b) = (train.class_counts(), test.class_counts());
    for (k, name) in train.class_names().iter().enumerate() {
        println!("  {:<8} {:>6} {:>6} {:>6}", name, a[k], b[k], a[k] + b[k]);
    }
    println!(
        "  {:<8} {:>6} {:>6} {:>6}",
        "all",
        train.len(),
        test.len(),
        train.len() + test.len()
    );
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = String::from("docs/out/mirabest_grid.png");
    let mut path = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = it.next().ok_or("--out needs a file name")?.clone(),
            "-h" | "--help" => {
                println!(
                    "usage: mirabest_stats [PATH to release folder or .tar.gz] [--out FILE.png]"
                );
                return Ok(());
            }
            other if other.starts_with('-') => {
                return Err(format!("unknown option {other} (see --help)").into());
            }
            other => path = Some(other.to_string()),
        }
    }

    let Some(path) = path else {
        return synthetic(&out);
    };
    release(&path, &out)
}

/// Without a path: counts and a grid of synthetic galaxies.
fn synthetic(out: &str) -> Result<(), Box<dyn std::error::Error>> {
    println!("No MiraBest path given.\n{DOWNLOAD_HINT}");
    println!("\nFalling back to 400 synthetic FRI/FRII galaxies (seed 0).");
    let t = Instant::now();
    let ds = SyntheticConfig::default().generate(400)?;
    println!("generated in {:.2} s", t.elapsed().as_secs_f64());
    let (train, test) = ds.stratified_split(0.2, &mut StdRng::seed_from_u64(0))?;
    print_counts("Synthetic data, 80/20 stratified split", &train, &test);
    let mut idx = first_n(&ds, |l, _| l == 0, 8);
    idx.extend(first_n(&ds, |l, _| l == 1, 8));
    save_grid(out, ds.select(&idx)?.images(), 8)?;
    println!("\nwrote {out} (row 1 FRI, row 2 FRII)");
    Ok(())
}

/// Train and test counts of each standard subset, with images per class.
fn print_subsets(mb: &MiraBest) -> Result<(), Box<dyn std::error::Error>> {
    println!("\nStandard subsets (FRI = 0, FRII = 1; hybrids by code)");
    println!(
        "  {:<14} {:>6} {:>6} {:>14}",
        "subset", "train", "test", "per class"
    );
    for s in Subset::ALL {
        let (tr, te) = (mb.train().subset(s)?, mb.test().subset(s)?);
        let counts: Vec<String> = tr
            .class_names()
            .iter()
            .zip(tr.class_counts())
            .zip(te.class_counts())
            .map(|((n, a), b)| format!("{n}:{}", a + b))
            .collect();
        println!(
            "  {:<14} {:>6} {:>6} {:>14}",
            s.name(),
            tr.len(),
            te.len(),
            counts.join(" ")
        );
    }
    Ok(())
}

/// Median and range of the redshifts and angular sizes, where known.
fn print_redshift_and_size(all: &Dataset) {
    let mut z: Vec<f64> = all
        .samples()
        .iter()
        .filter_map(|s| s.source.as_ref()?.redshift)
        .collect();
    let mut size: Vec<f64> = all
        .samples()
        .iter()
        .filter_map(|s| s.source.as_ref()?.size_arcsec)
        .collect();
    if !z.is_empty() && !size.is_empty() {
        z.sort_by(f64::total_cmp);
        size.sort_by(f64::total_cmp);
        println!(
            "median redshift {:.3} (range {:.3}-{:.3}); median size {:.1}\" (range {:.1}-{:.1}\")",
            z[z.len() / 2],
            z[0],
            z[z.len() - 1],
            size[size.len() / 2],
            size[0],
            size[size.len() - 1]
        );
    }
}

/// Counts, subsets, sizes and a grid of a MiraBest release.
fn release(path: &str, out: &str) -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let mb = MiraBest::open(path)?;
    println!(
        "{}: {:?} release, {} training + {} test images, loaded in {:.2} s",
        mb.path().display(),
        mb.kind(),
        mb.train().len(),
        mb.test().len(),
        t.elapsed().as_secs_f64()
    );
    match mb.md5_verified() {
        0 => println!("(no hash.md5 shipped: nothing to verify)"),
        n => println!("md5 verified for {n} files listed in hash.md5"),
    }
    print_counts("Images per label", mb.train(), mb.test());

    print_subsets(&mb)?;
    let conf = mb.train().subset(Subset::MbFrConfident)?;
    let (tr, va) = conf.stratified_split(0.2, &mut StdRng::seed_from_u64(0))?;
    println!(
        "\nMBFRConfident training images split 80/20 (seeded, stratified): {} train / {} validation",
        tr.len(),
        va.len()
    );

    let all = mb.all()?;
    print_redshift_and_size(&all);
    // Grid rows: confident FRI, confident FRII, uncertain FRI, uncertain FRII, hybrids.
    let mut idx = Vec::new();
    let mut names = Vec::new();
    for (row, name) in ROWS.iter().enumerate() {
        let r = first_n(&all, |_, c| grid_row(c) == row, 8);
        if !r.is_empty() {
            names.push(*name);
            idx.extend(r);
        }
    }
    save_grid(out, all.select(&idx)?.images(), 8)?;
    println!("\nwrote {out} (rows: {})", names.join(", "));
    Ok(())
}
