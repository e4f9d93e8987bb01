//! `cargo run --manifest-path consumer/Cargo.toml [N] [SEED]`: scores the
//! made-up probabilities of N synthetic galaxies (default 200, seed 7).

use fanaroff_consumer::{galaxies, made_up_probabilities, score};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(200), |a| a.parse())?;
    let seed: u64 = args.next().map_or(Ok(7), |a| a.parse())?;
    let data = galaxies(n, seed)?;
    let p = made_up_probabilities(&data);
    let s = score(p.view(), data.labels())?;
    println!("{n} synthetic galaxies (seed {seed}), edge-brightening as the only feature");
    println!("accuracy {:.3}", s.accuracy);
    println!("ECE      {:.4}  (10 equal-width bins)", s.ece);
    println!("NLL      {:.4}", s.nll);
    println!("Brier    {:.4}", s.brier);
    Ok(())
}
