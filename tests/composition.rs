//! Open Bayesian composition: variational layers inside a user's struct on a
//! model that is not a sequence (a skip path), trained by the generic loop;
//! the KL the loop collects equals the hand sum over the layers.

mod common;

use fanaroff::bayes::{
    BayesLinear, KlEstimator, PriorSpec, VariationalConfig, forward_kl, variational_layers_mut,
};
use fanaroff::nn::{Linear, LinearConfig, Module, ModuleExt, Pass, SampleMode};
use fanaroff::tensor::Tensor;
use fanaroff::train::Loader;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// A head that is itself a user struct holding a variational layer.
struct Head {
    fc: BayesLinear,
}

impl Module for Head {
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> fanaroff::nn::Result<Tensor> {
        self.fc.forward(x, pass)
    }
    fanaroff::nn::children!(fc);
}

/// `head(relu(bayes(x)) + skip(x))`: a variational layer beside an ordinary
/// skip path, and another inside a nested struct.
struct SkipNet {
    bayes: BayesLinear,
    skip: Linear,
    head: Head,
}

impl Module for SkipNet {
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> fanaroff::nn::Result<Tensor> {
        let h = self.bayes.forward(x, pass)?.relu();
        let h = h.add(&self.skip.forward(x, pass)?)?;
        self.head.forward(&h, pass)
    }
    fanaroff::nn::children!(bayes, skip, head);
}

fn skipnet(cfg: &VariationalConfig, seed: u64) -> SkipNet {
    let mut rng = StdRng::seed_from_u64(seed);
    SkipNet {
        bayes: BayesLinear::new(LinearConfig::new(4, 8), cfg, &mut rng).unwrap(),
        skip: Linear::new(LinearConfig::new(4, 8), &mut rng).unwrap(),
        head: Head {
            fc: BayesLinear::new(LinearConfig::new(8, 2), cfg, &mut rng).unwrap(),
        },
    }
}

#[test]
fn collected_kl_equals_the_hand_sum_and_names_follow_the_structs() {
    // closed-form KL (Gaussian prior): each layer's KL is deterministic
    let cfg = VariationalConfig::default()
        .prior_spec(PriorSpec::Gaussian { s: 0.3 })
        .check()
        .unwrap();
    let net = skipnet(&cfg, 1);
    let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names[0], "bayes.weight_mu");
    assert!(names.contains(&"skip.weight".to_string()));
    assert!(names.contains(&"head.fc.bias_rho".to_string()));
    let x = Tensor::randn(&[5, 4], &mut StdRng::seed_from_u64(2));
    let mut rng = StdRng::seed_from_u64(3);
    let (_, kl) = forward_kl(&net, &x, &mut rng).unwrap();
    assert_eq!(kl.layers(), 2);
    let hand =
        net.bayes.kl(&mut rng).unwrap().kl_value() + net.head.fc.kl(&mut rng).unwrap().kl_value();
    assert!(
        (kl.kl_value() - hand).abs() <= 1e-6 * hand.abs(),
        "collected {} vs hand {hand}",
        kl.kl_value()
    );
    // the KL is differentiable through the collector: it reaches every rho
    let grads = kl.weighted(1.0, 1.0).unwrap().backward().unwrap();
    let rho = &net.head.fc.params().weight_rho;
    assert!(grads.get(rho).is_some_and(|g| g.iter().any(|v| *v != 0.0)));
    // a plain forward pass records nothing and still works
    assert_eq!(net.forward_rng(&x, &mut rng).unwrap().shape(), &[5, 2]);
}

#[test]
fn single_draw_mc_kl_uses_the_forward_draw() {
    // Monte Carlo KL: with frozen draws the collected KL equals the sum of
    // each layer's KL at its own draw, so it repeats exactly.
    let cfg = VariationalConfig::default()
        .kl(KlEstimator::MonteCarlo(1))
        .check()
        .unwrap();
    let mut net = skipnet(&cfg, 4);
    net.set_sample_mode(SampleMode::Fixed(9));
    let x = Tensor::randn(&[3, 4], &mut StdRng::seed_from_u64(5));
    let (_, a) = forward_kl(&net, &x, &mut StdRng::seed_from_u64(0)).unwrap();
    let (_, b) = forward_kl(&net, &x, &mut StdRng::seed_from_u64(1)).unwrap();
    assert_eq!(a.kl_value(), b.kl_value());
    assert_eq!(a.layers(), 2);
    // one setting for the whole model: every variational layer found
    let mut found = Vec::new();
    variational_layers_mut(&mut net, &mut |n, l| {
        found.push((n.to_string(), l.num_weights()))
    });
    assert_eq!(
        found,
        vec![("bayes".to_string(), 40), ("head.fc".to_string(), 18)]
    );
}

#[test]
fn the_generic_loop_trains_the_custom_model() {
    let train = common::blobs(64, 4, 0, 0.7);
    let cfg = VariationalConfig::default().check().unwrap();
    let mut net = skipnet(&cfg, 7);
    let h = common::fit_elbo(&mut net, &train, 25, 2e-2);
    let (first, last) = (&h.records[0], h.records.last().unwrap());
    assert!(last.get("acc").unwrap() > 0.9, "{last:?}");
    assert!(last.get("loss").unwrap() < first.get("loss").unwrap());
    assert!(last.get("kl").unwrap() > 0.0, "the ELBO step saw the KL");
    assert_eq!(train.len(), 64);
}
