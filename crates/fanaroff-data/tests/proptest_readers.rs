//! Random and corrupted bytes fed to both readers: errors, never panics.

use std::path::PathBuf;

use fanaroff_data::SourceName;
#[cfg(feature = "fits")]
use fanaroff_data::fits::parse_fits;
use fanaroff_data::mirabest::{BatchesMeta, PickleBatch};
use proptest::prelude::*;

fn tiny_pickle() -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny_p4.pkl");
    std::fs::read(p).unwrap()
}

#[cfg(feature = "fits")]
fn tiny_fits() -> Vec<u8> {
    let mut h = Vec::new();
    for (k, v) in [
        ("SIMPLE", "T"),
        ("BITPIX", "-32"),
        ("NAXIS", "2"),
        ("NAXIS1", "8"),
        ("NAXIS2", "8"),
    ] {
        h.extend_from_slice(format!("{:<80}", format!("{k:<8}= {v:>20}")).as_bytes());
    }
    h.extend_from_slice(format!("{:<80}", "END").as_bytes());
    h.resize(2880, b' ');
    h.extend((0..64).flat_map(|i| (i as f32 * 0.5).to_be_bytes()));
    h.resize(2 * 2880, 0);
    h
}

/// Opcodes of the subset the decoder knows, plus a few it must reject.
const OPS: &[u8] =
    b"(.0129NKMJGXUTCB)t]lae}dsucRbqrhj\x80\x85\x86\x87\x88\x89\x8a\x8c\x93\x94\x95\x96\xff";

fn opcode_soup() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        (
            prop::sample::select(OPS),
            prop::collection::vec(0u8..4, 0..5),
        ),
        0..60,
    )
    .prop_map(|v| {
        let mut out = vec![0x80, 3];
        for (op, args) in v {
            out.push(op);
            out.extend(args);
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = PickleBatch::from_bytes(&bytes, "random");
        let _ = BatchesMeta::from_bytes(&bytes, "random");
        #[cfg(feature = "fits")]
        let _ = parse_fits(&bytes, "random.fits");
    }

    #[test]
    fn opcode_soup_never_panics(bytes in opcode_soup()) {
        if let Err(e) = PickleBatch::from_bytes(&bytes, "soup") {
            prop_assert!(e.to_string().starts_with("soup: "));
        }
    }

    #[test]
    fn arbitrary_names_never_panic(s in ".{0,60}") {
        let _ = SourceName::parse(&s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn corrupted_pickle_errors_or_stays_consistent(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = tiny_pickle();
        for (at, val) in flips {
            let i = at.index(bytes.len());
            bytes[i] = val;
        }
        if truncate {
            let n = cut.index(bytes.len());
            bytes.truncate(n);
        }
        match PickleBatch::from_bytes(&bytes, "tiny_p4.pkl") {
            Ok(b) => {
                prop_assert_eq!(b.images.shape()[0], b.labels.len());
                prop_assert_eq!(b.filenames.len(), b.labels.len());
                prop_assert_eq!(&b.images.shape()[1..], &[150, 150]);
            }
            Err(e) => prop_assert!(e.to_string().starts_with("tiny_p4.pkl: "), "{}", e),
        }
    }

    #[cfg(feature = "fits")]
    #[test]
    fn corrupted_fits_errors_or_stays_consistent(
        flips in prop::collection::vec((0usize..3000, any::<u8>()), 1..6),
        cut in 0usize..5760,
    ) {
        let mut bytes = tiny_fits();
        for (i, v) in flips {
            bytes[i] = v;
        }
        bytes.truncate(cut.max(1));
        match parse_fits(&bytes, "x.fits") {
            Ok(img) => prop_assert!(!img.data.is_empty()),
            Err(e) => prop_assert!(e.to_string().starts_with("x.fits: FITS:"), "{}", e),
        }
    }
}
