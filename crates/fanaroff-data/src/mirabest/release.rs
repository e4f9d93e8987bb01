//! Opening a MiraBest release from a folder or straight from its `.tar.gz`.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use ndarray::{Array4, Axis};
use rand::SeedableRng;
use rayon::prelude::*;

use super::batch::{BatchesMeta, PickleBatch};
use super::label::{FrClass, LabelCode};
use super::source::SourceName;
use super::subset::Subset;
use crate::dataset::{Dataset, SampleInfo};
use crate::error::{Error, Result};

/// Where to get MiraBest; appended to "not found" errors.
pub const DOWNLOAD_HINT: &str = "MiraBest (Porter & Scaife 2023) is published on Zenodo \
(doi:10.5281/zenodo.4288837) as MiraBest_full_batches.tar.gz (`fanaroff data fetch` \
downloads it); pass either that archive or the folder holding data_batch_*, test_batch \
and batches.meta. Without it, use fanaroff_data::SyntheticConfig for synthetic FRI/FRII images.";

/// Which public release a folder or archive holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseKind {
    /// The full release: ten label codes `100`…`310`.
    Full,
    /// The early basic release: `FRI` / `FRII` only.
    Basic,
    /// Any other CIFAR-style batch set with its own `label_names`.
    Other,
}

/// A loaded MiraBest release with the release's own train/test split.
///
/// Class indices follow the release's `label_names`: the ten codes for the
/// full release, `FRI`/`FRII` for the basic one. Every image carries its
/// [`LabelCode`] and parsed [`SourceName`] in [`Dataset::samples`], so the
/// standard subsets can be taken with [`Dataset::subset`].
///
/// # Example
/// ```no_run
/// use fanaroff_data::{MiraBest, Subset};
/// let mb = MiraBest::open("../shared/data/mirabest/MiraBest_full_batches.tar.gz")?;
/// let train = mb.train().subset(Subset::MbFrConfident)?;
/// println!("{} training images, classes {:?}", train.len(), train.class_counts());
/// # Ok::<(), fanaroff_data::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MiraBest {
    kind: ReleaseKind,
    label_names: Vec<String>,
    train: Dataset,
    test: Dataset,
    md5_checked: usize,
    path: PathBuf,
}

/// Train / validation / test parts of one subset; see [`MiraBest::splits`].
#[derive(Debug, Clone)]
pub struct Splits {
    /// Training images.
    pub train: Dataset,
    /// Validation images, drawn from the release's training batches.
    pub val: Dataset,
    /// The release's test images.
    pub test: Dataset,
}

/// Raw files of a release, by base name.
type Files = BTreeMap<String, (String, Vec<u8>)>;

fn is_wanted(name: &str) -> bool {
    name == "batches.meta"
        || name == "test_batch"
        || name == "hash.md5"
        || name
            .strip_prefix("data_batch_")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn insert(files: &mut Files, name: String, label: String, bytes: Vec<u8>) -> Result<()> {
    if let Some((first, _)) = files.get(&name) {
        return Err(Error::format(
            label.clone(),
            format!("duplicate release file {name:?} (also at {first})"),
        ));
    }
    files.insert(name, (label, bytes));
    Ok(())
}

fn read_dir_files(dir: &Path) -> Result<Files> {
    let dir = if dir.join("batches").is_dir() {
        dir.join("batches")
    } else {
        dir.to_path_buf()
    };
    let mut files = Files::new();
    let entries = fs::read_dir(&dir).map_err(fanaroff_core::io(&dir))?;
    for entry in entries {
        let entry = entry.map_err(fanaroff_core::io(&dir))?;
        let name = entry.file_name().to_string_lossy().to_string();
        let path = entry.path();
        if is_wanted(&name) && path.is_file() {
            let bytes = fs::read(&path).map_err(fanaroff_core::io(&path))?;
            insert(&mut files, name, path.display().to_string(), bytes)?;
        }
    }
    Ok(files)
}

fn read_tar_files(path: &Path) -> Result<Files> {
    let f = fs::File::open(path).map_err(fanaroff_core::io(path))?;
    let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(f));
    let mut archive = tar::Archive::new(gz);
    let mut files = Files::new();
    let broken = |e: std::io::Error| {
        Error::format(
            path.display().to_string(),
            format!("broken tar.gz archive: {e}"),
        )
    };
    for entry in archive.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let member = entry.path().map_err(broken)?.to_path_buf();
        // Skip hidden folders such as `.ipynb_checkpoints/`.
        let hidden = member
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.') && c.as_os_str() != ".");
        let name = member
            .file_name()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        if hidden || !is_wanted(&name) {
            continue;
        }
        let size = entry.header().size().unwrap_or(0);
        if size > (1 << 31) {
            return Err(Error::format(
                format!("{}:{}", path.display(), member.display()),
                "member larger than 2 GiB",
            ));
        }
        // The header's size is only a hint: never pre-allocate more than 64 MiB.
        let mut bytes = Vec::with_capacity(size.min(64 << 20) as usize);
        entry.read_to_end(&mut bytes).map_err(broken)?;
        insert(
            &mut files,
            name,
            format!("{}:{}", path.display(), member.display()),
            bytes,
        )?;
    }
    Ok(files)
}

/// Lowercase hex MD5 of some bytes.
pub fn md5_hex(bytes: &[u8]) -> String {
    let digest = Md5::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a file's MD5 digest against an expected hex string.
///
/// # Errors
/// [`Error::NotFound`]/[`Error::Io`] if the file cannot be read,
/// [`Error::Checksum`] if the digests differ.
pub fn verify_md5(path: impl AsRef<Path>, expected: &str) -> Result<()> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(fanaroff_core::io(path))?;
    let actual = md5_hex(&bytes);
    if actual.eq_ignore_ascii_case(expected.trim()) {
        Ok(())
    } else {
        Err(Error::Checksum {
            file: path.display().to_string(),
            expected: expected.trim().to_lowercase(),
            actual,
        })
    }
}

/// Verifies every file listed in `hash.md5`; returns how many were checked.
fn check_md5_list(files: &Files) -> Result<usize> {
    let Some((label, list)) = files.get("hash.md5") else {
        return Ok(0);
    };
    let text = String::from_utf8_lossy(list);
    let mut checked = 0;
    for (lineno, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(hash), Some(name)) = (parts.next(), parts.next()) else {
            return Err(Error::format(
                label.clone(),
                format!("line {}: expected `<md5>  <file>`", lineno + 1),
            ));
        };
        let name = name.trim_start_matches('*');
        let base = Path::new(name)
            .file_name()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let Some((file_label, bytes)) = files.get(&base) else {
            return Err(Error::NotFound {
                path: PathBuf::from(name),
                hint: format!(
                    "{label} lists it, but the release does not contain it. {DOWNLOAD_HINT}"
                ),
            });
        };
        let actual = md5_hex(bytes);
        if !actual.eq_ignore_ascii_case(hash) {
            return Err(Error::Checksum {
                file: file_label.clone(),
                expected: hash.to_lowercase(),
                actual,
            });
        }
        checked += 1;
    }
    Ok(checked)
}

/// Converts decoded batches into one dataset.
fn to_dataset(
    batches: &[(String, PickleBatch)],
    meta: &BatchesMeta,
    kind: ReleaseKind,
) -> Result<Dataset> {
    let n: usize = batches.iter().map(|(_, b)| b.len()).sum();
    let mut images = Array4::<u8>::zeros((n, 1, 150, 150));
    let mut labels = Vec::with_capacity(n);
    let mut samples = Vec::with_capacity(n);
    let mut row = 0;
    for (file, b) in batches {
        let origin = Path::new(file)
            .file_name()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| file.clone());
        for i in 0..b.len() {
            let label = b.labels[i];
            let Some(name) = meta.label_names.get(label) else {
                return Err(Error::format(
                    file.clone(),
                    format!(
                        "label {label} of image {i} but batches.meta has {} label names",
                        meta.label_names.len()
                    ),
                ));
            };
            let source = SourceName::parse(&b.filenames[i]).ok();
            let code = match kind {
                ReleaseKind::Full => Some(name.parse::<LabelCode>()?),
                ReleaseKind::Basic => {
                    let class = if label == 0 {
                        FrClass::FRI
                    } else {
                        FrClass::FRII
                    };
                    match &source {
                        Some(s) if s.code.class() == class => Some(s.code),
                        Some(s) => {
                            return Err(Error::format(
                                file.clone(),
                                format!(
                                    "image {i} ({}) has label {name} but its name says {}",
                                    s.stem, s.code
                                ),
                            ));
                        }
                        // The basic release holds confident, standard sources only.
                        None => Some(if label == 0 {
                            LabelCode::ALL[0]
                        } else {
                            LabelCode::ALL[5]
                        }),
                    }
                }
                ReleaseKind::Other => name.parse::<LabelCode>().ok(),
            };
            images
                .index_axis_mut(Axis(0), row)
                .index_axis_mut(Axis(0), 0)
                .assign(&b.images.index_axis(Axis(0), i));
            labels.push(label);
            samples.push(SampleInfo {
                filename: b.filenames[i].clone(),
                code,
                source,
                origin: origin.clone(),
            });
            row += 1;
        }
    }
    Dataset::with_samples(images, labels, meta.label_names.clone(), samples)
}

/// The `.tar.gz` / `.tgz` archives in a folder, sorted (none for a file):
/// when a folder holds archives instead of batch files, errors say so.
fn archives_in(path: &Path) -> Vec<String> {
    if !path.is_dir() {
        return Vec::new();
    }
    let Ok(rd) = fs::read_dir(path) else {
        return Vec::new();
    };
    let mut v: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".tar.gz") || n.ends_with(".tgz"))
        .collect();
    v.sort();
    v
}

/// `batches.meta`, checked for 150 x 150 images, and the release it names.
fn read_meta(bytes: &[u8], label: &str) -> Result<(BatchesMeta, ReleaseKind)> {
    let meta = BatchesMeta::from_bytes(bytes, label)?;
    if let Some(v) = meta.num_vis
        && v != 150 * 150
    {
        return Err(Error::format(
            label.to_string(),
            format!("num_vis is {v}, expected 22500 (150 x 150)"),
        ));
    }
    let kind = if meta.label_names == ["FRI", "FRII"] {
        ReleaseKind::Basic
    } else if meta.label_names == LabelCode::ALL.map(|c| c.to_string()) {
        ReleaseKind::Full
    } else {
        ReleaseKind::Other
    };
    Ok((meta, kind))
}

/// The batch files in decoding order, `data_batch_1..n` then `test_batch`;
/// `Err` names the first one missing.
fn batch_order(files: &Files) -> std::result::Result<Vec<&String>, String> {
    let mut train: Vec<(u64, &String)> = files
        .keys()
        .filter_map(|k| {
            k.strip_prefix("data_batch_")
                .and_then(|n| n.parse().ok())
                .map(|n| (n, k))
        })
        .collect();
    train.sort();
    if train.is_empty() {
        return Err("data_batch_1".into());
    }
    for (i, (n, _)) in train.iter().enumerate() {
        if *n != i as u64 + 1 {
            return Err(format!("data_batch_{}", i + 1));
        }
    }
    let Some((test_key, _)) = files.get_key_value("test_batch") else {
        return Err("test_batch".into());
    };
    let mut order: Vec<&String> = train.into_iter().map(|(_, k)| k).collect();
    order.push(test_key);
    Ok(order)
}

impl MiraBest {
    /// Opens a release from a folder (holding `data_batch_*`, `test_batch`,
    /// `batches.meta`, possibly under `batches/`) or from a `.tar.gz`.
    ///
    /// Hidden folders (e.g. `.ipynb_checkpoints/`) are ignored. When the
    /// release ships `hash.md5` (the basic release does), every listed file
    /// is verified before decoding.
    ///
    /// # Errors
    /// [`Error::NotFound`] (with a download hint) for a missing path or a
    /// missing `batches.meta`/`test_batch`/training batch; [`Error::Checksum`]
    /// for a digest mismatch; [`Error::Pickle`]/[`Error::Format`] for a
    /// corrupt or unexpected batch, always naming the file.
    pub fn open(path: impl AsRef<Path>) -> Result<MiraBest> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(Error::NotFound {
                path: path.to_path_buf(),
                hint: DOWNLOAD_HINT.to_string(),
            });
        }
        let files = if path.is_dir() {
            read_dir_files(path)?
        } else {
            read_tar_files(path)?
        };
        Self::from_files(files, path)
    }

    fn from_files(files: Files, path: &Path) -> Result<MiraBest> {
        let archives = archives_in(path);
        let missing = |name: &str| Error::NotFound {
            path: path.join(name),
            hint: if archives.is_empty() {
                format!("the release has no {name}. {DOWNLOAD_HINT}")
            } else {
                format!(
                    "the folder holds archives ({}); pass one of them instead of the folder",
                    archives.join(", ")
                )
            },
        };
        let md5_checked = check_md5_list(&files)?;
        let (meta_label, meta_bytes) = files
            .get("batches.meta")
            .ok_or_else(|| missing("batches.meta"))?;
        let (meta, kind) = read_meta(meta_bytes, meta_label)?;
        let order = batch_order(&files).map_err(|name| missing(&name))?;
        let decoded: Vec<(String, PickleBatch)> = order
            .par_iter()
            .map(|k| {
                let (label, bytes) = &files[*k];
                PickleBatch::from_bytes(bytes, label).map(|b| (label.clone(), b))
            })
            .collect::<Result<_>>()?;
        let (train_b, test_b) = decoded.split_at(decoded.len() - 1);
        Ok(MiraBest {
            kind,
            train: to_dataset(train_b, &meta, kind)?,
            test: to_dataset(test_b, &meta, kind)?,
            label_names: meta.label_names,
            md5_checked,
            path: path.to_path_buf(),
        })
    }

    /// Which release this is.
    pub fn kind(&self) -> ReleaseKind {
        self.kind
    }

    /// The release's `label_names`.
    pub fn label_names(&self) -> &[String] {
        &self.label_names
    }

    /// Training images (`data_batch_1..n`, in file order).
    pub fn train(&self) -> &Dataset {
        &self.train
    }

    /// Test images (`test_batch`).
    pub fn test(&self) -> &Dataset {
        &self.test
    }

    /// Training and test images together (training first).
    ///
    /// # Errors
    /// Never in practice (both halves share class names and image size).
    pub fn all(&self) -> Result<Dataset> {
        Dataset::concat(&[&self.train, &self.test])
    }

    /// Number of files whose MD5 was verified against the release's `hash.md5`
    /// (0 when the release ships no digest list).
    pub fn md5_verified(&self) -> usize {
        self.md5_checked
    }

    /// The usual experiment split of one subset: the release's `test_batch`
    /// as test set, and the training batches split into train/validation
    /// with [`Dataset::stratified_split`] (seeded).
    ///
    /// For `MbFrConfident` with `val_fraction = 0.2` our copy of the full
    /// release gives 583 / 145 / 104 images (the official release: 584 / 145 / 104).
    ///
    /// # Errors
    /// Those of [`Dataset::subset`] and [`Dataset::stratified_split`].
    pub fn splits(&self, subset: Subset, val_fraction: f64, seed: u64) -> Result<Splits> {
        let train_all = self.train.subset(subset)?;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (train, val) = train_all.stratified_split(val_fraction, &mut rng)?;
        Ok(Splits {
            train,
            val,
            test: self.test.subset(subset)?,
        })
    }

    /// The folder or archive this release was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
