//! Converts a folder of FIRST cut-outs (FITS) to MiraBest-style 150 x 150
//! PNGs with the published recipe, showing a progress bar.
//!
//! `cargo run --release -p fanaroff-data --example fits_to_png -- FITS_DIR [OUT_DIR]`
//! (default OUT_DIR: `docs/out/fits_png`).

use fanaroff_data::fits::{Recipe, convert_dir};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: fits_to_png FITS_DIR [OUT_DIR]");
        std::process::exit(2);
    };
    let out = args.next().unwrap_or_else(|| "docs/out/fits_png".into());
    let conv = convert_dir(&dir, &Recipe::default(), true)?;
    for (path, err) in &conv.failures {
        eprintln!("skipped {}: {err}", path.display());
    }
    let n = conv.save_pngs(&out)?;
    println!("wrote {n} PNGs to {out} ({} failures)", conv.failures.len());
    Ok(())
}
