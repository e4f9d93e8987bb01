//! Criterion benches of the BBB overhead at the paper's LeNet sizes: the
//! weight draw with the single-sample Monte Carlo KL (forward + backward)
//! for the whole network, and the fused weight draw alone for the largest
//! layer (1568 x 120).
//!
//! `cargo bench --bench bayes`

use criterion::{Criterion, criterion_group, criterion_main};
use fanaroff::bayes::posterior::sample_weight;
use fanaroff::bayes::{
    KlTerms, LogQGradient, SigmaTransform, VariationalConfig, bbb_lenet, variational_layers_mut,
};
use fanaroff::nn::models::LeNetConfig;
use fanaroff::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::hint::black_box;

fn weight_draw_and_kl(c: &mut Criterion) {
    let vcfg = VariationalConfig::default()
        .log_q_gradient(LogQGradient::DetachedMu)
        .check()
        .unwrap();
    let mut rng = StdRng::seed_from_u64(0);
    let mut model = bbb_lenet(&LeNetConfig::default(), &vcfg, &mut rng).unwrap();
    let mut g = c.benchmark_group("bayes");
    g.sample_size(30);
    g.bench_function("lenet weight draw + MC KL, fwd + bwd", |b| {
        b.iter(|| {
            let mut terms = Vec::new();
            variational_layers_mut(&mut model, &mut |_, l| terms.push(l.kl(&mut rng)));
            let mut total = KlTerms::zero();
            for t in terms {
                total = total.add(&t.unwrap()).unwrap();
            }
            black_box(total.weighted(1.0, 1.0).unwrap().backward().unwrap())
        })
    });
    let mu = Tensor::randn(&[120, 1568], &mut rng)
        .mul_scalar(0.05)
        .requires_grad(true);
    let rho = Tensor::full(&[120, 1568], -5.0).requires_grad(true);
    let eps = Tensor::randn(&[120, 1568], &mut rng).data().clone();
    g.bench_function("sample_weight 120x1568, fwd + bwd", |b| {
        b.iter(|| {
            let w = sample_weight(&mu, &rho, &eps, SigmaTransform::Exp).unwrap();
            black_box(w.sum().backward().unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, weight_draw_and_kl);
criterion_main!(benches);
