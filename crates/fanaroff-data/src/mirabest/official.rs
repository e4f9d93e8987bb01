//! Where the public MiraBest releases are published, with their digests.
//!
//! URLs and archive MD5s are those of the authors' PyTorch dataset classes
//! (Fiona Porter): `MiraBest_full` in `MiraBest_full.py` of the GitHub
//! repository fmporter/MiraBest-full (attributes `url`, `tgz_md5`), and
//! `MiraBest` in `MiraBest.py` of fmporter/MiraBest, whose current version
//! names the basic release with nine training batches and whose earliest
//! version named `batches.tar.gz` (eight training batches, with `hash.md5`).
//!
//! The copies in the project's `shared/data/mirabest` compare as follows
//! (`md5sum`): `MiraBest_basic_batches.tar.gz` has
//! `fa9d6ad8fdde95b0a19df11433e8bca3`, which is [`BASIC_2019`] byte for byte
//! (the same archive under another name), not the current [`BASIC`]
//! (`6c9a3e6c…`). `MiraBest_full_batches.tar.gz` has
//! `a7c60edcbc9c181252e62db5f46f0422`, not [`FULL`]'s
//! `965b5daa…`: it was rebuilt from the FITS cut-outs (same pixels; the
//! seeded shuffle into batches may differ), so it is not the published file.

/// One published MiraBest archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    /// Short name used on the command line (`full`, `basic`, `basic-2019`).
    pub name: &'static str,
    /// The archive's file name as published.
    pub file_name: &'static str,
    /// Where it is published.
    pub url: &'static str,
    /// Lowercase hex MD5 of the whole archive.
    pub md5: &'static str,
    /// What it holds, in a few words.
    pub about: &'static str,
}

/// The full release: ten label codes `100`…`310`, 7 training batches and
/// `test_batch`.
pub const FULL: Release = Release {
    name: "full",
    file_name: "MiraBest_full_batches.tar.gz",
    url: "http://www.jb.man.ac.uk/research/MiraBest/full_dataset/MiraBest_full_batches.tar.gz",
    md5: "965b5daa83b9d8622bb407d718eecb51",
    about: "full release: ten label codes 100..310 (MBFRConfident, MBFRUncertain, MBHybrid)",
};

/// The basic release as currently published: FRI/FRII only, 9 training
/// batches and `test_batch`.
pub const BASIC: Release = Release {
    name: "basic",
    file_name: "MiraBest_basic_batches.tar.gz",
    url: "http://www.jb.man.ac.uk/research/MiraBest/basic/MiraBest_basic_batches.tar.gz",
    md5: "6c9a3e6ca3c0f3d27f9f6dca1b9730e1",
    about: "basic release: FRI/FRII, 9 training batches",
};

/// The first basic release (2019): FRI/FRII, 8 training batches of 88,
/// `test_batch` and `hash.md5`; the archive in `shared/data` is this one.
pub const BASIC_2019: Release = Release {
    name: "basic-2019",
    file_name: "batches.tar.gz",
    url: "http://www.jb.man.ac.uk/research/MiraBest/batches.tar.gz",
    md5: "fa9d6ad8fdde95b0a19df11433e8bca3",
    about: "first basic release (2019): FRI/FRII, 8 training batches, hash.md5",
};

/// Every known release, [`FULL`] first.
pub const RELEASES: [Release; 3] = [FULL, BASIC, BASIC_2019];

impl Release {
    /// The release with this [`name`](Release::name), if any.
    ///
    /// # Example
    /// ```
    /// use fanaroff_data::mirabest::Release;
    /// let full = Release::named("full").unwrap();
    /// assert_eq!(full.file_name, "MiraBest_full_batches.tar.gz");
    /// assert!(Release::named("huge").is_none());
    /// ```
    pub fn named(name: &str) -> Option<Release> {
        RELEASES.into_iter().find(|r| r.name == name)
    }
}
