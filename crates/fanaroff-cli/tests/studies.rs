//! Studies through the runner: the prune study's rows, refusals with the
//! valid names, a study on another run's model, and a study killed
//! mid-run that resumes without losing or repeating a row.

use fanaroff_cli::{Experiment, RunOptions, RunRecord, run};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_fanaroff");

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fanaroff-study-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn base(kind: &str) -> String {
    format!(
        r#"
        name = "tiny"
        seed = 3
        data = {{ synthetic = 32 }}
        model = {{ kind = "{kind}" }}
        training = {{ epochs = 2, batch_size = 8, progress = false, log_epochs = false }}
        evaluation = {{ samples = 2, entropy_samples = 2 }}
        "#
    )
}

/// Runs the experiment `text` in `dir`.
fn run_text(text: &str, dir: PathBuf) -> RunRecord {
    run(&Experiment::from_toml(text).unwrap(), &RunOptions::new(dir)).unwrap()
}

/// The string column `key` of a record's rows.
fn column<'a>(rec: &'a RunRecord, key: &str) -> Vec<&'a str> {
    rec.rows.iter().map(|r| r[key].as_str().unwrap()).collect()
}

/// A finished BBB LeNet run in `dir`.
fn trained(dir: &Path, kind: &str) {
    let exp = Experiment::from_toml(&base(kind)).unwrap();
    run(&exp, &RunOptions::new(dir)).unwrap();
}

#[test]
fn prune_study_rows_are_paired_and_recorded() {
    let tmp = temp_dir("prune");
    let text = base("bbb_lenet")
        + r#"
        [study]
        kind = "prune"
        criteria = ["snr", "magnitude", "random"]
        fractions = [0.0, 0.5]
        samples = 3
        "#;
    let exp = Experiment::from_toml(&text).unwrap();
    let rec = run(&exp, &RunOptions::new(tmp.join("run"))).unwrap();
    assert_eq!(rec.study, "prune");
    assert_eq!(rec.rows.len(), 6);
    let col = |i: usize, k: &str| rec.rows[i][k].as_f64().unwrap();
    // fraction 0 is the same model with the same draws under every criterion
    for i in [2, 4] {
        assert_eq!(col(i, "test_error_mean"), col(0, "test_error_mean"));
        assert_eq!(col(i, "nll"), col(0, "nll"));
    }
    for i in [1, 3, 5] {
        assert!((col(i, "sparsity") - 0.5).abs() < 0.01, "{}", rec.rows[i]);
    }
    assert_eq!(rec.rows[1]["criterion"], "snr");
    assert_eq!(rec.rows[3]["criterion"], "magnitude");
    // the record on disk is what run returned, and the rows file is gone
    let disk = RunRecord::read(&tmp.join("run/record.json")).unwrap();
    assert_eq!(disk.rows, rec.rows);
    assert!(!tmp.join("run/rows.json").exists());
}

#[test]
fn unknown_names_are_errors_that_list_the_valid_ones() {
    let cases = [
        (
            "[model]\nkind = \"resnet\"",
            ["resnet", "attention_net", "bbb_lenet"],
        ),
        ("[study]\nkind = \"distill\"", ["distill", "prune", "train"]),
        (
            "[study]\nkind = \"prune\"\ncriteria = [\"obd\"]",
            ["obd", "fisher-adam", "magnitude"],
        ),
    ];
    for (section, needles) in cases {
        let text = format!("[data]\nsynthetic = 16\n{section}");
        let e = Experiment::from_toml(&text).unwrap_err().to_string();
        for n in needles {
            assert!(e.contains(n), "{section:?} -> {e}");
        }
    }
}

#[test]
fn a_study_on_a_run_of_another_kind_is_refused_naming_both() {
    let tmp = temp_dir("kinds");
    trained(&tmp.join("lenet"), "lenet");
    let text = base("bbb_lenet")
        + &format!(
            "[study]\nkind = \"prune\"\nfrom = {:?}\ncriteria = [\"snr\"]\n",
            tmp.join("lenet")
        );
    let exp = Experiment::from_toml(&text).unwrap();
    let e = run(&exp, &RunOptions::new(tmp.join("study")))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\"lenet\"") && e.contains("\"bbb_lenet\""),
        "{e}"
    );
}

fn rows_in(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Vec<serde_json::Value>>(&t).ok())
        .map_or(0, |v| v.len())
}

#[test]
fn a_killed_study_resumes_without_losing_or_repeating_a_row() {
    let tmp = temp_dir("kill");
    let src = tmp.join("trained");
    trained(&src, "bbb_lenet");
    let text = base("bbb_lenet")
        + &format!(
            "[study]\nkind = \"prune\"\nfrom = {src:?}\ncriteria = [\"snr\", \"magnitude\", \"random\", \"fisher-grad\"]\nfractions = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]\nsamples = 8\n"
        );
    let file = tmp.join("study.toml");
    std::fs::write(&file, text).unwrap();
    let out = tmp.join("study");
    let args = [
        "train",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "1",
        "--no-progress",
    ];
    let mut child = Command::new(EXE).args(args).spawn().unwrap();
    let rows = out.join("rows.json");
    let t = Instant::now();
    while rows_in(&rows) < 3 {
        assert!(t.elapsed() < Duration::from_secs(300), "no rows appeared");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before the kill"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !out.join("record.json").exists(),
        "finished before the kill"
    );
    let before: Vec<(String, serde_json::Value)> =
        serde_json::from_str(&std::fs::read_to_string(&rows).unwrap()).unwrap();
    assert!(before.len() < 40, "{} rows before the kill", before.len());

    let again = Command::new(EXE).args(args).output().unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let rec = RunRecord::read(&out.join("record.json")).unwrap();
    assert_eq!(rec.rows.len(), 40);
    let keys: std::collections::BTreeSet<String> = rec
        .rows
        .iter()
        .map(|r| format!("{}@{}", r["criterion"], r["fraction"]))
        .collect();
    assert_eq!(keys.len(), 40, "a row is repeated");
    for (i, (_, row)) in before.iter().enumerate() {
        assert_eq!(&rec.rows[i], row, "row {i} changed on resume");
    }
}

#[test]
fn the_attention_net_is_a_model_kind_with_its_second_stage() {
    let tmp = temp_dir("attention");
    let text = r#"
        name = "gated"
        data = { synthetic = 16, scaling = "symmetric" }
        [model]
        kind = "attention_net"
        net = { aggregation = "fine_tuned", normalisation = "sigmoid" }
        finetune_epochs = 1
        [training]
        epochs = 1
        batch_size = 8
        progress = false
        log_epochs = false
        [evaluation]
        samples = 2
        entropy_samples = 2
    "#;
    let exp = Experiment::from_toml(text).unwrap();
    assert!(!exp.model.stochastic());
    let rec = run(&exp, &RunOptions::new(tmp.join("run"))).unwrap();
    assert!(rec.metrics["test_error_mean"].is_finite());
    assert!(
        tmp.join("run/ckpt_stage2/state.json").exists(),
        "no second stage"
    );
    // Bayesian gates make the model stochastic; with deep supervision they are refused
    let bayes = text.replace("finetune_epochs = 1", "layers = { gates = \"bayes\" }");
    let e = Experiment::from_toml(&bayes).unwrap_err().to_string();
    assert!(e.contains("deep supervision"), "{e}");
    let bayes = bayes.replace("fine_tuned", "mean");
    assert!(Experiment::from_toml(&bayes).unwrap().model.stochastic());
}

#[test]
fn the_attention_study_measures_gates_and_saliency_of_any_model() {
    let tmp = temp_dir("explain");
    let gated = r#"
        name = "gated"
        data = { synthetic = 16, scaling = "symmetric" }
        model = { kind = "attention_net", net = { blocks = [[4], [4], [8]], inter_channels = 4 } }
        training = { epochs = 1, batch_size = 8, progress = false, log_epochs = false }
        evaluation = { samples = 1, entropy_samples = 1 }
        [study]
        kind = "attention"
    "#;
    let rec = run_text(gated, tmp.join("gated"));
    assert_eq!(rec.rows.len(), 1);
    let row = &rec.rows[0];
    for k in [
        "attention_mass_gate1",
        "attention_mass_gate2",
        "lrp_mass",
        "gradient_mass",
    ] {
        let v = row[k].as_f64().unwrap_or_else(|| panic!("{k} in {row}"));
        assert!((0.0..=1.0).contains(&v), "{k} = {v}");
    }
    assert!(row.get("attention_mass_gate3").is_none());
    let acc = row["test_accuracy"].as_f64().unwrap();
    assert!(
        (acc - (1.0 - rec.metrics["test_error_mean"])).abs() < 1e-9,
        "{row}"
    );
    // the test metrics use batch norm's running statistics: they do not
    // depend on how the test images are batched
    let mut exp = Experiment::from_toml(gated).unwrap();
    let weights = tmp.join("gated/model.safetensors");
    let nll_at = |exp: &Experiment| fanaroff_cli::evaluate_saved(exp, &weights).unwrap()["nll"];
    exp.evaluation.batch_size = 1;
    let one = nll_at(&exp);
    exp.evaluation.batch_size = 5;
    let five = nll_at(&exp);
    assert!((one - five).abs() < 1e-6, "{one} vs {five}");
    assert!(
        (one - rec.metrics["nll"]).abs() < 1e-6,
        "{one} vs {}",
        rec.metrics["nll"]
    );

    // a plain LeNet: no gates, plain LRP
    let lenet = base("lenet") + "[study]\nkind = \"attention\"\n";
    let rec = run_text(&lenet, tmp.join("lenet"));
    assert!(rec.rows[0].get("attention_mass_gate1").is_none());
    assert!(
        rec.rows[0]["lrp_mass"].as_f64().is_some(),
        "{}",
        rec.rows[0]
    );
}

#[test]
fn the_robustness_study_reports_noise_and_attacks() {
    let tmp = temp_dir("robust");
    let text = base("lenet")
        + "[study]\nkind = \"robustness\"\nsnr = [5.0]\npgd_eps = [8.0]\npgd_steps = 2\none_pixel = 0\n";
    let rec = run_text(&text, tmp.join("run"));
    let tests: Vec<&str> = column(&rec, "test");
    let splits: Vec<&str> = column(&rec, "split");
    let flipped = rec.rows[2]["attack_success"].as_f64().unwrap() > 0.0;
    let mut want = vec!["clean", "gaussian_snr", "pgd_linf"];
    if flipped {
        want.push("flip_distance");
    }
    let n = want.len();
    want.extend(["clean", "gaussian_snr"]);
    assert_eq!(tests, want);
    assert!(splits[..n].iter().all(|s| *s == "test") && splits[n..].iter().all(|s| *s == "val"));
    assert_eq!(rec.row_keys, ["split", "test", "level"]);
    let clean_acc = rec.rows[0]["accuracy"].as_f64().unwrap();
    assert!((clean_acc - (1.0 - rec.metrics["test_error_mean"])).abs() < 1e-9);
    assert_eq!(rec.rows[0]["latent_distance"].as_f64(), Some(0.0));
    assert!(rec.rows[1]["latent_distance"].as_f64().unwrap() > 0.0);
    let s = rec.rows[2]["attack_success"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&s));
    if flipped {
        let f = &rec.rows[3];
        let ratio =
            f["normalised_distance"].as_f64().unwrap() / f["latent_distance"].as_f64().unwrap();
        assert!(ratio > 0.0 && ratio.is_finite(), "{f}");
    }
    // the validation rows measure the validation images
    let val_clean = rec.rows[n]["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&val_clean));
    assert!(rec.rows[n + 1]["latent_distance"].as_f64().unwrap() > 0.0);
    assert_eq!(rec.rows[n + 1]["level"].as_f64(), Some(5.0));
    let bad = base("lenet") + "[study]\nkind = \"robustness\"\nsnr = [-1.0]\n";
    assert!(
        Experiment::from_toml(&bad)
            .unwrap_err()
            .to_string()
            .contains("> 0")
    );
}

#[test]
fn the_ensemble_study_trains_members_on_one_split_and_averages_them() {
    let tmp = temp_dir("ensemble");
    let text = base("lenet") + "[study]\nkind = \"ensemble\"\nmembers = 3\n";
    let rec = run_text(&text, tmp.join("run"));
    let row = &rec.rows[0];
    let member =
        |k: usize| RunRecord::read(&tmp.join(format!("run/member{k}/record.json"))).unwrap();
    let (m1, m2) = (member(1), member(2));
    assert_eq!((m1.seed, m2.seed), (1003, 2003));
    assert_eq!(m1.counts, rec.counts, "members share the split");
    let mean_err = (rec.metrics["test_error_mean"]
        + m1.metrics["test_error_mean"]
        + m2.metrics["test_error_mean"])
        / 3.0;
    assert!(
        (row["test_error_mean"].as_f64().unwrap() - mean_err).abs() < 1e-9,
        "{row}"
    );
    assert_eq!(row["members"].as_f64(), Some(3.0));
    // stochastic members are refused
    refuses_bbb("[study]\nkind = \"ensemble\"\nmembers = 2\n", &tmp);
}

/// A BBB model under `study` fails with a message asking for a
/// deterministic model.
fn refuses_bbb(study: &str, tmp: &Path) {
    let bbb = base("bbb_lenet") + study;
    let e = run(
        &Experiment::from_toml(&bbb).unwrap(),
        &RunOptions::new(tmp.join("bbb")),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("deterministic") && e.contains("bbb_lenet"),
        "{e}"
    );
}

#[test]
fn the_attention_study_code_protocol_runs_from_a_file() {
    let tmp = temp_dir("protocol");
    let text = r#"
        name = "protocol"
        data = { synthetic = 16, scaling = "symmetric", augment = { max_rotation = 180.0, max_shift = 2.0 } }
        [model]
        kind = "attention_net"
        net = { blocks = [[4], [4], [8]], inter_channels = 4 }
        init = "kaiming"
        loss = "probabilities"
        [training]
        epochs = 2
        batch_size = 8
        progress = false
        log_epochs = false
        monitor = { metric = "val_prob_ce" }
        [evaluation]
        samples = 1
        entropy_samples = 1
        [study]
        kind = "attention"
        tta = 3
    "#;
    let exp = Experiment::from_toml(text).unwrap();
    let rec = run(&exp, &RunOptions::new(tmp.join("run"))).unwrap();
    let history = std::fs::read_to_string(tmp.join("run/ckpt/history.csv")).unwrap();
    assert!(
        history.lines().next().unwrap().contains("val_prob_ce"),
        "{history}"
    );
    for k in ["tta_accuracy", "tta_auc"] {
        let v = rec.rows[0][k].as_f64().unwrap_or_else(|| panic!("{k}"));
        assert!((0.0..=1.0).contains(&v), "{k} = {v}");
    }
    // the same with model selection over augmented validation copies
    let tta = text
        .replace("monitor = { metric = \"val_prob_ce\" }", "")
        .replace("entropy_samples = 1", "entropy_samples = 1\nval_tta = 2");
    let rec = run(
        &Experiment::from_toml(&tta).unwrap(),
        &RunOptions::new(tmp.join("val_tta")),
    );
    assert!(rec.unwrap().metrics["test_error_mean"].is_finite());

    // the study code's fine-tuned network (one stage, ReLU on the heads)
    // takes the study code's loss, with the range over the batch, selected
    // on the study code's loss over augmented validation copies
    let sft = text
        .replace(
            "net = { blocks",
            "net = { aggregation = \"study_fine_tuned\", normalisation = \"range_batch\", \
             block_order = \"conv_relu_bn\", blocks",
        )
        .replace("init = \"kaiming\"", "init = \"kaiming_conv\"")
        .replace("entropy_samples = 1", "entropy_samples = 1\nval_tta = 2");
    let rec = run(
        &Experiment::from_toml(&sft).unwrap(),
        &RunOptions::new(tmp.join("study_fine_tuned")),
    )
    .unwrap();
    assert!(rec.metrics["test_error_mean"].is_finite());
    assert!(!tmp.join("study_fine_tuned/ckpt_stage2").exists());
    let history = std::fs::read_to_string(tmp.join("study_fine_tuned/ckpt/history.csv")).unwrap();
    let rows: Vec<&str> = history.lines().collect();
    let col = rows[0].split(',').position(|c| c == "val_prob_ce").unwrap();
    let v: f64 = rows[1].split(',').nth(col).unwrap().parse().unwrap();
    assert!((0.31..=1.32).contains(&v), "{history}");

    // Kaiming weights differ from the layers' own initialisation, seed for seed
    let norm = |t: &str| {
        let b = Experiment::from_toml(t).unwrap().model;
        let m = b.build(&mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0));
        let mut sum = 0.0f64;
        m.unwrap().model.visit_params("", &mut |_, p| {
            sum += p.data().iter().map(|v| f64::from(*v).powi(2)).sum::<f64>()
        });
        sum
    };
    let conv_only = text.replace("init = \"kaiming\"", "init = \"kaiming_conv\"");
    let default = text.replace("init = \"kaiming\"", "");
    assert_ne!(norm(text), norm(&default));
    assert_ne!(norm(&conv_only), norm(&default));
    assert_ne!(norm(&conv_only), norm(text));

    // refusals: the study code's loss with deep supervision, a typo in the study
    let ds = text.replace("blocks", "aggregation = \"deep_supervision\", blocks");
    let e = Experiment::from_toml(&ds).unwrap_err().to_string();
    assert!(e.contains("model.loss"), "{e}");
    assert!(Experiment::from_toml(&text.replace("tta = 3", "ttta = 3")).is_err());
}

#[test]
fn the_map_spread_study_groups_images_of_a_bayesian_attention_net() {
    let tmp = temp_dir("spread");
    let text = r#"
        name = "spread"
        data = { synthetic = 24, scaling = "symmetric" }
        [model]
        kind = "attention_net"
        net = { blocks = [[4], [4], [8]], inter_channels = 4, gate_bias = true }
        layers = { gates = "bayes", head = "bayes" }
        [training]
        epochs = 1
        batch_size = 8
        progress = false
        log_epochs = false
        [evaluation]
        samples = 2
        entropy_samples = 2
        [study]
        kind = "map_spread"
        draws = 3
    "#;
    let rec = run_text(text, tmp.join("run"));
    let groups: Vec<&str> = column(&rec, "group");
    assert_eq!(groups, ["test_right", "test_wrong", "uncertain"]);
    let n = |i: usize| rec.rows[i]["images"].as_u64().unwrap();
    assert_eq!((n(0) + n(1)) as usize, rec.counts[2]);
    // Bayesian gates: the maps move between draws
    let spread = rec.rows[2]["spread_gate1"].as_f64().unwrap();
    assert!(spread > 0.0 && spread.is_finite(), "{spread}");
    // a model without gates is refused by name
    let lenet = base("lenet") + "[study]\nkind = \"map_spread\"\n";
    let e = run(
        &Experiment::from_toml(&lenet).unwrap(),
        &RunOptions::new(tmp.join("lenet")),
    )
    .unwrap_err();
    assert!(e.to_string().contains("attention_net"), "{e}");
    assert!(Experiment::from_toml(&text.replace("draws = 3", "draws = 1")).is_err());
}

#[test]
fn reevaluate_runs_a_study_again_and_rewrites_its_rows() {
    let tmp = temp_dir("reeval");
    let grid = format!(
        "[base]\n{}\n[base.study]\nkind = \"prune\"\ncriteria = [\"snr\"]\nfractions = [0.5]\nsamples = 2\n\
         [grid]\nseed = [3]\n",
        base("bbb_lenet")
    );
    let path = tmp.join("grid.toml");
    std::fs::write(&path, grid).unwrap();
    let sweep = fanaroff_cli::Sweep::open(&path, &tmp.join("out")).unwrap();
    sweep.run_index(0, None, false).unwrap();
    let file = sweep.run_dir(0).join("record.json");
    let done = RunRecord::read(&file).unwrap();
    assert_eq!(done.rows.len(), 1);
    // a record whose rows were lost or made by older code
    let mut stale = done.clone();
    stale.rows = vec![serde_json::json!({ "criterion": "snr", "fraction": 0.5 })];
    stale.write(&file).unwrap();
    let again = sweep.reevaluate(0).unwrap().unwrap();
    assert_eq!(again.rows, done.rows);
    assert_eq!(RunRecord::read(&file).unwrap().rows, done.rows);
    assert!(!sweep.run_dir(0).join(fanaroff_cli::ROWS_FILE).exists());
}

#[test]
fn the_uncertainty_study_scores_the_model_and_its_laplace_posteriors() {
    let tmp = temp_dir("uncertainty");
    let text = base("lenet")
        + "[study]\nkind = \"uncertainty\"\nsamples = 3\nmembers = 2\nlaplace = [{ structure = \"kron\" }, \
           { structure = \"full\", prior = \"validation_nll\" }]\n";
    let rec = run_text(&text, tmp.join("run"));
    assert_eq!(rec.row_keys, ["method", "set", "score"]);
    let methods = [
        "lenet",
        "ensemble",
        "laplace_ggn_kron_marginal_likelihood",
        "laplace_ggn_full_validation_nll",
    ];
    let rows = |m: &str| -> Vec<&serde_json::Value> {
        rec.rows.iter().filter(|r| r["method"] == m).collect()
    };
    for m in methods {
        let r = rows(m);
        let test = r[0];
        assert_eq!(
            (test["set"].as_str(), test["score"].as_str()),
            (Some("test"), Some(""))
        );
        for key in [
            "coverage",
            "coverage_mondrian",
            "error",
            "ece_adaptive",
            "aurc",
        ] {
            let v = test[key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{m} {key} = {v}");
        }
        assert!((0.0..=2.0).contains(&test["set_size"].as_f64().unwrap()));
        // synthetic training data: the noisy copies are the only shifted set
        let scores: Vec<&str> = r[1..]
            .iter()
            .map(|x| x["score"].as_str().unwrap())
            .collect();
        assert!(r[1..].iter().all(|x| x["set"] == "noisy"));
        let mut want = vec!["max_softmax", "entropy"];
        if m != "lenet" {
            want.push("mutual_information");
        }
        want.extend(["max_logit", "energy"]);
        if m != "ensemble" {
            want.push("mahalanobis"); // the members share no features
        }
        assert_eq!(scores, want, "{m}");
        assert!(
            r[1..]
                .iter()
                .all(|x| (0.0..=1.0).contains(&x["auroc"].as_f64().unwrap()))
        );
    }
    // a last-layer posterior keeps the trained logits and features
    let auroc = |m: &str, s: &str| {
        rows(m).iter().find(|r| r["score"] == s).unwrap()["auroc"]
            .as_f64()
            .unwrap()
    };
    for s in ["max_logit", "energy", "mahalanobis"] {
        assert_eq!(auroc("lenet", s), auroc(methods[2], s), "{s}");
    }
    // each method's test predictive is saved for reliability diagrams
    let saved = tmp.join("run/uncertainty");
    let y = fanaroff_calibrate::npy::read_npy(saved.join("labels_test.npy")).unwrap();
    for m in methods {
        let p = fanaroff_calibrate::npy::read_npy(saved.join(format!("{m}_test.npy"))).unwrap();
        assert_eq!(p.shape, [y.len(), 2], "{m}");
        let v = p.to_f64();
        assert!(v.chunks(2).all(|r| (r[0] + r[1] - 1.0).abs() < 1e-5), "{m}");
    }
    refuses_bbb("[study]\nkind = \"uncertainty\"\nlaplace = [{}]\n", &tmp);
    let bad = base("lenet") + "[study]\nkind = \"uncertainty\"\nalpha = 1.5\n";
    assert!(
        Experiment::from_toml(&bad)
            .unwrap_err()
            .to_string()
            .contains("(0, 1)")
    );
}

#[test]
fn the_spray_study_clusters_relevance_maps() {
    let tmp = temp_dir("spray");
    let study = "\n[study]\nkind = \"spray\"\nknn = 4\nk_max = 4\nperplexity = 5.0\ndraws = 2\n\
                 concepts = 2\nreferences = 3\nexamples = 2\n";
    let bbb = base("bbb_lenet").replace("synthetic = 32", "synthetic = 160") + study;
    let rec = run_text(&bbb, tmp.join("bbb"));
    assert_eq!(rec.row_keys, ["part", "cluster"]);
    let part = |p: &str| -> Vec<&serde_json::Value> {
        rec.rows.iter().filter(|r| r["part"] == p).collect()
    };
    let all = part("all")[0];
    let n = all["size"].as_u64().unwrap();
    assert_eq!(n as usize, rec.counts[2]);
    let clusters = part("cluster");
    assert_eq!(clusters.len() as u64, all["k"].as_u64().unwrap());
    let sizes: u64 = clusters.iter().map(|r| r["size"].as_u64().unwrap()).sum();
    assert_eq!(sizes, n);
    let errors: u64 = clusters.iter().map(|r| r["errors"].as_u64().unwrap()).sum();
    assert_eq!(errors, all["errors"].as_u64().unwrap());
    assert!(
        clusters
            .iter()
            .all(|r| (0.0..=1.0).contains(&r["predicted_class1"].as_f64().unwrap()))
    );
    for key in ["source", "other", "border"] {
        let v = all[key].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{key} {v}");
    }
    assert!(all["source"].as_f64().unwrap() + all["other"].as_f64().unwrap() <= 1.0 + 1e-9);
    let concepts = part("concept");
    assert_eq!(concepts.len(), 2);
    assert!(concepts[0]["cluster"].as_str().unwrap().starts_with("conv"));
    assert_eq!(
        concepts[0]["references"]
            .as_str()
            .unwrap()
            .split(' ')
            .count(),
        3
    );
    let draws = part("draws");
    assert!(
        draws[0]["map_spread"].as_f64().unwrap() > 0.0,
        "{}",
        draws[0]
    );
    for f in [
        "embedding",
        "clusters",
        "labels",
        "correct",
        "eigenvalues",
        "mean_maps",
    ] {
        assert!(tmp.join(format!("bbb/spray/{f}.npy")).exists(), "{f}");
    }
    // a deterministic LeNet has no weight draws
    let lenet = base("lenet").replace("synthetic = 32", "synthetic = 160") + study;
    let rec = run_text(&lenet, tmp.join("lenet"));
    assert!(rec.rows.iter().all(|r| r["part"] != "draws"));
    let bad = base("lenet") + "\n[study]\nkind = \"spray\"\ngrid = 0\n";
    assert!(Experiment::from_toml(&bad).is_err());
}
