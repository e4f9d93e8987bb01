//! Step wrappers through the runner: MMD domain adaptation trains with its
//! second stream and metric, weight 0 is exactly the unwrapped run, and bad
//! wrappers are refused by name.

use fanaroff_cli::{Experiment, RunOptions, run, step_kinds};
use std::path::PathBuf;

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fanaroff-step-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const BASE: &str = r#"
    name = "mmd"
    seed = 1
    data = { synthetic = 32 }
    model = { kind = "bbb_lenet" }
    training = { epochs = 2, batch_size = 8, progress = false, log_epochs = false }
    evaluation = { samples = 2, entropy_samples = 2 }
"#;

#[test]
fn mmd_adaptation_trains_on_two_streams_and_weight_zero_is_the_plain_run() {
    let tmp = temp_dir("mmd");
    let with = |step: &str| Experiment::from_toml(&format!("{BASE}{step}")).unwrap();
    let adapted = with("[step]\nkind = \"mmd\"\nsnr = 5.0\nlambda = 0.5\n");
    run(&adapted, &RunOptions::new(tmp.join("adapted"))).unwrap();
    let history = std::fs::read_to_string(tmp.join("adapted/ckpt/history.csv")).unwrap();
    assert!(
        history.lines().next().unwrap().contains("mmd2"),
        "{history}"
    );

    let zero = run(
        &with("[step]\nkind = \"mmd\"\nlambda = 0.0\n"),
        &RunOptions::new(tmp.join("zero")),
    )
    .unwrap();
    let plain = run(&with(""), &RunOptions::new(tmp.join("plain"))).unwrap();
    assert_eq!(zero.metrics, plain.metrics);
    // the section survives the round trip through the run's experiment.toml
    let again = Experiment::from_toml(&adapted.to_toml().unwrap()).unwrap();
    assert_eq!(again.step, adapted.step);

    // the paper's kernel is another loss: other MMD values, same data
    let paper = with("[step]\nkind = \"mmd\"\nsnr = 5.0\nlambda = 0.5\nkernel = \"paper\"\n");
    run(&paper, &RunOptions::new(tmp.join("paper"))).unwrap();
    let mmd2 = |dir: &str| -> f64 {
        let h = std::fs::read_to_string(tmp.join(dir).join("ckpt/history.csv")).unwrap();
        let mut lines = h.lines();
        let col = lines
            .next()
            .unwrap()
            .split(',')
            .position(|c| c == "mmd2")
            .unwrap();
        lines
            .next()
            .unwrap()
            .split(',')
            .nth(col)
            .unwrap()
            .parse()
            .unwrap()
    };
    let (std_k, paper_k) = (mmd2("adapted"), mmd2("paper"));
    assert!(
        std_k.is_finite() && paper_k >= 1e-4 && paper_k != std_k,
        "{std_k} {paper_k}"
    );
    let again = Experiment::from_toml(&paper.to_toml().unwrap()).unwrap();
    assert_eq!(again.step, paper.step);
    assert!(
        Experiment::from_toml(&format!(
            "{BASE}[step]\nkind = \"mmd\"\nkernel = \"gauss\"\n"
        ))
        .is_err()
    );
}

#[test]
fn bad_step_wrappers_are_refused_by_name() {
    assert!(step_kinds().contains(&"mmd"));
    let e = Experiment::from_toml(&format!("{BASE}[step]\nkind = \"dann\"\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("dann") && e.contains("mmd"), "{e}");
    let e = Experiment::from_toml(&format!("{BASE}[step]\nkind = \"mmd\"\nlambda = -1.0\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("step.lambda"), "{e}");
    let typo = format!("{BASE}[step]\nkind = \"mmd\"\nlamda = 1.0\n");
    assert!(Experiment::from_toml(&typo).is_err());
    // the features are a sequential model's layer outputs
    let gated = BASE.replace("kind = \"bbb_lenet\"", "kind = \"attention_net\"")
        + "[step]\nkind = \"mmd\"\n";
    let tmp = temp_dir("gated");
    let e = run(
        &Experiment::from_toml(&gated).unwrap(),
        &RunOptions::new(tmp.join("run")),
    )
    .unwrap_err();
    assert!(e.to_string().contains("sequential"), "{e}");
}
