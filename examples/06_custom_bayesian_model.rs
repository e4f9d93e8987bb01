//! A model of your own with a Bayesian layer inside, trained by the generic
//! loop: the 30-line example of `docs/architecture.md`.
//!
//! ```text
//! cargo run --release --example 06_custom_bayesian_model
//! ```

use fanaroff::bayes::{BayesLinear, Elbo, ElboStep, VariationalConfig};
use fanaroff::nn::{Linear, LinearConfig, Module, Pass};
use fanaroff::tensor::Tensor;
use fanaroff::train::{ArrayLoader, TrainConfig, Trainer};
use ndarray::{ArrayD, IxDyn};
use rand::{SeedableRng, rngs::StdRng};

/// `out(relu(bayes(x)) + skip(x))`: a variational layer beside a skip path.
struct SkipNet {
    bayes: BayesLinear,
    skip: Linear,
    out: Linear,
}

impl Module for SkipNet {
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> fanaroff::nn::Result<Tensor> {
        let h = self
            .bayes
            .forward(x, pass)?
            .relu()
            .add(&self.skip.forward(x, pass)?)?;
        self.out.forward(&h, pass) // the Bayesian layer's KL is collected by the step
    }
    fanaroff::nn::children!(bayes, skip, out);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // no options: anything on the command line is a mistake
    fanaroff_examples::Flags::parse(
        &fanaroff_examples::argv(),
        &[],
        "06_custom_bayesian_model (no options)",
    )?;
    let mut rng = StdRng::seed_from_u64(0);
    let x = ArrayD::from_shape_fn(IxDyn(&[200, 4]), |i| {
        ((i[0] * 13 + i[1] * 7) % 17) as f32 / 8.0 - 1.0
    });
    let y: Vec<usize> = (0..200)
        .map(|i| usize::from(x[[i, 0]] * x[[i, 1]] > 0.0))
        .collect();
    let data = ArrayLoader::new(x, y, 2)?;
    let mut net = SkipNet {
        bayes: BayesLinear::new(
            LinearConfig::new(4, 32),
            &VariationalConfig::default(),
            &mut rng,
        )?,
        skip: Linear::new(LinearConfig::new(4, 32), &mut rng)?,
        out: Linear::new(LinearConfig::new(32, 2), &mut rng)?,
    };
    let cfg = TrainConfig::default()
        .epochs(60)
        .batch_size(20)
        .adam(1e-2)
        .progress(false)
        .log_epochs(false);
    let step = ElboStep::new(Elbo::default().temperature(0.1))?;
    let history = Trainer::new(cfg)?.step(step).fit(&mut net, &data)?;
    let last = history.records.last().ok_or("no epochs")?;
    println!(
        "after {} epochs: loss {:.4}, KL {:.1}, training accuracy {:.1} %",
        last.epoch,
        last.get("loss").unwrap_or(f64::NAN),
        last.get("kl").unwrap_or(f64::NAN),
        100.0 * last.get("acc").unwrap_or(f64::NAN)
    );
    Ok(())
}
