//! The FITS recipe reproduces the full MiraBest release bit for bit.
//!
//! Each of the 16 cut-outs in `shared/data/mirabest/fits-sample/` is matched
//! by source name (file stem) with the image of the same name in
//! `MiraBest_full_batches.tar.gz` (all 16 are in the release; the 4 dropped
//! sources listed in the data README are not among them).
#![cfg(feature = "fits")]

mod common;

use std::collections::HashMap;

use fanaroff_data::MiraBest;
use fanaroff_data::fits::{Recipe, convert_dir, fits_to_image, read_fits};

#[test]
fn all_sixteen_fits_files_match_the_release() {
    let Some(data) = common::mirabest() else {
        return;
    };
    let mb = MiraBest::open(data.full_tar()).expect("full release");
    let all = mb.all().unwrap();
    let by_stem: HashMap<String, usize> = all
        .samples()
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.source.as_ref().map(|src| (src.stem.clone(), i)))
        .collect();
    let conv = convert_dir(data.fits_dir(), &Recipe::default(), false).unwrap();
    assert!(conv.failures.is_empty(), "{:?}", conv.failures);
    assert_eq!(conv.stems.len(), 16);
    for (k, stem) in conv.stems.iter().enumerate() {
        let i = *by_stem
            .get(stem)
            .unwrap_or_else(|| panic!("{stem} not in the release"));
        let ours = conv.images.index_axis(ndarray::Axis(0), k);
        let theirs = all.image(i);
        let diff = ours
            .iter()
            .zip(theirs.iter())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(diff, 0, "{stem}: {diff} pixels differ");
        // The label code from the FITS name equals the release's.
        assert_eq!(
            conv.sources[k].as_ref().unwrap().code,
            all.samples()[i].code.unwrap()
        );
    }
    let ds = conv.to_dataset().unwrap();
    assert_eq!(ds.len(), 16);
}

#[test]
fn reader_header_and_single_file() {
    let Some(data) = common::mirabest() else {
        return;
    };
    let p = data
        .fits_dir()
        .join("200_172.397+002.292_0.1264_0019.10.fits");
    let f = read_fits(&p).unwrap();
    assert_eq!(f.data.dim(), (300, 300));
    assert_eq!(f.bitpix, -32);
    assert_eq!(f.header_value("CTYPE1"), Some("RA---TAN"));
    let img = fits_to_image(&p, &Recipe::default()).unwrap();
    assert_eq!(img.dim(), (150, 150));
    assert_eq!(img.iter().max(), Some(&255));
}

#[test]
fn png_export_round_trips() {
    let Some(data) = common::mirabest() else {
        return;
    };
    let conv = convert_dir(data.fits_dir(), &Recipe::default(), false).unwrap();
    let dir = common::scratch("png");
    assert_eq!(conv.save_pngs(&dir).unwrap(), 16);
    let p = dir.join(format!("{}.png", conv.stems[3]));
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&p).unwrap()));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (150, 150));
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let ours: Vec<u8> = conv
        .images
        .index_axis(ndarray::Axis(0), 3)
        .iter()
        .copied()
        .collect();
    assert_eq!(&buf[..150 * 150], &ours[..]);
    let _ = std::fs::remove_dir_all(&dir);
}
