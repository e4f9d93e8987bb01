//! The defence steps add exactly what they promise to the inner step.

use fanaroff_nn::{
    Activation, Flatten, Linear, LinearConfig, Module, ModuleExt, Reduction, Sequential,
    cross_entropy,
};
use fanaroff_perturb::attack::{Bounds, Norm, Pgd};
use fanaroff_perturb::{AdversarialStep, Mmd, MmdStep, latent, latent_distance};
use fanaroff_tensor::Tensor;
use fanaroff_train::{Batch, CrossEntropyStep, StepContext, TrainStep};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn net() -> Sequential {
    let mut rng = StdRng::seed_from_u64(1);
    Sequential::new()
        .push("flat", Flatten)
        .push(
            "fc1",
            Linear::new(LinearConfig::new(4, 3), &mut rng).unwrap(),
        )
        .push("relu", Activation::Relu)
        .push(
            "fc2",
            Linear::new(LinearConfig::new(3, 2), &mut rng).unwrap(),
        )
}

fn images(offset: f32) -> Tensor {
    let v: Vec<f32> = (0..16).map(|i| (i as f32 * 0.37).sin() + offset).collect();
    Tensor::from_vec(v, &[4, 1, 2, 2]).unwrap()
}

fn batch(target: Option<Tensor>) -> Batch {
    Batch {
        inputs: images(0.0),
        labels: vec![0, 1, 1, 0],
        indices: vec![0, 1, 2, 3],
        target,
    }
}

fn ctx<'a, M: ?Sized>(model: &'a M, rng: &'a mut StdRng) -> StepContext<'a, M> {
    StepContext {
        model,
        rng,
        epoch: 0,
        step: 0,
        steps_per_epoch: 1,
    }
}

#[test]
fn mmd_step_adds_lambda_times_mmd_of_the_latent_features() {
    let model = net();
    let mut rng = StdRng::seed_from_u64(0);
    let b = batch(Some(images(0.8)));
    let mut step = MmdStep::new(
        CrossEntropyStep,
        Mmd::new(vec![0.5, 1.0, 2.0]).unwrap(),
        0.7,
        3,
    );
    let out = step.step(&b, &mut ctx(&model, &mut rng)).unwrap();
    let ce = cross_entropy(
        &model.forward_rng(&b.inputs, &mut rng).unwrap(),
        &b.labels,
        Reduction::Mean,
    )
    .unwrap();
    let fs = latent(&model, &b.inputs, 3, &mut rng).unwrap();
    let ft = latent(&model, b.target.as_ref().unwrap(), 3, &mut rng).unwrap();
    assert_eq!(fs.shape(), &[4, 3]);
    let m = Mmd::new(vec![0.5, 1.0, 2.0])
        .unwrap()
        .mmd2(&fs, &ft)
        .unwrap()
        .item()
        .unwrap();
    let want = ce.item().unwrap() + 0.7 * m;
    assert!(
        (out.loss.item().unwrap() - want).abs() < 1e-5,
        "{} vs {want}",
        out.loss.item().unwrap()
    );
    assert!(
        out.metrics
            .iter()
            .any(|x| x.name == "mmd2" && (x.sum as f32 - m).abs() < 1e-6)
    );
    assert!(m > 0.0);
    // the MMD term has gradients into the first layer
    let grads = out.loss.backward().unwrap();
    assert!(grads.len() >= 4);
    // without a target batch: an error naming the loader to use
    let e = step
        .step(&batch(None), &mut ctx(&model, &mut rng))
        .unwrap_err();
    assert!(e.to_string().contains("TwoStream"), "{e}");
}

#[test]
fn adversarial_step_doubles_the_batch_and_raises_the_loss() {
    let model = net();
    let mut rng = StdRng::seed_from_u64(0);
    let pgd = Pgd::new(Norm::LInf, 0.1, Bounds::new(-5.0, 5.0).unwrap()).unwrap();
    let mut step = AdversarialStep::new(CrossEntropyStep, pgd, false);
    let out = step.step(&batch(None), &mut ctx(&model, &mut rng)).unwrap();
    let loss = out.metrics.iter().find(|m| m.name == "loss").unwrap();
    assert_eq!(loss.count, 8.0);
    let clean = CrossEntropyStep
        .step(&batch(None), &mut ctx(&model, &mut rng))
        .unwrap();
    // the adversarial half raises the mean loss
    assert!(out.loss.item().unwrap() > clean.loss.item().unwrap());
}

#[test]
fn latent_distance_is_zero_for_the_same_image_and_grows_with_the_change() {
    let model = net();
    let x = images(0.0);
    let d0 = latent_distance(&model, 3, &x, &x, 0).unwrap();
    assert!(d0.iter().all(|&d| d == 0.0));
    let (d1, d2) = (
        latent_distance(&model, 3, &x, &images(0.1), 0).unwrap(),
        latent_distance(&model, 3, &x, &images(1.0), 0).unwrap(),
    );
    assert!(d1.iter().zip(&d2).all(|(a, b)| b >= a));
    assert!(d2.iter().any(|&d| d > 0.0));
    assert!(latent_distance(&model, 3, &x, &Tensor::zeros(&[2, 1, 2, 2]), 0).is_err());
}

/// A model behind `Box<dyn Module>`, as the experiment runner holds it.
fn boxed() -> Box<dyn Module> {
    Box::new(net())
}

#[test]
fn adversarial_step_takes_any_attack_and_any_model_handle() {
    use fanaroff_perturb::attack::{Attack, Fgsm, Goal, OnePixel};
    let model = boxed();
    let b = Bounds::new(-5.0, 5.0).unwrap();
    let attacks: Vec<Box<dyn Attack>> = vec![
        Box::new(Fgsm::new(0.1, b).unwrap()),
        Box::new(OnePixel::new(Goal::PAPER_UNTARGETED, b)),
    ];
    let mut rng = StdRng::seed_from_u64(0);
    let clean = CrossEntropyStep
        .step(&batch(None), &mut ctx(&model, &mut rng))
        .unwrap();
    for attack in attacks {
        let name = attack.name();
        let mut step = AdversarialStep::new(CrossEntropyStep, BoxedAttack(attack), false);
        let out = step.step(&batch(None), &mut ctx(&model, &mut rng)).unwrap();
        let loss = out.metrics.iter().find(|m| m.name == "loss").unwrap();
        assert_eq!(loss.count, 8.0, "{name}");
        assert!(
            out.loss.item().unwrap() >= clean.loss.item().unwrap() - 1e-6,
            "{name}"
        );
    }
}

/// Forwards to a boxed attack (the step takes an attack by value).
#[derive(Debug)]
struct BoxedAttack(Box<dyn fanaroff_perturb::attack::Attack>);

impl fanaroff_perturb::attack::Attack for BoxedAttack {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn attack_batch(
        &self,
        model: &dyn fanaroff_perturb::GradientClassifier,
        x: ndarray::ArrayView4<'_, f32>,
        labels: &[usize],
        seed: u64,
    ) -> fanaroff_perturb::Result<ndarray::Array4<f32>> {
        self.0.attack_batch(model, x, labels, seed)
    }
}

#[test]
fn mmd_step_reaches_a_boxed_sequential_and_refuses_other_models() {
    let target = Some(images(0.5));
    let mut rng = StdRng::seed_from_u64(0);
    let mut step = MmdStep::new(CrossEntropyStep, Mmd::default(), 0.5, 3);
    let out = step
        .step(&batch(target.clone()), &mut ctx(&boxed(), &mut rng))
        .unwrap();
    assert!(out.metrics.iter().any(|m| m.name == "mmd2"));
    // a model that is not a Sequential has no layer outputs to align
    let other: Box<dyn Module> = Box::new(Flatten);
    let e = step
        .step(&batch(target), &mut ctx(&other, &mut rng))
        .unwrap_err();
    assert!(e.to_string().contains("not a Sequential"), "{e}");
}
