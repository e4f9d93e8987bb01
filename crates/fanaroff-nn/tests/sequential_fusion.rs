//! `Sequential` runs a convolution followed by a `ReluMaxPool2d` as one op,
//! through `Module::conv_weights`, and only then.

use fanaroff_nn::{
    Activation, ConvWeights, Error, Module, Pass, ReluMaxPool2d, Result, Sequential,
};
use fanaroff_tensor::Tensor;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// A convolution that offers its weights but refuses to run on its own.
struct OffersOnly(Tensor);

impl Module for OffersOnly {
    fn forward(&self, _x: &Tensor, _pass: &mut Pass<'_>) -> Result<Tensor> {
        Err(Error::from(fanaroff_tensor::Error::InvalidArgument {
            op: "test",
            msg: "forward called".into(),
        }))
    }
    fn conv_weights(&self, _pass: &mut Pass<'_>) -> Option<Result<ConvWeights>> {
        Some(Ok(ConvWeights {
            weight: self.0.clone(),
            bias: None,
            stride: 1,
            padding: 1,
        }))
    }
}

fn run(net: &Sequential, x: &Tensor, end: usize) -> Result<Tensor> {
    let mut r = StdRng::seed_from_u64(0);
    net.forward_until(x, end, &mut Pass::new(&mut r as &mut dyn RngCore))
}

#[test]
fn a_convolution_before_relu_pool_runs_fused_and_only_there() {
    let mut r = StdRng::seed_from_u64(1);
    let w = Tensor::randn(&[3, 2, 3, 3], &mut r);
    let x = Tensor::randn(&[2, 2, 8, 8], &mut r);
    let pool = ReluMaxPool2d::new(2, 2).unwrap();
    let fused = Sequential::new()
        .push("conv", OffersOnly(w.clone()))
        .push("pool", pool);
    let y = run(&fused, &x, 2).expect("fused: forward never called");
    let want = x.conv2d(&w, None, (1, 1), (1, 1)).unwrap();
    let want = want.relu_max_pool2d((2, 2), (2, 2)).unwrap();
    assert_eq!(y.to_vec(), want.to_vec());
    // stopping between the two layers runs the convolution alone
    assert!(run(&fused, &x, 1).is_err());
    // another layer after the convolution: no fusion
    let other = Sequential::new()
        .push("conv", OffersOnly(w))
        .push("relu", Activation::Relu);
    assert!(run(&other, &x, 2).is_err());
}
