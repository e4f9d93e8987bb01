//! FITS cut-outs to MiraBest-style 8-bit images, one file or a folder.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{Array2, Array3, Array4, Axis};
use rayon::prelude::*;

use super::pipeline::Recipe;
use super::reader::read_fits;
use crate::dataset::{Dataset, SampleInfo};
use crate::error::{Error, Result};
use crate::mirabest::{LabelCode, SourceName};

/// Reads one FITS cut-out and applies the recipe.
///
/// # Errors
/// Those of [`read_fits`] and [`Recipe::apply`], naming the file.
///
/// # Example
/// ```no_run
/// use fanaroff_data::fits::{Recipe, fits_to_image};
/// let img = fits_to_image("200_172.397+002.292_0.1264_0019.10.fits", &Recipe::default())?;
/// assert_eq!(img.dim(), (150, 150));
/// # Ok::<(), fanaroff_data::Error>(())
/// ```
pub fn fits_to_image(path: impl AsRef<Path>, recipe: &Recipe) -> Result<Array2<u8>> {
    let path = path.as_ref();
    let fits = read_fits(path)?;
    recipe.apply(fits.data.view(), &path.display().to_string())
}

/// The outcome of converting a folder of FITS files.
#[derive(Debug)]
pub struct Converted {
    /// File stems (names without `.fits`) of the converted images, sorted.
    pub stems: Vec<String>,
    /// Images `[N, crop, crop]`, in the order of `stems`.
    pub images: Array3<u8>,
    /// Source names parsed from the stems, when they follow the MiraBest scheme.
    pub sources: Vec<Option<SourceName>>,
    /// Files that could not be converted, each with its error.
    pub failures: Vec<(PathBuf, Error)>,
}

impl Converted {
    /// Writes every converted image as `<dir>/<stem>.png` (8-bit greyscale,
    /// row 0 at the top), creating `dir` if needed. Returns the number written.
    ///
    /// # Errors
    /// [`Error::Io`]/[`Error::Png`] naming the file that could not be written.
    pub fn save_pngs(&self, dir: impl AsRef<Path>) -> Result<usize> {
        let dir = dir.as_ref();
        for (k, stem) in self.stems.iter().enumerate() {
            crate::image_io::save_png(
                dir.join(format!("{stem}.png")),
                self.images.index_axis(Axis(0), k),
            )?;
        }
        Ok(self.stems.len())
    }

    /// Wraps the converted images into a [`Dataset`] labelled by the ten
    /// MiraBest codes (class names `"100"`…`"310"`).
    ///
    /// # Errors
    /// [`Error::Format`] naming the first file whose name carries no label code.
    pub fn to_dataset(&self) -> Result<Dataset> {
        let mut labels = Vec::with_capacity(self.stems.len());
        let mut samples = Vec::with_capacity(self.stems.len());
        for (stem, src) in self.stems.iter().zip(&self.sources) {
            let src = src.as_ref().ok_or_else(|| {
                Error::format(stem.clone(), "file name carries no MiraBest label code")
            })?;
            let label = LabelCode::ALL
                .iter()
                .position(|c| *c == src.code)
                .ok_or_else(|| {
                    Error::format(
                        stem.clone(),
                        format!("code {} is not in the full release", src.code),
                    )
                })?;
            labels.push(label);
            samples.push(SampleInfo {
                filename: format!("{stem}.fits"),
                code: Some(src.code),
                source: Some(src.clone()),
                origin: "fits".into(),
            });
        }
        let images: Array4<u8> = self.images.clone().insert_axis(Axis(1));
        Dataset::with_samples(
            images,
            labels,
            LabelCode::ALL.map(|c| c.to_string()).to_vec(),
            samples,
        )
    }
}

/// Converts every `*.fits` file of a folder (in parallel, sorted by name).
///
/// Files that fail are reported in [`Converted::failures`] instead of
/// aborting the whole batch. With `progress`, a progress bar is drawn on stderr.
///
/// # Errors
/// [`Error::NotFound`]/[`Error::Io`] if the folder cannot be listed;
/// [`Error::InvalidParameter`] for a bad recipe.
pub fn convert_dir(dir: impl AsRef<Path>, recipe: &Recipe, progress: bool) -> Result<Converted> {
    let dir = dir.as_ref();
    let recipe = recipe.check()?;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(fanaroff_core::io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension().is_some_and(|x| {
                    x.eq_ignore_ascii_case("fits") || x.eq_ignore_ascii_case("fit")
                })
        })
        .collect();
    paths.sort();
    let bar = if progress {
        ProgressBar::new(paths.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("FITS -> 8-bit");
    let results: Vec<(PathBuf, Result<Array2<u8>>)> = paths
        .into_par_iter()
        .map(|p| {
            let r = fits_to_image(&p, &recipe);
            bar.inc(1);
            (p, r)
        })
        .collect();
    bar.finish_and_clear();
    let mut stems = Vec::new();
    let mut pixels = Vec::new();
    let mut sources = Vec::new();
    let mut failures = Vec::new();
    for (p, r) in results {
        match r {
            Ok(img) => {
                let stem = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_default();
                sources.push(SourceName::parse(&stem).ok());
                stems.push(stem);
                pixels.extend(img.iter().copied());
            }
            Err(e) => failures.push((p, e)),
        }
    }
    let side = recipe.crop();
    let images = Array3::from_shape_vec((stems.len(), side, side), pixels)
        .map_err(|e| Error::Shape(format!("converted images: {e}")))?;
    Ok(Converted {
        stems,
        images,
        sources,
        failures,
    })
}
