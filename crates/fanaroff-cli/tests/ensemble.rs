//! Deep ensembles of finished runs.

use fanaroff_cli::{Experiment, RunOptions, evaluate_ensemble, run};
use std::path::PathBuf;

fn train(dir: &std::path::Path, name: &str, kind: &str, seed: u64, split: u64) -> PathBuf {
    let text = format!(
        "name = \"{name}\"\nseed = {seed}\n[data]\nsynthetic = 48\nsplit_seed = {split}\n\
         [model]\nkind = \"{kind}\"\n[training]\nepochs = 1\nprogress = false\n\
         [evaluation]\nsamples = 2\nentropy_samples = 2\n"
    );
    let exp = Experiment::from_toml(&text).unwrap();
    let out = dir.join(name);
    run(&exp, &RunOptions::new(&out)).unwrap();
    out
}

#[test]
fn members_on_one_split_form_an_ensemble() {
    let tmp = std::env::temp_dir().join(format!("fanaroff-ensemble-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let a = train(&tmp, "a", "lenet", 0, 3);
    let b = train(&tmp, "b", "lenet", 1, 3);
    let m = evaluate_ensemble(&[a.clone(), b.clone()]).unwrap();
    // sample m of the ensemble predictive is member m: the mean error over
    // samples is the members' mean error
    let own = |d: &PathBuf| {
        let r: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("record.json")).unwrap()).unwrap();
        r["metrics"]["test_error_mean"].as_f64().unwrap()
    };
    let expect = (own(&a) + own(&b)) / 2.0;
    assert!((m["test_error_mean"] - expect).abs() < 1e-9, "{m:?}");
    for key in ["test_error_predictive", "nll", "entropy_mwu_p", "uce_study"] {
        assert!(m.contains_key(key), "{key}");
    }
    // another split, a stochastic member, a lone run: errors
    let c = train(&tmp, "c", "lenet", 2, 4);
    let e = evaluate_ensemble(&[a.clone(), c]).unwrap_err().to_string();
    assert!(e.contains("another split"), "{e}");
    let d = train(&tmp, "d", "mc_dropout_lenet", 2, 3);
    let e = evaluate_ensemble(&[a.clone(), d]).unwrap_err().to_string();
    assert!(e.contains("deterministic"), "{e}");
    assert!(evaluate_ensemble(&[a]).is_err());
    let _ = std::fs::remove_dir_all(&tmp);
}
