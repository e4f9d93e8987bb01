//! After a first epoch, an epoch of the training loop takes every large
//! buffer (activations, gradients, input batches) from the buffer pool: no
//! fresh large allocation, so no page faults on first touch. Alone in its
//! file because the pool and its counters are shared by the whole process.
//!
//! It runs on one worker thread. With several, each convolution holds one
//! scratch buffer per worker that is busy at that moment, and how many are
//! busy at once depends on scheduling: an epoch may happen to run more
//! chunks side by side than any before it and take one more buffer (seen
//! as one or two misses of 0.25-1 MiB in about one run of ten), so the
//! count would not be deterministic.

use fanaroff_nn::models::{LeNetConfig, lenet};
use fanaroff_tensor::pool;
use fanaroff_train::{ArrayLoader, TrainConfig, Trainer};
use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;

#[test]
fn an_epoch_after_the_first_takes_every_large_buffer_from_the_pool() {
    let one_worker = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a thread pool");
    one_worker.install(second_epoch_is_served_by_the_pool);
}

fn second_epoch_is_served_by_the_pool() {
    let n = 12;
    let x = ArrayD::from_shape_fn(IxDyn(&[n, 1, 128, 128]), |i| {
        ((i[0] * 7 + i[2] * 3 + i[3]) % 11) as f32 / 11.0
    });
    let y: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let data = ArrayLoader::new(x, y, 2).unwrap();
    let cfg = LeNetConfig {
        image_size: 128,
        channels: [16, 4, 4, 4],
        hidden: [8, 8],
        ..LeNetConfig::default()
    };
    let mut net = lenet(&cfg, &mut StdRng::seed_from_u64(0)).unwrap();
    // batch 4: the input batch, 4 x 128 x 128, and the first convolution's
    // output are large enough to be pooled
    let batch = 4;
    assert!(batch * 128 * 128 >= pool::MIN_LEN);
    let train = TrainConfig::default()
        .epochs(1)
        .batch_size(batch)
        .adam(1e-3)
        .progress(false)
        .log_epochs(false);
    let mut trainer = Trainer::new(train).unwrap();
    trainer.fit(&mut net, &data).unwrap();
    let before = pool::stats();
    trainer.fit(&mut net, &data).unwrap();
    let epoch = pool::stats().since(&before);
    assert!(epoch.hits >= 3 * 4, "pooled requests per epoch: {epoch:?}");
    assert_eq!(epoch.misses, 0, "fresh large allocations: {epoch:?}");
}
