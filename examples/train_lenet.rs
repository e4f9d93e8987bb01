//! Trains the paper's LeNet (ordinary layers) on embedded synthetic FRI/FRII
//! radio galaxies and reports test accuracy: the quickest proof that the
//! tensor core, layers and optimiser learn. No download, no data path.
//!
//! ```text
//! cargo run --release --example train_lenet -- [--epochs 5] [--train 1000] [--test 500] [--seed 0] [--threads 2] [--save lenet.safetensors]
//! ```

use fanaroff_examples::{LeNetRun, flag, init_logging, train_lenet_synthetic};

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().collect();
    init_logging();
    let threads: usize = flag("--threads", 2);
    fanaroff::tensor::set_num_threads(threads)?;
    let run = LeNetRun {
        epochs: flag("--epochs", 5),
        train: flag("--train", 1000),
        test: flag("--test", 500),
        seed: flag("--seed", 0),
        lr: flag("--lr", 1e-3),
        ..LeNetRun::default()
    };
    println!(
        "LeNet (232,444 parameters) on {} synthetic training images, {} test images, {} threads",
        run.train, run.test, threads
    );
    let report = train_lenet_synthetic(&run)?;
    let acc = report.test_accuracy.last().copied().unwrap_or(0.0);
    println!(
        "final test accuracy {:.1} % after {:.1} s of training",
        100.0 * acc,
        report.train_seconds
    );
    if let Some(i) = args.iter().position(|a| a == "--save")
        && let Some(path) = args.get(i + 1)
    {
        fanaroff::nn::save_model(&report.model, path)?;
        println!("saved {path}");
    }
    Ok(())
}
