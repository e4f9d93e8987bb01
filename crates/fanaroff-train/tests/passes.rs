//! `passes_per_epoch`: an epoch of k shuffled passes, each example k times
//! with fresh batch seeds, and the step told its place within the pass.

use fanaroff_nn::{Linear, LinearConfig, Module, Sequential};
use fanaroff_train::{
    ArrayLoader, Batch, CrossEntropyStep, Loader, Result, StepContext, StepOutput, TrainConfig,
    TrainStep, Trainer,
};
use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::sync::{Arc, Mutex};

/// Indices and seed of each batch requested.
type Requests = Vec<(Vec<usize>, u64)>;

/// A loader that records every request.
struct Recording {
    inner: ArrayLoader<f32>,
    seen: Arc<Mutex<Requests>>,
}

impl Loader for Recording {
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn num_classes(&self) -> usize {
        self.inner.num_classes()
    }
    fn example_shape(&self) -> Vec<usize> {
        self.inner.example_shape()
    }
    fn batch(&self, indices: &[usize], seed: u64, augment: bool) -> Result<Batch> {
        self.seen.lock().unwrap().push((indices.to_vec(), seed));
        self.inner.batch(indices, seed, augment)
    }
    fn label(&self, i: usize) -> usize {
        self.inner.label(i)
    }
}

/// Cross-entropy, recording where each step falls.
struct Placed(Arc<Mutex<Vec<(usize, usize)>>>);

impl<M: Module + ?Sized> TrainStep<M> for Placed {
    fn step(&mut self, batch: &Batch, ctx: &mut StepContext<'_, M>) -> Result<StepOutput> {
        self.0.lock().unwrap().push((ctx.step, ctx.steps_per_epoch));
        CrossEntropyStep.step(batch, ctx)
    }
}

type Log = (Requests, Vec<(usize, usize)>);

fn one_epoch(passes: usize) -> Log {
    let x = ArrayD::from_shape_fn(IxDyn(&[10, 2]), |i| (i[0] * 3 + i[1]) as f32 / 10.0);
    let y: Vec<usize> = (0..10).map(|i| i % 2).collect();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let placed = Arc::new(Mutex::new(Vec::new()));
    let loader = Recording {
        inner: ArrayLoader::new(x, y, 2).unwrap(),
        seen: seen.clone(),
    };
    let mut rng = StdRng::seed_from_u64(0);
    let mut net = Sequential::new().push(
        "fc",
        Linear::new(LinearConfig::new(2, 2), &mut rng).unwrap(),
    );
    let cfg = TrainConfig::default()
        .epochs(1)
        .batch_size(4)
        .passes_per_epoch(passes)
        .progress(false)
        .log_epochs(false);
    Trainer::new(cfg)
        .unwrap()
        .step(Placed(placed.clone()))
        .fit(&mut net, &loader)
        .unwrap();
    let requests = seen.lock().unwrap().clone();
    let places = placed.lock().unwrap().clone();
    (requests, places)
}

#[test]
fn three_passes_show_every_example_three_times_with_fresh_seeds() {
    let (seen, placed) = one_epoch(3);
    assert_eq!(seen.len(), 9, "3 passes of ceil(10 / 4) batches");
    let mut counts = [0; 10];
    for (idx, _) in &seen {
        for &i in idx {
            counts[i] += 1;
        }
    }
    assert_eq!(counts, [3; 10]);
    // each pass is a full permutation
    for pass in seen.chunks(3) {
        let mut all: Vec<usize> = pass.iter().flat_map(|(i, _)| i.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }
    let mut seeds: Vec<u64> = seen.iter().map(|(_, s)| *s).collect();
    seeds.sort_unstable();
    seeds.dedup();
    assert_eq!(seeds.len(), 9, "every batch its own augmentation seed");
    // the step counts within its pass (an ELBO's KL weights sum to one per pass)
    let want: Vec<(usize, usize)> = (0..3).flat_map(|_| (0..3).map(|j| (j, 3))).collect();
    assert_eq!(placed, want);
}

#[test]
fn one_pass_is_the_plain_epoch_and_zero_is_refused() {
    let (one, placed) = one_epoch(1);
    let (three, _) = one_epoch(3);
    assert_eq!(one.len(), 3);
    assert_eq!(one[..], three[..3], "the first pass is the plain epoch");
    assert_eq!(placed, [(0, 3), (1, 3), (2, 3)]);
    assert!(TrainConfig::default().passes_per_epoch(0).check().is_err());
    // the key round-trips, and files without it keep one pass
    let cfg: TrainConfig = serde_json::from_str(r#"{"passes_per_epoch": 72}"#).unwrap();
    assert_eq!(cfg.passes_per_epoch, 72);
    let plain = serde_json::to_string(&TrainConfig::default()).unwrap();
    assert!(!plain.contains("passes_per_epoch"), "{plain}");
}
