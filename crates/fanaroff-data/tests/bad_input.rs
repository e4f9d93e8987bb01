//! Bad input gives a clear error naming the file and the problem — never a
//! panic or a silently wrong data set.
//!
//! Pickle fixtures in `tests/fixtures/` were written by `make_fixtures.py`
//! (Python 3.11, numpy 2.4); the expected pixel values come from its output.

mod common;

use std::path::PathBuf;

#[cfg(feature = "fits")]
use fanaroff_data::fits::{Recipe, fits_to_image, parse_fits};
use fanaroff_data::mirabest::PickleBatch;
use fanaroff_data::{Error, MiraBest};

fn fixture(name: &str) -> (Vec<u8>, String) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    (std::fs::read(&p).unwrap(), name.to_string())
}

fn batch_err(name: &str) -> String {
    let (b, f) = fixture(name);
    let e = PickleBatch::from_bytes(&b, &f).expect_err(name);
    let msg = e.to_string();
    assert!(msg.contains(name), "message does not name the file: {msg}");
    msg
}

#[test]
fn valid_fixtures_in_every_protocol_and_layout() {
    // make_fixtures.py: sums 49537 and 49891; img0[60,70:74] = [95,130,194,217].
    for name in [
        "tiny_p2.pkl",
        "tiny_p4.pkl",
        "tiny_p5.pkl",
        "tiny_cifar_layout.pkl",
    ] {
        let (b, f) = fixture(name);
        let batch = PickleBatch::from_bytes(&b, &f).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(batch.len(), 2, "{name}");
        assert_eq!(
            (batch.pixel_sum(0), batch.pixel_sum(1)),
            (49537, 49891),
            "{name}"
        );
        assert_eq!(batch.images[[0, 60, 70]], 95);
        assert_eq!(batch.images[[0, 60, 73]], 217);
        assert_eq!(batch.images[[1, 79, 86]], 86);
        assert_eq!(
            batch.filenames[1],
            "./MiraBest_data/200_172.397+002.292_0.1264_0019.10.png"
        );
    }
    let (b, f) = fixture("tiny_p4.pkl");
    let batch = PickleBatch::from_bytes(&b, &f).unwrap();
    assert_eq!(batch.labels, vec![0, 5]);
    assert_eq!(batch.batch_label, "tiny");
    // Labels and file names stored as numpy arrays.
    let (b, f) = fixture("array_labels.pkl");
    let batch = PickleBatch::from_bytes(&b, &f).unwrap();
    assert_eq!(batch.labels, vec![1, 0]);
    assert_eq!(
        batch.filenames[0],
        "./MiraBest_data/100_211.632+009.606_0.1463_0037.98.png"
    );
}

#[test]
fn pickles_of_another_shape() {
    assert!(batch_err("cifar_rgb.pkl").contains("shape [2, 3072]"));
    assert!(batch_err("float_data.pkl").contains("expected uint8"));
    assert!(batch_err("label_count_mismatch.pkl").contains("3 labels but 2 images"));
    assert!(batch_err("not_a_dict.pkl").contains("expected a dict"));
    assert!(batch_err("missing_data_key.pkl").contains("missing key \"data\""));
    assert!(batch_err("negative_label.pkl").contains("labels[0]"));
    assert!(batch_err("evil_global.pkl").contains("refusing unsupported global `posix.system`"));
}

#[test]
fn truncated_and_corrupt_real_batches() {
    let Some(data) = common::mirabest() else {
        return;
    };
    let bytes = common::tar_member(&data.full_tar(), "test_batch");
    assert_eq!(
        PickleBatch::from_bytes(&bytes, "test_batch").unwrap().len(),
        157
    );
    for cut in [0, 1, 2, 100, 50_000, bytes.len() / 2, bytes.len() - 1] {
        let e = PickleBatch::from_bytes(&bytes[..cut], "test_batch").unwrap_err();
        assert!(matches!(e, Error::Pickle { .. }), "cut {cut}: {e}");
        assert!(e.to_string().starts_with("test_batch: "), "{e}");
    }
    // Trailing garbage after STOP is not silently ignored.
    let mut extra = bytes.clone();
    extra.extend_from_slice(b"junk");
    assert!(
        PickleBatch::from_bytes(&extra, "test_batch")
            .unwrap_err()
            .to_string()
            .contains("trailing")
    );
    // An opcode byte replaced by an unknown one.
    let mut bad = bytes.clone();
    bad[2] = 0xff;
    let e = PickleBatch::from_bytes(&bad, "test_batch")
        .unwrap_err()
        .to_string();
    assert!(e.contains("byte 2") && e.contains("opcode 0xff"), "{e}");
}

#[test]
fn missing_archive_and_not_gzip() {
    let e = MiraBest::open("/definitely/not/here/MiraBest_full_batches.tar.gz").unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::NotFound { .. }));
    assert!(
        msg.contains("/definitely/not/here") && msg.contains("Zenodo"),
        "{msg}"
    );

    // A file that is not a gzip archive.
    let dir = common::scratch("not-gzip");
    let p = dir.join("fake.tar.gz");
    std::fs::write(&p, b"hello").unwrap();
    let e = MiraBest::open(&p).unwrap_err().to_string();
    assert!(
        e.contains("fake.tar.gz") && e.contains("broken tar.gz"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn folder_with_missing_batches() {
    let Some(data) = common::mirabest() else {
        return;
    };
    // A folder with the meta file but without test_batch.
    let dir = common::scratch("missing-test");
    std::fs::write(
        dir.join("batches.meta"),
        common::tar_member(&data.full_tar(), "batches.meta"),
    )
    .unwrap();
    std::fs::write(
        dir.join("data_batch_1"),
        common::tar_member(&data.full_tar(), "data_batch_1"),
    )
    .unwrap();
    let e = MiraBest::open(&dir).unwrap_err().to_string();
    assert!(e.contains("test_batch"), "{e}");
    // A gap in the numbering.
    std::fs::write(
        dir.join("test_batch"),
        common::tar_member(&data.full_tar(), "test_batch"),
    )
    .unwrap();
    std::fs::write(dir.join("data_batch_3"), b"").unwrap();
    let e = MiraBest::open(&dir).unwrap_err().to_string();
    assert!(e.contains("data_batch_2"), "{e}");
    std::fs::remove_file(dir.join("data_batch_3")).unwrap();
    // With the gap closed it loads from a folder.
    let mb = MiraBest::open(&dir).unwrap();
    assert_eq!((mb.train().len(), mb.test().len()), (157, 157));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wrong_md5_is_detected() {
    let Some(data) = common::mirabest() else {
        return;
    };
    let dir = common::scratch("md5");
    let names = ["batches.meta", "hash.md5", "test_batch"]
        .into_iter()
        .map(String::from)
        .chain((1..=8).map(|i| format!("data_batch_{i}")));
    for n in names {
        std::fs::write(dir.join(&n), common::tar_member(&data.basic_tar(), &n)).unwrap();
    }
    assert_eq!(MiraBest::open(&dir).unwrap().md5_verified(), 10);
    // Corrupt one pixel byte of data_batch_3: still a valid pickle, so only
    // the digest can catch it.
    let p = dir.join("data_batch_3");
    let mut b = std::fs::read(&p).unwrap();
    let k = b.len() / 2;
    b[k] ^= 1;
    std::fs::write(&p, &b).unwrap();
    let e = MiraBest::open(&dir).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Checksum { .. }), "{msg}");
    assert!(
        msg.contains("data_batch_3") && msg.contains("162c84378d8357c4d2456db8cdae3920"),
        "{msg}"
    );
    // verify_md5 on a single file.
    assert!(fanaroff_data::mirabest::verify_md5(&p, "162c84378d8357c4d2456db8cdae3920").is_err());
    // A file listed in hash.md5 but absent.
    std::fs::remove_file(&p).unwrap();
    let msg = MiraBest::open(&dir).unwrap_err().to_string();
    assert!(
        msg.contains("data_batch_3") && msg.contains("hash.md5"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "fits")]
#[test]
fn fits_that_is_not_2d_float() {
    let px: Vec<u8> = (0..16).flat_map(|i| (i as f32).to_be_bytes()).collect();
    let ok = common::fits_bytes(
        &[
            ("SIMPLE", "T"),
            ("BITPIX", "-32"),
            ("NAXIS", "2"),
            ("NAXIS1", "4"),
            ("NAXIS2", "4"),
        ],
        &px,
    );
    let img = parse_fits(&ok, "ok.fits").unwrap();
    assert_eq!(img.data[[1, 0]], 4.0, "row-major, NAXIS1 fastest");

    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            common::fits_bytes(
                &[
                    ("SIMPLE", "T"),
                    ("BITPIX", "16"),
                    ("NAXIS", "2"),
                    ("NAXIS1", "4"),
                    ("NAXIS2", "4"),
                ],
                &[0; 32],
            ),
            "BITPIX = 16",
        ),
        (
            common::fits_bytes(
                &[
                    ("SIMPLE", "T"),
                    ("BITPIX", "-32"),
                    ("NAXIS", "3"),
                    ("NAXIS1", "4"),
                    ("NAXIS2", "4"),
                    ("NAXIS3", "2"),
                ],
                &px,
            ),
            "expected a 2-D image",
        ),
        (
            common::fits_bytes(
                &[
                    ("SIMPLE", "T"),
                    ("BITPIX", "-32"),
                    ("NAXIS", "1"),
                    ("NAXIS1", "4"),
                ],
                &px,
            ),
            "NAXIS = 1",
        ),
        (ok[..2880 + 10].to_vec(), "data truncated"),
        (ok[..100].to_vec(), "not even one"),
        (b"GIF89a".repeat(600), "SIMPLE"),
    ];
    for (bytes, want) in cases {
        let e = parse_fits(&bytes, "bad.fits").unwrap_err().to_string();
        assert!(
            e.starts_with("bad.fits: FITS:") && e.contains(want),
            "{e} (wanted {want})"
        );
    }

    // NaN-only image: a clear error, not an image of zeros.
    let dir = common::scratch("nan");
    let nan: Vec<u8> = (0..200 * 200)
        .flat_map(|_| f32::NAN.to_be_bytes())
        .collect();
    let p = dir.join("100_000.000+000.000_0.1_0010.00.fits");
    std::fs::write(
        &p,
        common::fits_bytes(
            &[
                ("SIMPLE", "T"),
                ("BITPIX", "-32"),
                ("NAXIS", "2"),
                ("NAXIS1", "200"),
                ("NAXIS2", "200"),
            ],
            &nan,
        ),
    )
    .unwrap();
    let e = fits_to_image(&p, &Recipe::default()).unwrap_err();
    assert!(matches!(e, Error::NoFinitePixels { .. }));
    assert!(
        e.to_string()
            .contains("100_000.000+000.000_0.1_0010.00.fits"),
        "{e}"
    );
    // In a folder conversion it is reported, not dropped silently.
    let conv = fanaroff_data::fits::convert_dir(&dir, &Recipe::default(), false).unwrap();
    assert_eq!((conv.stems.len(), conv.failures.len()), (0, 1));
    let e = fits_to_image(dir.join("absent.fits"), &Recipe::default()).unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }) && e.to_string().contains("absent.fits"));
    let _ = std::fs::remove_dir_all(&dir);
}
