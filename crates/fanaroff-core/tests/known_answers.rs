//! Known answers, computed by hand or by an independent reference.

use fanaroff_core::{GOLDEN_GAMMA, Invalid, IoError, MeanStd, SplitMix64, mean_std, mix64};
use std::error::Error as _;

/// The first outputs of SplitMix64 from states 0 and 1234567, as given by
/// a separate reference implementation (Python, arbitrary-precision
/// integers masked to 64 bits) written independently of this crate.
#[test]
fn splitmix64_known_answers() {
    let got: Vec<u64> = SplitMix64::new(0).take(3).collect();
    assert_eq!(
        got,
        [
            0xE220_A839_7B1D_CDAF,
            0x6E78_9E6A_A1B9_65F4,
            0x06C4_5D18_8009_454F
        ]
    );
    let got: Vec<u64> = SplitMix64::new(1_234_567).take(5).collect();
    assert_eq!(
        got,
        [
            0x599E_D017_FB08_FC85,
            0x2C73_F084_5854_0FA5,
            0x883E_BCE5_A3F2_7C77,
            0x3FBE_F740_E917_7B3F,
            0xE3B8_3467_08CB_5ECD
        ]
    );
}

#[test]
fn mix64_is_the_stream_output_function() {
    assert_eq!(mix64(0), 0);
    assert_eq!(mix64(GOLDEN_GAMMA), 0xE220_A839_7B1D_CDAF);
    assert_eq!(mix64(GOLDEN_GAMMA.wrapping_mul(2)), 0x6E78_9E6A_A1B9_65F4);
}

#[test]
fn mean_std_by_hand() {
    // mean 5; squared deviations 9 + 1 + 1 + 9 = 20; 20 / 3
    let (m, s) = mean_std(&[2.0, 4.0, 6.0, 8.0]);
    assert_eq!(m, 5.0);
    assert!((s - (20.0f64 / 3.0).sqrt()).abs() < 1e-15, "{s}");
    // mean 0.15, squared deviations 0.0025 + 0.0025, divided by 1
    let (m, s) = mean_std(&[0.1, 0.2]);
    assert!((m - 0.15).abs() < 1e-15 && (s - 0.005f64.sqrt()).abs() < 1e-15);
    // constant values: no spread
    assert_eq!(mean_std(&[3.0; 5]), (3.0, 0.0));
}

#[test]
fn mean_std_edge_cases() {
    let (m, s) = mean_std(&[]);
    assert!(m.is_nan() && s.is_nan());
    assert_eq!(mean_std(&[-7.5]), (-7.5, 0.0));
    let (m, s) = mean_std(&[1.0, f64::NAN]);
    assert!(m.is_nan() && s.is_nan());
}

#[test]
fn mean_std_display() {
    assert_eq!(format!("{:.3}", MeanStd::of(&[1.0, 3.0])), "2.000 ± 1.414");
    assert_eq!(format!("{:.2}", MeanStd::of(&[0.5])), "0.50");
    assert_eq!(format!("{}", MeanStd::of(&[1.0, 3.0, 5.0])), "3 ± 2");
    let e = MeanStd::of(&[]);
    assert_eq!(e.n, 0);
    assert_eq!(format!("{e:.1}"), "NaN");
}

#[test]
fn error_messages_and_sources() {
    let e = IoError::new(
        "/data/x.npy",
        std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
    );
    assert_eq!(e.to_string(), "/data/x.npy: gone");
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(e.source().unwrap().to_string(), "gone");
    let missing = std::path::Path::new("/definitely/not/here.txt");
    let e = std::fs::read(missing)
        .map_err(fanaroff_core::io(missing))
        .unwrap_err();
    assert_eq!(e.path, missing);
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    let i = Invalid::new("lr", "-1; must be > 0");
    assert_eq!(i.to_string(), "lr: -1; must be > 0");
    assert_eq!((i.what.as_str(), i.why.as_str()), ("lr", "-1; must be > 0"));
}
