//! The baselines in the predictive API, and the sampling modes.

use fanaroff_bayes::{
    BayesLinear, Ensemble, PredictConfig, SampleMode, VariationalConfig, forward_kl,
    mc_dropout_lenet, predict_ensemble, predict_samples,
};
use fanaroff_nn::models::LeNetConfig;
use fanaroff_nn::{Activation, Linear, LinearConfig, Module, ModuleExt, Sequential};
use fanaroff_tensor::Tensor;
use ndarray::{ArrayD, IxDyn, s};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn x() -> ArrayD<f32> {
    ArrayD::from_shape_fn(IxDyn(&[5, 3]), |i| {
        (i[0] as f32 - 2.0) * 0.7 + i[1] as f32 * 0.3
    })
}

#[test]
fn deterministic_twin_gives_identical_draws_and_ensemble_members_differ() {
    let twin = Linear::new(LinearConfig::new(3, 2), &mut StdRng::seed_from_u64(0)).unwrap();
    assert!(!twin.is_stochastic());
    let p = predict_samples(&twin, x().view(), &PredictConfig::with_samples(3)).unwrap();
    assert_eq!(p.slice(s![0, .., ..]), p.slice(s![2, .., ..]));

    let members: Vec<Linear> = (0..4)
        .map(|i| Linear::new(LinearConfig::new(3, 2), &mut StdRng::seed_from_u64(i)).unwrap())
        .collect();
    let ens = Ensemble::new(members).unwrap();
    let p = predict_ensemble(&ens, x().view(), 2, 0).unwrap();
    assert_eq!(p.shape(), &[4, 5, 2]);
    assert_ne!(p.slice(s![0, .., ..]), p.slice(s![1, .., ..]));
    // member 1's slice is member 1's softmax
    let y = ens.members[1]
        .forward_rng(&Tensor::new(x()), &mut StdRng::seed_from_u64(0))
        .unwrap()
        .softmax(1)
        .unwrap();
    for (a, b) in p.slice(s![1, .., ..]).iter().zip(y.data().iter()) {
        assert!((a - b).abs() < 1e-6);
    }
    assert!(Ensemble::<Linear>::new(vec![]).is_err());
}

#[test]
fn mc_dropout_is_stochastic_at_prediction_time() {
    let mut net = mc_dropout_lenet(
        &LeNetConfig {
            image_size: 64,
            ..LeNetConfig::default()
        },
        0.5,
        &mut StdRng::seed_from_u64(0),
    )
    .unwrap();
    net.set_training(false);
    let x = ArrayD::from_shape_fn(IxDyn(&[2, 1, 64, 64]), |i| {
        ((i[2] * 7 + i[3] * 3) % 11) as f32 / 11.0
    });
    let p = predict_samples(&net, x.view(), &PredictConfig::with_samples(4)).unwrap();
    assert_ne!(p.slice(s![0, .., ..]), p.slice(s![1, .., ..]));
    assert!(mc_dropout_lenet(&LeNetConfig::default(), 1.0, &mut StdRng::seed_from_u64(0)).is_err());
}

#[test]
fn sample_modes() {
    let cfg = VariationalConfig::default()
        .rho_init(-1.0, -0.5)
        .check()
        .unwrap();
    let mut rng = StdRng::seed_from_u64(0);
    let fc1 = BayesLinear::new(LinearConfig::new(3, 4), &cfg, &mut rng).unwrap();
    let fc2 = BayesLinear::new(LinearConfig::new(4, 2), &cfg, &mut rng).unwrap();
    let mut net = Sequential::new()
        .push("fc1", fc1.clone())
        .push("relu", Activation::Relu)
        .push("fc2", fc2.clone());
    let xt = Tensor::new(x());
    let a = net.forward_rng(&xt, &mut rng).unwrap().to_vec();
    let b = net.forward_rng(&xt, &mut rng).unwrap().to_vec();
    assert_ne!(a, b, "sampling mode draws new weights");
    net.set_sample_mode(SampleMode::Fixed(3));
    let c = net.forward_rng(&xt, &mut rng).unwrap().to_vec();
    let d = net
        .forward_rng(&xt, &mut StdRng::seed_from_u64(99))
        .unwrap()
        .to_vec();
    assert_eq!(c, d, "a fixed seed freezes the draw");
    net.set_sample_mode(SampleMode::Mean);
    assert!(!net.is_stochastic());
    let (e, kl) = forward_kl(&net, &xt, &mut rng).unwrap();
    assert_eq!(kl.kl_value(), 0.0);
    assert_eq!(kl.layers(), 0, "no layer records a KL in mean mode");
    // mean mode = the deterministic network with weights mu
    let (p1, p2) = (fc1.params(), fc2.params());
    let h = fanaroff_nn::linear(&xt, &p1.weight_mu, Some(&p1.bias_mu))
        .unwrap()
        .relu();
    let h = fanaroff_nn::linear(&h, &p2.weight_mu, Some(&p2.bias_mu)).unwrap();
    assert_eq!(e.to_vec(), h.to_vec());
    // wrong input width is an error, not a panic
    let err = forward_kl(&net, &Tensor::zeros(&[2, 5]), &mut rng).unwrap_err();
    // the layer's own error type survives the trip through Module::forward
    assert!(
        matches!(
            &err,
            fanaroff_bayes::Error::Core(fanaroff_core::Error::InvalidInput(i))
                if i.what == "BayesLinear"
        ),
        "{err:?}"
    );
    // and is the same variant one level down, not a boxed foreign error
    let nn_err = net
        .forward_rng(&Tensor::zeros(&[2, 5]), &mut rng)
        .unwrap_err();
    assert!(
        matches!(
            &nn_err,
            fanaroff_nn::Error::Core(fanaroff_core::Error::InvalidInput(i))
                if i.what == "BayesLinear"
        ),
        "{nn_err:?}"
    );
    assert!(forward_kl(&net, &Tensor::zeros(&[0, 3]), &mut rng).is_err());
}
