//! The deterministic LeNet learns the synthetic FRI/FRII task: the
//! small-scale twin of `examples/02_train_lenet.rs`.

use fanaroff_examples::{LeNetRun, train_lenet_synthetic};

#[test]
fn lenet_learns_synthetic_fr_classes() {
    let run = LeNetRun {
        train: 300,
        test: 200,
        epochs: 3,
        seed: 3,
        verbose: false,
        ..LeNetRun::default()
    };
    let report = train_lenet_synthetic(&run).unwrap();
    let first_loss = report.train_loss[0];
    let last_loss = *report.train_loss.last().unwrap();
    let acc = *report.test_accuracy.last().unwrap();
    assert!(
        last_loss < 0.6 * first_loss,
        "loss {first_loss} -> {last_loss}"
    );
    // chance is 50 %; the full example reaches > 95 %
    assert!(acc > 0.85, "test accuracy {acc}");
}

#[test]
fn same_seed_same_model() {
    let run = LeNetRun {
        train: 60,
        test: 20,
        epochs: 1,
        seed: 5,
        verbose: false,
        ..LeNetRun::default()
    };
    let a = train_lenet_synthetic(&run).unwrap();
    let b = train_lenet_synthetic(&run).unwrap();
    assert_eq!(a.train_loss, b.train_loss);
    use fanaroff::nn::ModuleExt;
    let (pa, pb) = (a.model.named_parameters(), b.model.named_parameters());
    assert!(
        pa.iter()
            .zip(&pb)
            .all(|((_, x), (_, y))| x.data() == y.data())
    );
}
