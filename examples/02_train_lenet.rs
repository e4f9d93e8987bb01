//! Trains the paper's LeNet (ordinary layers) on embedded synthetic FRI/FRII
//! radio galaxies and reports test accuracy: the quickest proof that the
//! tensor core, layers and optimiser learn. No download, no data path.
//!
//! ```text
//! cargo run --release --example 02_train_lenet -- [--epochs 5] [--train 1000] [--test 500] [--seed 0] [--threads 2] [--save lenet.safetensors]
//! ```

use fanaroff_examples::{Flags, LeNetRun, argv, init_logging, train_lenet_synthetic};

const HELP: &str = "02_train_lenet: the LeNet on synthetic FRI/FRII images\n\noptions [defaults]:\n  --epochs N [5]  --train N [1000]  --test N [500]  --seed N [0]\n  --lr LR [1e-3]  --threads N [2]   --save FILE (safetensors) [none]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let known = [
        "--threads",
        "--epochs",
        "--train",
        "--test",
        "--seed",
        "--lr",
        "--save",
    ];
    let f = Flags::parse(&argv(), &known, HELP)?;
    init_logging();
    let threads: usize = f.get("--threads", 2)?;
    fanaroff::tensor::set_num_threads(threads)?;
    let run = LeNetRun {
        epochs: f.get("--epochs", 5)?,
        train: f.get("--train", 1000)?,
        test: f.get("--test", 500)?,
        seed: f.get("--seed", 0)?,
        lr: f.get("--lr", 1e-3)?,
        ..LeNetRun::default()
    };
    println!(
        "LeNet (232,444 parameters) on {} synthetic training images, {} test images, {} threads",
        run.train, run.test, threads
    );
    let report = train_lenet_synthetic(&run).map_err(|e| e.to_string())?;
    let acc = report.test_accuracy.last().copied().unwrap_or(0.0);
    println!(
        "final test accuracy {:.1} % after {:.1} s of training",
        100.0 * acc,
        report.train_seconds
    );
    if let Some(path) = f.opt::<String>("--save")? {
        fanaroff::nn::save_model(&report.model, &path)?;
        println!("saved {path}");
    }
    Ok(())
}
