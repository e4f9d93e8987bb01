//! Monte Carlo KL estimates converge to the closed form (Gaussian and
//! Laplace priors), and the multi-sample estimator averages single draws.

use fanaroff_bayes::{BayesLinear, KlEstimator, PriorSpec, SigmaTransform, VariationalConfig};
use fanaroff_nn::LinearConfig;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn layer(prior: PriorSpec, kl: KlEstimator, sigma: SigmaTransform) -> BayesLinear {
    let cfg = VariationalConfig::default()
        .prior_spec(prior)
        .kl(kl)
        .sigma(sigma)
        .rho_init(-3.0, -1.0)
        .mu_init(-0.3, 0.3)
        .check()
        .unwrap();
    BayesLinear::new(
        LinearConfig::new(10, 5),
        &cfg,
        &mut StdRng::seed_from_u64(42),
    )
    .unwrap()
}

#[test]
fn mc_kl_converges_to_closed_form() {
    for prior in [
        PriorSpec::Gaussian { s: 0.1 },
        PriorSpec::Gaussian { s: 1.0 },
        PriorSpec::Laplace { b: 1.0 },
        PriorSpec::Laplace { b: 0.05 },
    ] {
        for sigma in [SigmaTransform::Exp, SigmaTransform::Softplus] {
            let closed = layer(prior, KlEstimator::Auto, sigma);
            let exact = closed.kl(&mut StdRng::seed_from_u64(0)).unwrap().kl_value();
            let single = layer(prior, KlEstimator::MonteCarlo(1), sigma);
            let mut rng = StdRng::seed_from_u64(1);
            let n = 3000;
            let draws: Vec<f64> = (0..n)
                .map(|_| single.kl(&mut rng).unwrap().kl_value())
                .collect();
            let (mean, sd) = fanaroff_core::mean_std(&draws);
            let se = sd / (n as f64).sqrt();
            assert!(
                (mean - exact).abs() < 4.0 * se + 1e-3 * exact.abs(),
                "{prior:?} {sigma:?}: MC {mean} +- {se} vs closed form {exact}"
            );
            // a 64-draw estimate has ~8x smaller spread than single draws
            let multi = layer(prior, KlEstimator::MonteCarlo(64), sigma);
            let m: Vec<f64> = (0..100)
                .map(|_| multi.kl(&mut rng).unwrap().kl_value())
                .collect();
            let (mm, msd) = fanaroff_core::mean_std(&m);
            assert!(msd < sd / 4.0, "{prior:?}: 64-draw sd {msd} vs single {sd}");
            assert!((mm - exact).abs() < 4.0 * msd / 10.0 + 1e-3 * exact.abs());
        }
    }
}

#[test]
fn closed_form_kl_is_zero_when_posterior_equals_prior() {
    // q = N(0, s^2) for every weight with a Gaussian prior N(0, s^2): KL = 0
    let s: f64 = 0.2;
    let cfg = VariationalConfig::default()
        .prior_spec(PriorSpec::Gaussian { s })
        .mu_init(-1e-12, 1e-12)
        .rho_init(s.ln() as f32 - 1e-7, s.ln() as f32 + 1e-7)
        .check()
        .unwrap();
    let l = BayesLinear::new(LinearConfig::new(3, 2), &cfg, &mut StdRng::seed_from_u64(0)).unwrap();
    let kl = l.kl(&mut StdRng::seed_from_u64(0)).unwrap().kl_value();
    assert!(kl.abs() < 1e-4, "{kl}");
}
