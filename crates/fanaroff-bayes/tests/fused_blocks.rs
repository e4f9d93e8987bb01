//! `Sequential` runs each LeNet block (convolution, then `ReluMaxPool2d`)
//! as one fused op. With variational and plain layers, in every sample
//! mode, the model's outputs, KL terms and gradients equal, bit for bit,
//! those of the same model whose convolutions do not offer their weights
//! (so every layer runs on its own).

use fanaroff_bayes::{BayesConv2d, BayesLayers, VariationalConfig};
use fanaroff_nn::models::{LayerFactory, LeNetConfig, PlainLayers};
use fanaroff_nn::{
    Conv2dConfig, LinearConfig, Module, ModuleExt, Pass, SampleMode, Sequential, set_sample_mode,
};
use fanaroff_tensor::Tensor;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// A layer that runs `inner` but hides its weights from fusion.
struct Opaque(Box<dyn Module>);

impl Module for Opaque {
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> fanaroff_nn::Result<Tensor> {
        self.0.forward(x, pass)
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        self.0.visit_params(prefix, f)
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        self.0.visit_params_mut(prefix, f)
    }
    fn sample_mode(&self) -> Option<SampleMode> {
        self.0.sample_mode()
    }
    fn set_own_sample_mode(&mut self, mode: SampleMode) {
        self.0.set_own_sample_mode(mode)
    }
}

/// Another factory's layers, with the convolutions made [`Opaque`].
struct Unfused<F>(F);

impl<F: LayerFactory> LayerFactory for Unfused<F> {
    type Error = F::Error;
    fn linear(&mut self, cfg: LinearConfig) -> Result<Box<dyn Module>, F::Error> {
        self.0.linear(cfg)
    }
    fn conv2d(&mut self, cfg: Conv2dConfig) -> Result<Box<dyn Module>, F::Error> {
        Ok(Box::new(Opaque(self.0.conv2d(cfg)?)))
    }
}

/// A small LeNet: four blocks on 62 x 62 images.
fn config() -> LeNetConfig {
    LeNetConfig {
        image_size: 62,
        ..LeNetConfig::default()
    }
}

/// Logits, KL (log q and log p) and every parameter's gradient, as bits.
fn outputs(net: &Sequential, seed: u64) -> Vec<Vec<u32>> {
    let mut r = StdRng::seed_from_u64(seed);
    let x = Tensor::randn(&[3, 1, 62, 62], &mut r);
    let mut pass = Pass::new(&mut r as &mut dyn RngCore).collecting_kl();
    let y = net.forward(&x, &mut pass).unwrap();
    let kl = pass.kl();
    let loss = y.square().sum().add(&kl.tensor().sum()).unwrap();
    let g = loss.backward().unwrap();
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    let mut out = vec![
        bits(&y.to_vec()),
        bits(&[kl.log_q() as f32, kl.log_p() as f32]),
    ];
    // (in `Mean` mode the `rho`s have none)
    for (_, p) in net.named_parameters() {
        let grad = g.get(&p).map(|a| a.iter().copied().collect::<Vec<_>>());
        out.push(bits(&grad.unwrap_or_default()));
    }
    out
}

#[test]
fn fused_lenet_blocks_change_no_bit() {
    let cfg = VariationalConfig::default();
    for mode in [SampleMode::Sample, SampleMode::Mean, SampleMode::Fixed(7)] {
        let [mut fused, mut plain] = [false, true].map(|unfused| {
            let mut r = StdRng::seed_from_u64(1);
            let layers = BayesLayers::new(&cfg, &mut r).unwrap();
            if unfused {
                config().build(&mut Unfused(layers)).unwrap()
            } else {
                config().build(&mut { layers }).unwrap()
            }
        });
        set_sample_mode(&mut fused, mode);
        set_sample_mode(&mut plain, mode);
        let (a, b) = (outputs(&fused, 3), outputs(&plain, 3));
        assert_eq!(a.len(), 2 + fused.named_parameters().len());
        assert!(a[0].iter().any(|&v| v != 0), "{mode:?}: zero logits");
        assert!(a[2].iter().any(|&v| v != 0), "{mode:?}: no conv1 gradient");
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(x, y, "{mode:?}: output {i} differs");
        }
    }
}

#[test]
fn fused_plain_lenet_blocks_change_no_bit() {
    let [fused, plain] = [false, true].map(|unfused| {
        let mut r = StdRng::seed_from_u64(2);
        let layers = PlainLayers::new(&mut r);
        if unfused {
            config().build(&mut Unfused(layers)).unwrap()
        } else {
            config().build(&mut { layers }).unwrap()
        }
    });
    assert_eq!(outputs(&fused, 4), outputs(&plain, 4));
}

/// A variational convolution offers its weights (so the blocks above did
/// run fused) in every sample mode, and they are the weights its forward
/// pass uses.
#[test]
fn variational_convolutions_offer_their_weights() {
    let mut r = StdRng::seed_from_u64(5);
    let shape = Conv2dConfig::new(2, 3, 5).padding(1);
    let mut conv = BayesConv2d::new(shape, &VariationalConfig::default(), &mut r).unwrap();
    let x = Tensor::randn(&[2, 2, 9, 9], &mut r);
    for mode in [SampleMode::Sample, SampleMode::Mean, SampleMode::Fixed(7)] {
        conv.set_own_sample_mode(mode);
        let mut r1 = StdRng::seed_from_u64(9);
        let mut pass = Pass::new(&mut r1 as &mut dyn RngCore);
        let cw = conv.conv_weights(&mut pass).expect("offered").unwrap();
        assert_eq!((cw.stride, cw.padding), (1, 1));
        let y = x
            .conv2d(&cw.weight, cw.bias.as_ref(), (1, 1), (1, 1))
            .unwrap();
        let mut r2 = StdRng::seed_from_u64(9);
        let want = conv
            .forward(&x, &mut Pass::new(&mut r2 as &mut dyn RngCore))
            .unwrap();
        assert_eq!(y.to_vec(), want.to_vec(), "{mode:?}");
    }
}
