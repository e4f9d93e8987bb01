//! `Box<M>` is a module that forwards every method to `M`, including the
//! methods with a default body (a default would silently answer for `M`).

use fanaroff_nn::kl::KlTerms;
use fanaroff_nn::{
    Dropout, Estimator, Mask, Module, ModuleExt, Pass, SampleMode, Variational, WeightView,
    in_training_mode,
};
use fanaroff_tensor::Tensor;
use rand::RngCore;
use std::any::Any;
use std::sync::Mutex;

/// A leaf that overrides every method and records which ones ran.
struct Probe {
    calls: Mutex<Vec<&'static str>>,
    training: bool,
    mode: SampleMode,
    t: Tensor,
    mask: Mask,
}

impl Probe {
    fn new() -> Self {
        Probe {
            calls: Mutex::new(Vec::new()),
            training: true,
            mode: SampleMode::Mean,
            t: Tensor::zeros(&[1]),
            mask: Mask::new(&[1]),
        }
    }
    fn log(&self, name: &'static str) {
        self.calls.lock().unwrap().push(name);
    }
    fn taken(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

impl Module for Probe {
    fn forward(&self, x: &Tensor, _pass: &mut Pass<'_>) -> fanaroff_nn::Result<Tensor> {
        self.log("forward");
        Ok(x.clone())
    }
    fn visit_children(&self, _p: &str, _f: &mut dyn FnMut(&str, &dyn Module)) {
        self.log("visit_children");
    }
    fn visit_children_mut(&mut self, _p: &str, _f: &mut dyn FnMut(&str, &mut dyn Module)) {
        self.log("visit_children_mut");
    }
    fn visit_params(&self, p: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        self.log("visit_params");
        f(p, &self.t);
    }
    fn visit_params_mut(&mut self, p: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        self.log("visit_params_mut");
        f(p, &mut self.t);
    }
    fn visit_buffers(&self, p: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        self.log("visit_buffers");
        f(p, &self.t);
    }
    fn visit_buffers_mut(&mut self, p: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        self.log("visit_buffers_mut");
        f(p, &mut self.t);
    }
    fn visit_masks(&self, p: &str, f: &mut dyn FnMut(&str, &Mask)) {
        self.log("visit_masks");
        f(p, &self.mask);
    }
    fn visit_masks_mut(&mut self, p: &str, f: &mut dyn FnMut(&str, &mut Mask)) {
        self.log("visit_masks_mut");
        f(p, &mut self.mask);
    }
    fn visit_weights(&self, _p: &str, _f: &mut dyn FnMut(&str, &WeightView<'_>)) {
        self.log("visit_weights");
    }
    fn enforce_masks(&mut self) {
        self.log("enforce_masks");
    }
    fn set_training(&mut self, training: bool) {
        self.log("set_training");
        self.training = training;
    }
    fn own_training_mode(&self) -> Option<bool> {
        self.log("own_training_mode");
        Some(self.training)
    }
    fn sample_mode(&self) -> Option<SampleMode> {
        self.log("sample_mode");
        Some(self.mode)
    }
    fn set_own_sample_mode(&mut self, mode: SampleMode) {
        self.log("set_own_sample_mode");
        self.mode = mode;
    }
    fn as_any_mut(&mut self) -> Option<&mut dyn Any> {
        self.log("as_any_mut");
        Some(self)
    }
    fn as_any(&self) -> Option<&dyn Any> {
        self.log("as_any");
        Some(self)
    }
    fn as_variational(&self) -> Option<&dyn Variational> {
        self.log("as_variational");
        Some(self)
    }
    fn as_variational_mut(&mut self) -> Option<&mut dyn Variational> {
        self.log("as_variational_mut");
        Some(self)
    }
    fn pointwise_weights(
        &self,
        _pass: &mut Pass<'_>,
    ) -> Option<fanaroff_nn::Result<(Tensor, Option<Tensor>)>> {
        self.log("pointwise_weights");
        Some(Ok((self.t.clone(), None)))
    }
}

impl Variational for Probe {
    fn estimator(&self) -> Estimator {
        Estimator::Flipout
    }
    fn set_estimator(&mut self, _e: Estimator) {}
    fn num_weights(&self) -> usize {
        7
    }
    fn kl(&self, _rng: &mut dyn RngCore) -> fanaroff_nn::Result<KlTerms> {
        Ok(KlTerms::zero())
    }
}

#[test]
fn a_boxed_layer_reports_its_own_training_mode() {
    let b: Box<dyn Module> = Box::new(Probe::new());
    assert_eq!(b.own_training_mode(), Some(true));
    assert!(in_training_mode(&b));
    // the same for a real layer whose mode matters
    let mut d: Box<dyn Module> = Box::new(Dropout::new(0.5).unwrap());
    assert_eq!(d.own_training_mode(), Some(true));
    assert!(in_training_mode(&d));
    d.eval();
    assert_eq!(d.own_training_mode(), Some(false));
    assert!(!in_training_mode(&d));
}

#[test]
fn every_method_of_a_box_reaches_its_content() {
    let mut b = Box::new(Probe::new());
    let mut rng = rand::rng();
    let mut seen = 0;
    b.forward_rng(&Tensor::zeros(&[1]), &mut rng).unwrap();
    b.visit_children("", &mut |_, _| {});
    b.visit_children_mut("", &mut |_, _| {});
    b.visit_params("x", &mut |_, _| seen += 1);
    b.visit_params_mut("x", &mut |_, _| seen += 1);
    b.visit_buffers("x", &mut |_, _| seen += 1);
    b.visit_buffers_mut("x", &mut |_, _| seen += 1);
    b.visit_masks("x", &mut |_, _| seen += 1);
    b.visit_masks_mut("x", &mut |_, _| seen += 1);
    b.visit_weights("", &mut |_, _| {});
    b.enforce_masks();
    Module::set_training(&mut b, false);
    assert_eq!(Module::own_training_mode(&b), Some(false));
    Module::set_own_sample_mode(&mut b, SampleMode::Fixed(3));
    assert_eq!(Module::sample_mode(&b), Some(SampleMode::Fixed(3)));
    assert!(Module::as_any_mut(&mut b).is_some_and(|a| a.is::<Probe>()));
    assert!(Module::as_any(&b).is_some_and(|a| a.is::<Probe>()));
    assert_eq!(Module::as_variational(&b).map(|v| v.num_weights()), Some(7));
    assert!(
        Module::as_variational_mut(&mut b).is_some_and(|v| v.estimator() == Estimator::Flipout)
    );
    let mut rng = rand::rng();
    assert!(Module::pointwise_weights(&b, &mut Pass::new(&mut rng)).is_some());
    assert_eq!(seen, 6);
    assert_eq!(
        b.taken(),
        [
            "forward",
            "visit_children",
            "visit_children_mut",
            "visit_params",
            "visit_params_mut",
            "visit_buffers",
            "visit_buffers_mut",
            "visit_masks",
            "visit_masks_mut",
            "visit_weights",
            "enforce_masks",
            "set_training",
            "own_training_mode",
            "set_own_sample_mode",
            "sample_mode",
            "as_any_mut",
            "as_any",
            "as_variational",
            "as_variational_mut",
            "pointwise_weights",
        ]
    );
}

/// Every method of the trait, default body or not, has a forwarding line
/// in the `Box` impl: the source says so, so a method added to `Module`
/// and forgotten there fails this test.
#[test]
fn the_box_impl_names_every_method_of_the_trait() {
    let src = include_str!("../src/module.rs");
    let section = |start: &str| -> Vec<String> {
        let body = &src[src.find(start).expect(start)..];
        let end = body.find("\n}\n").expect("end of block");
        body[..end]
            .lines()
            .filter_map(|l| l.trim().strip_prefix("fn "))
            .map(|l| l.split(['(', '<']).next().unwrap_or("").to_string())
            .collect()
    };
    let mut declared = section("pub trait Module: Send + Sync {");
    let mut forwarded = section("impl<M: Module + ?Sized> Module for Box<M> {");
    declared.sort();
    forwarded.sort();
    assert!(declared.len() >= 19, "{declared:?}");
    assert_eq!(declared, forwarded);
}
