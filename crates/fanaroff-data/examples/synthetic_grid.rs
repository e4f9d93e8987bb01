//! Writes a grid of synthetic FRI (top rows) and FRII (bottom rows) images
//! and prints the generation speed.
//!
//! `cargo run --release -p fanaroff-data --example synthetic_grid [OUT.png]`

use fanaroff_data::SyntheticConfig;
use fanaroff_data::image_io::save_grid;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "docs/out/synthetic_grid.png".into());
    let cfg = SyntheticConfig::default().with_seed(3);
    let t = Instant::now();
    let ds = cfg.generate(1000)?;
    let dt = t.elapsed();
    println!(
        "generated {} images in {:.3} s ({:.2} ms/image wall, {} threads)",
        ds.len(),
        dt.as_secs_f64(),
        dt.as_secs_f64() * 1e3 / ds.len() as f64,
        rayon::current_num_threads()
    );
    let fri: Vec<usize> = (0..ds.len())
        .filter(|&i| ds.labels()[i] == 0)
        .take(24)
        .collect();
    let frii: Vec<usize> = (0..ds.len())
        .filter(|&i| ds.labels()[i] == 1)
        .take(24)
        .collect();
    let idx: Vec<usize> = fri.into_iter().chain(frii).collect();
    let sel = ds.select(&idx)?;
    save_grid(&out, sel.images(), 8)?;
    println!("wrote {out}: rows 1-3 FRI, rows 4-6 FRII");
    Ok(())
}
