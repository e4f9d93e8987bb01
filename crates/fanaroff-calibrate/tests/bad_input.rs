//! Every kind of bad input gets a specific, readable error.

use fanaroff_calibrate::*;
use ndarray::{Array2, Array3, array};

type Metric = fn(ndarray::ArrayView2<'_, f64>, &[usize]) -> Result<f64>;

/// The metric functions that take (probabilities, labels).
fn metrics() -> Vec<(&'static str, Metric)> {
    vec![
        ("ece", |p, y| ece(p, y, Binning::default())),
        ("mce", |p, y| mce(p, y, Binning::default())),
        ("classwise_ece", |p, y| {
            classwise_ece(p, y, Binning::default()).map(|c| c.mean)
        }),
        ("uce", |p, y| uce(p, y, Binning::default())),
        ("class_uce", |p, y| {
            class_uce(p, y, Binning::default()).map(|c| c.cuce)
        }),
        ("brier", brier),
        ("nll", nll),
        ("accuracy", accuracy),
        ("error_detection", |p, y| {
            error_detection(p, y).map(|s| s.auroc)
        }),
        ("rejection", |p, y| {
            entropy_rejection_curve(p, y, 10).map(|c| c.accuracy[0])
        }),
        ("report", |p, y| {
            CalibrationReport::from_probs(p, y, &ReportConfig::default()).map(|r| r.ece)
        }),
        ("isotonic", |p, y| {
            IsotonicRegression::fit(p, y).map(|_| 0.0)
        }),
        ("histogram", |p, y| {
            HistogramBinning::fit(p, y, Binning::default()).map(|_| 0.0)
        }),
    ]
}

fn good() -> (Array2<f64>, Vec<usize>) {
    (array![[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], vec![0, 1, 1])
}

#[test]
fn the_good_case_passes_everywhere() {
    // So that the failures below are caused by the one defect each injects.
    let (p, y) = good();
    for (name, m) in metrics() {
        assert!(m(p.view(), &y).is_ok(), "{name}");
    }
}

#[test]
fn rows_not_summing_to_one() {
    let (mut p, y) = good();
    p[[1, 1]] = 0.7; // row 1 sums to 0.9
    for (name, m) in metrics() {
        match m(p.view(), &y) {
            Err(Error::NotNormalised {
                location,
                sum,
                tolerance,
            }) => {
                assert_eq!(location, "row 1", "{name}");
                assert!((sum - 0.9).abs() < 1e-12 && tolerance == DEFAULT_SUM_TOLERANCE);
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    let msg = check_probabilities(p.view(), 1e-4).unwrap_err().to_string();
    assert!(msg.contains("row 1") && msg.contains("0.9"), "{msg}");
    // Within the tolerance is fine; the tolerance is adjustable.
    p[[1, 1]] = 0.8 + 5e-5;
    assert!(ece(p.view(), &y, Binning::default()).is_ok());
    assert!(check_probabilities(p.view(), 1e-6).is_err());
    // Logits passed by mistake.
    let logits = array![[2.0, -1.0], [0.5, 0.3]];
    assert!(matches!(
        nll(logits.view(), &[0, 1]),
        Err(Error::InvalidProbability { .. })
    ));
}

#[test]
fn negative_and_nan_and_infinite_values() {
    for bad in [-0.1, f64::NAN, f64::INFINITY] {
        let (mut p, y) = good();
        p[[2, 0]] = bad;
        for (name, m) in metrics() {
            match m(p.view(), &y) {
                Err(Error::InvalidProbability { location, .. }) => {
                    assert_eq!(location, "[2, 0]", "{name}")
                }
                other => panic!("{name} with {bad}: {other:?}"),
            }
        }
    }
    // Samples: the sample index is named.
    let mut s = Array3::from_elem((3, 2, 2), 0.5);
    s[[2, 1, 0]] = f64::NAN;
    let e = mutual_information(s.view()).unwrap_err();
    assert!(e.to_string().contains("sample 2, [1, 0]"), "{e}");
    // NaN scores for ranking metrics.
    assert!(matches!(
        auroc(&[0.1, f64::NAN], &[true, false]),
        Err(Error::NonFinite { .. })
    ));
    // NaN logits for temperature scaling.
    let z = array![[1.0, f64::NAN]];
    assert!(matches!(
        TemperatureScaling::fit(z.view(), &[0]),
        Err(Error::NonFinite { .. })
    ));
}

#[test]
fn shape_mismatches() {
    let (p, _) = good();
    for (name, m) in metrics() {
        match m(p.view(), &[0, 1]) {
            Err(Error::ShapeMismatch {
                expected, found, ..
            }) => {
                assert_eq!(
                    (expected.as_str(), found.as_str()),
                    ("3 labels", "2 labels"),
                    "{name}"
                )
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(matches!(
        auroc(&[0.1, 0.2], &[true]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        accuracy_rejection(&[0.1, 0.2], &[true], &[0.0]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        binned_calibration(
            &[0.1, 0.2],
            &[true],
            Binning::default(),
            DiagramKind::Custom
        ),
        Err(Error::ShapeMismatch { .. })
    ));
    // Samples with labels for another N.
    let s = Predictions::from_samples(Array3::from_elem((4, 3, 2), 0.5).view());
    assert!(matches!(
        CalibrationReport::compute(&s, &[0, 1], &ReportConfig::default()),
        Err(Error::ShapeMismatch { .. })
    ));
    // A recalibrator fitted on K = 2 applied to K = 3.
    let (p, y) = good();
    let iso = IsotonicRegression::fit(p.view(), &y).unwrap();
    let p3 = array![[0.2, 0.3, 0.5]];
    assert!(matches!(
        iso.apply(p3.view()),
        Err(Error::ShapeMismatch { .. })
    ));
    // Temperature scaling with labels for another N.
    let z = array![[1.0, 0.0]];
    assert!(matches!(
        TemperatureScaling::fit(z.view(), &[0, 1]),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn empty_inputs() {
    let p = Array2::<f64>::zeros((0, 2));
    for (name, m) in metrics() {
        assert!(
            matches!(m(p.view(), &[]), Err(Error::Empty { .. })),
            "{name}"
        );
    }
    let p = Array2::<f64>::zeros((2, 0));
    for (name, m) in metrics() {
        assert!(
            matches!(m(p.view(), &[0, 0]), Err(Error::Empty { .. })),
            "{name}"
        );
    }
    let s = Array3::<f64>::zeros((0, 2, 2));
    assert!(matches!(
        mutual_information(s.view()),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        CalibrationReport::compute(
            &Predictions::from_samples(s.view()),
            &[0, 1],
            &ReportConfig::default()
        ),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(auroc(&[], &[]), Err(Error::Empty { .. })));
    assert!(matches!(
        ood_detection(&[0.1], &[]),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        accuracy_rejection(&[], &[], &[0.0]),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        Binning::default().assign(&[]),
        Err(Error::Empty { .. })
    ));
    let z = Array2::<f64>::zeros((0, 3));
    assert!(matches!(
        TemperatureScaling::fit(z.view(), &[]),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        csv::parse_predictions("# nothing\n"),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        csv::parse_labels("label\n"),
        Err(Error::Empty { .. })
    ));
}

#[test]
fn labels_out_of_range() {
    let (p, _) = good();
    for (name, m) in metrics() {
        match m(p.view(), &[0, 2, 1]) {
            Err(Error::LabelOutOfRange {
                index,
                label,
                classes,
            }) => {
                assert_eq!((index, label, classes), (1, 2, 2), "{name}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    let msg = check_labels(&[0, 7], 2, 2).unwrap_err().to_string();
    assert_eq!(msg, "label 7 at index 1 is out of range for 2 classes");
    let z = array![[1.0, 0.0]];
    assert!(matches!(
        TemperatureScaling::fit(z.view(), &[5]),
        Err(Error::LabelOutOfRange { .. })
    ));
}

#[test]
fn zero_bins() {
    assert!(matches!(Binning::new(0), Err(Error::ZeroBins)));
    // A zero-bin Binning can only come from deserialisation; it is still caught.
    let b: Binning = serde_json::from_str(r#"{"strategy":"equal_width","bins":0}"#).unwrap();
    let (p, y) = good();
    assert!(matches!(ece(p.view(), &y, b), Err(Error::ZeroBins)));
    assert!(matches!(uce(p.view(), &y, b), Err(Error::ZeroBins)));
    let cfg = ReportConfig {
        binning: b,
        ..ReportConfig::default()
    };
    assert!(matches!(
        CalibrationReport::from_probs(p.view(), &y, &cfg),
        Err(Error::ZeroBins)
    ));
    assert_eq!(
        Error::ZeroBins.to_string(),
        "the number of bins must be at least 1"
    );
}

#[test]
fn other_parameters() {
    assert!(matches!(
        "bogus".parse::<BinStrategy>(),
        Err(Error::InvalidParameter { .. })
    ));
    assert_eq!(
        "mass".parse::<BinStrategy>().unwrap(),
        BinStrategy::EqualMass
    );
    assert!(Bootstrap::new(0, 0.9).is_err() && Bootstrap::new(10, 0.0).is_err());
    assert!(TemperatureScaling::with_temperature(0.0).is_err());
    assert!(TemperatureScaling::with_temperature(f64::NAN).is_err());
    assert!(accuracy_rejection(&[0.1], &[true], &[1.0]).is_err());
    assert!(rejection_fractions(0).is_err());
    // Binned values outside [0, 1].
    assert!(matches!(
        binned_calibration(&[1.5], &[true], Binning::default(), DiagramKind::Custom),
        Err(Error::InvalidParameter { .. })
    ));
    // K = 1: normalised entropy and UCE are undefined.
    let one = array![[1.0], [1.0]];
    assert!(matches!(
        uce(one.view(), &[0, 0], Binning::default()),
        Err(Error::TooFewClasses { .. })
    ));
    assert!(matches!(
        normalised_entropy(one.view()),
        Err(Error::TooFewClasses { .. })
    ));
    // AUROC without errors is undefined, and says why.
    let e = auroc(&[0.1, 0.2], &[false, false]).unwrap_err();
    assert!(e.to_string().contains("0 positives and 2 negatives"), "{e}");
    // Bad config values.
    let cfg = ReportConfig {
        sum_tolerance: -1.0,
        ..ReportConfig::default()
    };
    assert!(cfg.check().is_err());
    let cfg = ReportConfig {
        rejection_steps: 0,
        ..ReportConfig::default()
    };
    assert!(cfg.check().is_err());
}

#[test]
fn bad_files() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("calibrate_bad_files");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.npy");
    // Not a .npy file.
    std::fs::write(&path, b"hello world, not numpy").unwrap();
    assert!(matches!(npy::read_npy(&path), Err(Error::Npy { .. })));
    // Missing file: the message names it.
    let e = npy::read_npy(dir.join("missing.npy")).unwrap_err();
    assert!(matches!(e, Error::Io(_)), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("I/O error on ") && msg.contains("missing.npy: "),
        "{msg}"
    );
    // Truncated data.
    npy::write_npy_f64(&path, &[4, 2], &[0.5; 8]).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let e = npy::parse_npy(&bytes[..bytes.len() - 8]).unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
    // Big-endian and Fortran order are named.
    let find = |pat: &[u8]| bytes.windows(pat.len()).position(|w| w == pat).unwrap();
    let be = bytes.clone();
    let pos = find(b"<f8");
    let mut be2 = be.clone();
    be2[pos] = b'>';
    let e = npy::parse_npy(&be2).unwrap_err().to_string();
    assert!(e.contains("big-endian"), "{e}");
    let pos = find(b"False");
    let mut fo = be.clone();
    fo[pos..pos + 5].copy_from_slice(b"True ");
    let e = npy::parse_npy(&fo).unwrap_err().to_string();
    assert!(e.contains("Fortran"), "{e}");
    // An unsupported dtype.
    let mut c8 = be.clone();
    c8[find(b"<f8")..][..3].copy_from_slice(b"<c8");
    assert!(
        npy::parse_npy(&c8)
            .unwrap_err()
            .to_string()
            .contains("unsupported dtype")
    );
    // Wrong ranks for predictions and labels.
    npy::write_npy_f64(&path, &[8], &[0.5; 8]).unwrap();
    assert!(matches!(
        report::load_predictions(&path),
        Err(Error::ShapeMismatch { .. })
    ));
    npy::write_npy_f64(&path, &[4, 2], &[0.0; 8]).unwrap();
    assert!(matches!(
        report::load_labels(&path),
        Err(Error::ShapeMismatch { .. })
    ));
    // Fractional and negative labels.
    npy::write_npy_f64(&path, &[2], &[0.0, 1.5]).unwrap();
    assert!(matches!(
        report::load_labels(&path),
        Err(Error::InvalidParameter { .. })
    ));
    npy::write_npy_i64(&path, &[2], &[0, -1]).unwrap();
    assert!(matches!(
        report::load_labels(&path),
        Err(Error::InvalidParameter { .. })
    ));
    // CSV: ragged rows, non-numbers, uneven sample blocks.
    assert!(matches!(
        csv::parse_predictions("0.5,0.5\n0.2,0.3,0.5\n"),
        Err(Error::Csv { line: 2, .. })
    ));
    assert!(matches!(
        csv::parse_predictions("0.5,0.5\n0.2,abc\n"),
        Err(Error::Csv { line: 2, .. })
    ));
    assert!(matches!(
        csv::parse_predictions("0.5,0.5\n0.2,0.8\n\n0.5,0.5\n"),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        csv::parse_labels("0\n1.5\n"),
        Err(Error::Csv { line: 2, .. })
    ));
}
