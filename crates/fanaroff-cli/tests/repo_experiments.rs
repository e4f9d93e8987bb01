//! The experiment and grid files shipped in `experiments/` parse and check.

use fanaroff_cli::{Experiment, Grid};
use std::path::Path;

#[test]
fn every_shipped_file_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let mut seen = 0;
    let files = std::fs::read_dir(&dir)
        .unwrap()
        .chain(std::fs::read_dir(dir.join("study")).unwrap())
        .chain(std::fs::read_dir(dir.join("recipe")).unwrap())
        .chain(
            [
                "prune",
                "attention",
                "robustness",
                "baselines",
                "uncertainty",
                "explain",
            ]
            .iter()
            .flat_map(|d| std::fs::read_dir(dir.join(d)).unwrap()),
        );
    for entry in files {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        if text.contains("[grid]") {
            let g = Grid::from_file(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert!(!g.is_empty());
        } else {
            Experiment::from_file(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        }
        seen += 1;
    }
    assert!(seen >= 14, "{seen} files");
    let paper = Experiment::from_file(&dir.join("bbb_paper.toml")).unwrap();
    let ours = Experiment::from_file(&dir.join("bbb_paper_total.toml")).unwrap();
    for (e, lr, grad) in [(&paper, 1e-4, "DetachedMu"), (&ours, 5e-5, "Total")] {
        assert_eq!(
            (e.training.epochs, e.data.augment.is_identity()),
            (500, true)
        );
        let text = e.to_toml().unwrap();
        assert!(
            text.contains(&format!("log_q_gradient = \"{grad}\"")),
            "{text}"
        );
        assert!(
            text.contains(&format!("lr = {lr:e}")) || text.contains(&format!("lr = {lr}")),
            "{text}"
        );
    }
    let study = Grid::from_file(&dir.join("temperature_prior_seed.toml")).unwrap();
    assert_eq!(study.len(), 54);
    let cold = Grid::from_file(&dir.join("study/cold_posterior.toml")).unwrap();
    assert_eq!(cold.len(), 36);
    for (file, study, runs) in [
        ("prune/small.toml", "prune", 6),
        ("prune/full.toml", "prune", 9),
        ("attention/small.toml", "attention", 12),
        ("robustness/small.toml", "robustness", 6),
        ("robustness/mmd.toml", "robustness", 6),
        ("robustness/da_oracle.toml", "robustness", 12),
        ("baselines/small.toml", "ensemble", 3),
        ("explain/spray.toml", "spray", 9),
    ] {
        let g = Grid::from_file(&dir.join(file)).unwrap();
        assert_eq!(g.len(), runs, "{file}");
        assert_eq!(
            g.runs().unwrap()[0].experiment.study.label(),
            study,
            "{file}"
        );
    }
    // both attention protocols log test accuracy after 100, 200, 500 and 1,000 passes
    for file in ["attention/curve.toml", "attention/paper_cell.toml"] {
        let g = Grid::from_file(&dir.join(file)).unwrap();
        assert_eq!(g.len(), 3, "{file}");
        let e = &g.runs().unwrap()[0].experiment;
        let passes: Vec<usize> = e
            .evaluation
            .test_at_epochs
            .iter()
            .map(|k| k * e.training.passes_per_epoch)
            .collect();
        assert_eq!(passes, [100, 200, 500, 1000], "{file}");
        assert_eq!(
            e.training.epochs * e.training.passes_per_epoch,
            1000,
            "{file}"
        );
    }
    let recipe = Grid::from_file(&dir.join("recipe/bbb_2x2.toml")).unwrap();
    assert_eq!(recipe.len(), 20);
}
