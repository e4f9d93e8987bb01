//! How a Bayesian radio-galaxy classifier breaks, and how much domain
//! adaptation repairs it (after Ciprijanović et al. 2022): the BBB LeNet
//! trained on clean MBFRConfident and, beside it with the same seed, the
//! same network with an MMD term between clean training images and
//! unlabelled noisy ones (`[step] kind = "mmd"`, `lambda = 0` being the
//! clean model). Each is measured by the robustness study (`[study] kind =
//! "robustness"`): accuracy, predictive entropy, mutual information, latent
//! distance to the clean image and the AUROC of entropy for noisy vs clean
//! copies of the test set at several peak SNRs; PGD and one-pixel attack
//! success. `paired.csv` holds the MMD - clean differences paired by seed.
//!
//! ```text
//! cargo run --release --example 12_robustness_study -- --seeds 0,1,2 --threads 2
//! ```

use clap::Parser;
use fanaroff::cli::Collected;
use fanaroff::plot::{Color, Figure, LineChart};
use fanaroff_examples::{DataArgs, exit_on_error, run_grid, series, summary_rows};
use std::path::PathBuf;

/// 12_robustness_study: noise, attacks and MMD domain adaptation for the BBB LeNet
#[derive(Parser, Debug)]
#[command(name = "12_robustness_study")]
struct Args {
    #[command(flatten)]
    data: DataArgs,
    /// Training seeds
    #[arg(long, value_delimiter = ',', default_value = "0,1,2")]
    seeds: Vec<u64>,
    /// Epochs per model
    #[arg(long, default_value_t = 50)]
    epochs: usize,
    /// Peak SNRs of the noisy test copies
    #[arg(long, value_delimiter = ',', default_value = "20,10,5,2")]
    snr: Vec<f64>,
    /// Peak SNR of the unlabelled target domain for MMD
    #[arg(long, default_value_t = 5.0)]
    adapt_snr: f64,
    /// Weight of MMD^2 (the paper's 0.01 times the batch of 50, because the
    /// ELBO sums the NLL over the batch where the paper averages)
    #[arg(long, default_value_t = 0.5)]
    lambda: f64,
    /// L-inf PGD budgets in pixel units (0-255)
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8")]
    pgd_eps: Vec<f32>,
    /// Test images for the one-pixel attack
    #[arg(long, default_value_t = 10)]
    one_pixel: usize,
    /// Weight draws for predictions and EOT
    #[arg(long, default_value_t = 20)]
    draws: usize,
    /// Threads of the numeric pool [all]
    #[arg(long)]
    threads: Option<usize>,
    /// Sweep folder: runs, tables, figures
    #[arg(long, default_value = "target/robustness_study")]
    out: PathBuf,
}

fn grid(a: &Args) -> String {
    format!(
        "[base]\nname = \"robustness\"\n[base.data]\n{}\n[base.model]\nkind = \"bbb_lenet\"\n\
         [base.training]\nepochs = {}\noptimizer = {{ kind = \"adam\", lr = 5e-4 }}\nprogress = false\n\
         [base.evaluation]\nsamples = {d}\nentropy_samples = {d}\nval_samples = 2\n\
         [base.step]\nkind = \"mmd\"\nsnr = {}\n\
         [base.study]\nkind = \"robustness\"\nsnr = {:?}\ndraws = {d}\npgd_eps = {:?}\none_pixel = {}\n\
         [grid]\n\"step.lambda\" = [0.0, {}]\nseed = {:?}\n",
        a.data.toml(),
        a.epochs,
        a.adapt_snr,
        a.snr,
        a.pgd_eps,
        a.one_pixel,
        a.lambda,
        a.seeds,
        d = a.draws
    )
}

/// Accuracy and entropy against SNR, attack success against budget:
/// means over seeds, one line per MMD weight (0: the clean model).
fn figures(c: &Collected, a: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let rows = summary_rows(c);
    let test = |t: &str| -> Vec<_> {
        rows.iter()
            .filter(|r| r.get("test").map(String::as_str) == Some(t))
            .cloned()
            .collect()
    };
    let plots = [
        (
            "gaussian_snr",
            "accuracy_mean",
            "accuracy",
            "peak SNR",
            "robustness_noise",
        ),
        (
            "gaussian_snr",
            "entropy_mean",
            "entropy",
            "peak SNR",
            "robustness_entropy",
        ),
        (
            "pgd_linf",
            "attack_success_mean",
            "PGD success",
            "L-inf budget (0-255)",
            "robustness_pgd",
        ),
    ];
    for (t, y, title, x_label, file) in plots {
        let mut chart = LineChart::new(format!("{title}: mean over seeds, by MMD weight"))
            .x_label(x_label)
            .y_label(title);
        for (k, (lambda, xs, ys)) in series(&test(t), "step.lambda", "level", y)
            .iter()
            .enumerate()
        {
            chart = chart.line(format!("lambda {lambda}"), xs, ys, Color::palette(k));
        }
        chart.save_both(a.out.join(file))?;
    }
    Ok(())
}

fn main() {
    let a = Args::parse();
    exit_on_error((|| {
        let (_, c) = run_grid(&grid(&a), &a.out, a.threads)?;
        figures(&c, &a)?;
        print!("{}", c.rows_summary_csv());
        println!("tables and figures in {}", a.out.display());
        Ok(())
    })());
}
