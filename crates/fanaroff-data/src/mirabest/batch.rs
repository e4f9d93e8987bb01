//! One pickled CIFAR-style batch (`data_batch_N`, `test_batch`) and `batches.meta`.

use ndarray::{Array3, s};

use crate::error::{Error, Result};
use crate::pickle::{self, DtypeKind, NdArray, Value};

/// Side length of MiraBest images.
pub const IMAGE_SIZE: usize = 150;

/// The decoded content of one batch file.
///
/// # Example
/// ```no_run
/// let bytes = std::fs::read("batches/test_batch")?;
/// let batch = fanaroff_data::mirabest::PickleBatch::from_bytes(&bytes, "test_batch")?;
/// println!("{}: {} images", batch.batch_label, batch.labels.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct PickleBatch {
    /// The `batch_label` string (empty if absent).
    pub batch_label: String,
    /// Label indices into the release's `label_names`.
    pub labels: Vec<usize>,
    /// Images `[N, 150, 150]`.
    pub images: Array3<u8>,
    /// File names (empty strings if the batch has no `filenames` key).
    pub filenames: Vec<String>,
}

/// The decoded `batches.meta`.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchesMeta {
    /// Class names, e.g. `["FRI", "FRII"]` or `["100", …, "310"]`.
    pub label_names: Vec<String>,
    /// Images per batch as declared by the release.
    pub num_cases_per_batch: Option<usize>,
    /// Pixels per image as declared by the release (22 500).
    pub num_vis: Option<usize>,
}

fn decode(bytes: &[u8], file: &str) -> Result<Value> {
    pickle::load(bytes).map_err(|e| Error::Pickle {
        file: file.to_string(),
        offset: e.offset,
        reason: e.reason,
    })
}

fn require(v: &Value, key: &str, file: &str) -> Result<Value> {
    if !matches!(v, Value::Dict(_)) {
        return Err(Error::format(
            file,
            format!("the pickle holds a {}, expected a dict", v.type_name()),
        ));
    }
    v.dict_get(key).ok_or_else(|| {
        Error::format(
            file,
            format!("missing key {key:?} (keys present: {:?})", v.dict_keys()),
        )
    })
}

impl BatchesMeta {
    /// Decodes `batches.meta` from its bytes; `file` names it in errors.
    ///
    /// # Errors
    /// [`Error::Pickle`] for undecodable bytes, [`Error::Format`] when
    /// `label_names` is missing or not a list of strings.
    pub fn from_bytes(bytes: &[u8], file: &str) -> Result<Self> {
        let v = decode(bytes, file)?;
        let names = require(&v, "label_names", file)?;
        let items = names
            .sequence()
            .ok_or_else(|| Error::format(file, "label_names is not a list"))?;
        let label_names = items
            .iter()
            .map(|x| {
                x.as_text()
                    .ok_or_else(|| Error::format(file, "label_names holds a non-string"))
            })
            .collect::<Result<Vec<_>>>()?;
        if label_names.is_empty() {
            return Err(Error::format(file, "label_names is empty"));
        }
        let opt = |k: &str| {
            v.dict_get(k)
                .and_then(|x| x.as_int())
                .and_then(|i| usize::try_from(i).ok())
        };
        Ok(BatchesMeta {
            label_names,
            num_cases_per_batch: opt("num_cases_per_batch"),
            num_vis: opt("num_vis"),
        })
    }
}

/// Turns one numpy array into `n` images of 150 × 150 appended to `out`.
fn push_images(arr: &NdArray, what: &str, file: &str, out: &mut Vec<u8>) -> Result<usize> {
    let (Some(dtype), Some(data)) = (&arr.dtype, &arr.data) else {
        return Err(Error::format(
            file,
            format!("{what} is an unfinished numpy array"),
        ));
    };
    if dtype.kind != DtypeKind::UInt || dtype.itemsize != 1 {
        return Err(Error::format(
            file,
            format!("{what} has dtype {}, expected uint8", dtype.describe()),
        ));
    }
    let px = IMAGE_SIZE * IMAGE_SIZE;
    let shape = &arr.shape;
    // Accepted layouts: one image (150,150) / (1,150,150) / (22500,), or a
    // stack (N,150,150) / (N,1,150,150) / (N,22500).
    let n = match shape.as_slice() {
        [h, w] if *h == IMAGE_SIZE && *w == IMAGE_SIZE => 1,
        [1, h, w] if *h == IMAGE_SIZE && *w == IMAGE_SIZE => 1,
        [p] if *p == px => 1,
        [n, h, w] if *h == IMAGE_SIZE && *w == IMAGE_SIZE => *n,
        [n, 1, h, w] if *h == IMAGE_SIZE && *w == IMAGE_SIZE => *n,
        [n, p] if *p == px => *n,
        _ => {
            return Err(Error::format(
                file,
                format!("{what} has shape {shape:?}, expected 150 x 150 images"),
            ));
        }
    };
    if arr.fortran && shape.iter().filter(|&&d| d > 1).count() > 1 {
        // Column-major: transpose each 150 x 150 image (only 2-D images occur).
        if n != 1 {
            return Err(Error::format(
                file,
                format!("{what}: Fortran-ordered image stacks are not supported"),
            ));
        }
        for r in 0..IMAGE_SIZE {
            for c in 0..IMAGE_SIZE {
                out.push(data[c * IMAGE_SIZE + r]);
            }
        }
    } else {
        out.extend_from_slice(data);
    }
    Ok(n)
}

/// The items of a list/tuple, or of a 1-D numpy array of scalars.
fn seq_or_array(v: &Value, what: &str, file: &str) -> Result<Vec<Value>> {
    match v {
        Value::Array(a) => a
            .borrow()
            .items()
            .map_err(|e| Error::format(file, format!("{what}: {e}"))),
        other => other.sequence().ok_or_else(|| {
            Error::format(
                file,
                format!("{what} is a {}, expected a list", other.type_name()),
            )
        }),
    }
}

/// The `labels` entry: non-negative integers.
fn read_labels(labels: &Value, file: &str) -> Result<Vec<usize>> {
    seq_or_array(labels, "labels", file)?
        .iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_int()
                .and_then(|l| usize::try_from(l).ok())
                .ok_or_else(|| {
                    Error::format(file, format!("labels[{i}] is not a non-negative integer"))
                })
        })
        .collect()
}

/// Appends the `data` entry's images to `pixels` and returns how many:
/// one array of images, or a list of arrays of one image each.
fn read_images(data: &Value, file: &str, pixels: &mut Vec<u8>) -> Result<usize> {
    if let Value::Array(a) = data {
        return push_images(&a.borrow(), "data", file, pixels);
    }
    let items = data.sequence().ok_or_else(|| {
        Error::format(
            file,
            format!("data is a {}, expected a list of arrays", data.type_name()),
        )
    })?;
    pixels.reserve(items.len() * IMAGE_SIZE * IMAGE_SIZE);
    for (i, item) in items.iter().enumerate() {
        let Value::Array(a) = item else {
            return Err(Error::format(
                file,
                format!(
                    "data[{i}] is a {}, expected a numpy array",
                    item.type_name()
                ),
            ));
        };
        let k = push_images(&a.borrow(), &format!("data[{i}]"), file, pixels)?;
        if k != 1 {
            return Err(Error::format(
                file,
                format!("data[{i}] holds {k} images, expected one"),
            ));
        }
    }
    Ok(items.len())
}

/// The `filenames` entry: one string per image.
fn read_filenames(names: &Value, n_images: usize, file: &str) -> Result<Vec<String>> {
    let items = seq_or_array(names, "filenames", file)?;
    let names = items
        .iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_text()
                .ok_or_else(|| Error::format(file, format!("filenames[{i}] is not a string")))
        })
        .collect::<Result<Vec<_>>>()?;
    if names.len() != n_images {
        return Err(Error::format(
            file,
            format!("{} file names but {n_images} images", names.len()),
        ));
    }
    Ok(names)
}

impl PickleBatch {
    /// Decodes one batch file; `file` names it in errors.
    ///
    /// The `data` entry may be a list of `uint8` arrays of 150 × 150 (the
    /// MiraBest layout) or one `uint8` array of shape `(N, 22500)`,
    /// `(N, 150, 150)` or `(N, 1, 150, 150)` (the CIFAR layout).
    ///
    /// # Errors
    /// [`Error::Pickle`] for truncated or corrupt bytes; [`Error::Format`]
    /// when keys are missing, the arrays are not 150 × 150 `uint8`, the
    /// numbers of labels, images and file names differ, or a label is negative.
    pub fn from_bytes(bytes: &[u8], file: &str) -> Result<Self> {
        let v = decode(bytes, file)?;
        let labels_v = require(&v, "labels", file)?;
        let data_v = require(&v, "data", file)?;
        let batch_label = v
            .dict_get("batch_label")
            .and_then(|x| x.as_text())
            .unwrap_or_default();
        let labels = read_labels(&labels_v, file)?;
        let mut pixels = Vec::new();
        let n_images = read_images(&data_v, file, &mut pixels)?;
        if n_images != labels.len() {
            return Err(Error::format(
                file,
                format!("{} labels but {n_images} images", labels.len()),
            ));
        }
        let filenames = match v.dict_get("filenames") {
            None => vec![String::new(); n_images],
            Some(f) => read_filenames(&f, n_images, file)?,
        };
        let images = Array3::from_shape_vec((n_images, IMAGE_SIZE, IMAGE_SIZE), pixels)
            .map_err(|e| Error::format(file, format!("image data: {e}")))?;
        Ok(PickleBatch {
            batch_label,
            labels,
            images,
            filenames,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// `true` when the batch holds no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Sum of all pixels of image `i` (handy for known-answer checks).
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn pixel_sum(&self, i: usize) -> u64 {
        self.images
            .slice(s![i, .., ..])
            .iter()
            .map(|&p| u64::from(p))
            .sum()
    }
}
