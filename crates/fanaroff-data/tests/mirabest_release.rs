//! Known-answer tests against the MiraBest releases in `shared/data`.
//!
//! Every expected number below was computed independently in Python 3.11 with
//! `pickle.load(f, encoding="latin1")` and numpy 2.4 on the batch files
//! extracted from the same archives (`collections.Counter(d["labels"])`,
//! `int(img.astype(np.int64).sum())`, `int((img > 0).sum())`, and a
//! position-weighted sum `int((img * np.arange(22500).reshape(150, 150)).sum())`
//! that catches transposed or shifted pixels).

mod common;

use fanaroff_data::{LabelCode, MiraBest, ReleaseKind, Subset};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn count_codes(ds: &fanaroff_data::Dataset) -> Vec<(u16, usize)> {
    let mut out: Vec<(u16, usize)> = LabelCode::ALL.iter().map(|c| (c.value(), 0)).collect();
    for s in ds.samples() {
        let c = s.code.expect("code").value();
        out.iter_mut().find(|(k, _)| *k == c).expect("known code").1 += 1;
    }
    out
}

fn weighted(img: ndarray::ArrayView2<u8>) -> u64 {
    img.iter()
        .enumerate()
        .map(|(i, &p)| i as u64 * u64::from(p))
        .sum()
}

fn pixel_sum(img: ndarray::ArrayView2<u8>) -> u64 {
    img.iter().map(|&p| u64::from(p)).sum()
}

#[test]
fn full_release_counts_and_pixels() {
    let Some(data) = common::mirabest() else {
        return;
    };
    let mb = MiraBest::open(data.full_tar()).expect("open full release");
    assert_eq!(mb.kind(), ReleaseKind::Full);
    assert_eq!(mb.md5_verified(), 0, "the full release ships no hash.md5");
    let (train, test) = (mb.train(), mb.test());
    assert_eq!((train.len(), test.len()), (1098, 157));
    // Python: Counter over data_batch_1..7 and test_batch.
    assert_eq!(
        count_codes(train),
        vec![
            (100, 297),
            (102, 43),
            (104, 8),
            (110, 167),
            (112, 2),
            (200, 377),
            (201, 3),
            (210, 171),
            (300, 17),
            (310, 13)
        ]
    );
    assert_eq!(
        count_codes(test),
        vec![
            (100, 42),
            (102, 6),
            (104, 1),
            (110, 24),
            (112, 1),
            (200, 54),
            (201, 1),
            (210, 24),
            (300, 2),
            (310, 2)
        ]
    );
    assert_eq!(
        train.class_counts(),
        vec![297, 43, 8, 167, 2, 377, 3, 171, 17, 13]
    );

    // data_batch_1[0]: ./MiraBest_data/100_211.632+009.606_0.1463_0037.98.png
    let img = train.image(0);
    assert_eq!(pixel_sum(img), 15104);
    assert_eq!(img.iter().filter(|&&p| p > 0).count(), 294);
    assert_eq!(weighted(img), 155_121_332);
    let s = &train.samples()[0];
    assert_eq!(
        s.filename,
        "./MiraBest_data/100_211.632+009.606_0.1463_0037.98.png"
    );
    assert_eq!(s.origin, "data_batch_1");
    let src = s.source.as_ref().expect("parsed name");
    assert_eq!((src.ra_deg, src.dec_deg), (211.632, 9.606));
    assert_eq!((src.redshift, src.size_arcsec), (Some(0.1463), Some(37.98)));

    // data_batch_3[57] is training image 2 * 157 + 57.
    let i = 2 * 157 + 57;
    assert_eq!(
        train.samples()[i].filename,
        "./MiraBest_data/110_330.520-001.017_0.1773_0042.11.png"
    );
    assert_eq!(pixel_sum(train.image(i)), 12758);
    // data_batch_7[155], the last training image.
    assert_eq!(pixel_sum(train.image(1097)), 17651);
    assert_eq!(train.samples()[1097].origin, "data_batch_7");
    // test_batch[57] and [156].
    assert_eq!(pixel_sum(test.image(57)), 30537);
    assert_eq!(pixel_sum(test.image(156)), 7195);

    // Sum of all pixels of all 1255 images.
    let all = mb.all().unwrap();
    let total: u64 = all.images().iter().map(|&p| u64::from(p)).sum();
    assert_eq!(total, 22_182_179);
}

#[test]
fn full_release_subsets_and_split() {
    let Some(data) = common::mirabest() else {
        return;
    };
    let mb = MiraBest::open(data.full_tar()).unwrap();
    let all = mb.all().unwrap();
    // README of shared/data: MBFRConfident 832 (728 train / 104 test),
    // MBFRUncertain 389 (340 / 49); the others follow from the code counts.
    let expect = [
        (Subset::MbFrFull, 1221, vec![591, 630]),
        (Subset::MbFrConfident, 832, vec![397, 435]),
        (Subset::MbFrUncertain, 389, vec![194, 195]),
        (Subset::MbHybrid, 34, vec![19, 15]),
    ];
    for (subset, n, counts) in expect {
        let d = all.subset(subset).unwrap();
        assert_eq!(d.len(), n, "{subset}");
        assert_eq!(d.class_counts(), counts, "{subset}");
    }
    let conf_train = mb.train().subset(Subset::MbFrConfident).unwrap();
    let conf_test = mb.test().subset(Subset::MbFrConfident).unwrap();
    assert_eq!((conf_train.len(), conf_test.len()), (728, 104));
    assert_eq!(conf_train.class_names(), ["FRI", "FRII"]);
    let unc = mb.train().subset(Subset::MbFrUncertain).unwrap();
    assert_eq!(unc.len(), 340);

    // Filter by an arbitrary set of codes.
    let codes = [LabelCode::new(102).unwrap(), LabelCode::new(201).unwrap()];
    let f = all.filter_codes(&codes).unwrap();
    assert_eq!(f.class_counts(), vec![49, 4]);
    assert_eq!(f.class_names(), ["102", "201"]);

    // Seeded stratified 80/20 split of the 728 confident training images.
    let mut rng = StdRng::seed_from_u64(42);
    let (tr, va) = conf_train.stratified_split(0.2, &mut rng).unwrap();
    assert_eq!((tr.len(), va.len()), (583, 145));
    let c = conf_train.class_counts();
    let cv = va.class_counts();
    assert!(cv[0].abs_diff(c[0] * 145 / 728) <= 1 && cv[0] + cv[1] == 145);
    let mut rng = StdRng::seed_from_u64(42);
    let (tr2, _) = conf_train.stratified_split(0.2, &mut rng).unwrap();
    assert_eq!(tr.samples(), tr2.samples(), "same seed, same split");

    // The convenience split: test_batch as test, seeded train/val.
    let sp = mb.splits(Subset::MbFrConfident, 0.2, 42).unwrap();
    assert_eq!(
        (sp.train.len(), sp.val.len(), sp.test.len()),
        (583, 145, 104)
    );
    assert_eq!(sp.val.samples(), va.samples());
}

#[test]
fn basic_release_from_tar_and_md5() {
    let Some(data) = common::mirabest() else {
        return;
    };
    let mb = MiraBest::open(data.basic_tar()).expect("open basic release");
    assert_eq!(mb.kind(), ReleaseKind::Basic);
    // hash.md5 lists 8 training batches, test_batch and batches.meta.
    assert_eq!(mb.md5_verified(), 10);
    assert_eq!((mb.train().len(), mb.test().len()), (704, 88));
    assert_eq!(mb.train().class_counts(), vec![312, 392]);
    assert_eq!(mb.test().class_counts(), vec![39, 49]);
    assert_eq!(mb.label_names(), ["FRI", "FRII"]);
    // test_batch[0]: BestCat_proc/Cropped/100_211.791_+026.313.png
    let img = mb.test().image(0);
    assert_eq!(pixel_sum(img), 6912);
    assert_eq!(weighted(img), 79_218_172);
    let src = mb.test().samples()[0].source.as_ref().unwrap();
    assert_eq!(
        (src.ra_deg, src.dec_deg, src.redshift),
        (211.791, 26.313, None)
    );
    // data_batch_3[87] is the one image whose maximum is not 255 (122).
    let i = 2 * 88 + 87;
    assert_eq!(pixel_sum(mb.train().image(i)), 39658);
    assert_eq!(mb.train().image(i).iter().max(), Some(&122));
    // Subsets work on the basic release too (all confident, standard).
    assert_eq!(mb.train().subset(Subset::MbFrConfident).unwrap().len(), 704);
}

#[test]
fn extracted_folder_equals_archive() {
    let Some(data) = common::mirabest() else {
        return;
    };
    // The archive's own layout: <dir>/batches/{data_batch_*, test_batch, batches.meta}.
    let dir = common::scratch("folder-layout");
    let sub = dir.join("batches");
    std::fs::create_dir_all(&sub).unwrap();
    let names = ["batches.meta", "test_batch"]
        .into_iter()
        .map(String::from)
        .chain((1..=7).map(|i| format!("data_batch_{i}")));
    for n in names {
        std::fs::write(sub.join(&n), common::tar_member(&data.full_tar(), &n)).unwrap();
    }
    // A stray notebook checkpoint folder is ignored.
    std::fs::create_dir_all(sub.join(".ipynb_checkpoints")).unwrap();
    std::fs::write(sub.join(".ipynb_checkpoints/test_batch"), b"junk").unwrap();
    let from_dir = MiraBest::open(&dir).unwrap();
    let from_tar = MiraBest::open(data.full_tar()).unwrap();
    assert_eq!(from_dir.train().images(), from_tar.train().images());
    assert_eq!(from_dir.test().labels(), from_tar.test().labels());
    assert_eq!(from_dir.test().samples(), from_tar.test().samples());
    let _ = std::fs::remove_dir_all(&dir);
}
