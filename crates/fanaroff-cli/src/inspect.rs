//! `data stats` and `data fits`: what a MiraBest release or a FITS cut-out
//! holds, as text.

use crate::error::{Result, invalid};
use fanaroff_data::fits::{Recipe, fits_to_image, read_fits};
use fanaroff_data::{MiraBest, Subset};
use std::fmt::Write as _;
use std::path::Path;

/// Counts of a MiraBest release: per split, per subset and class, and how
/// many batch files matched their published md5.
///
/// # Errors
/// A missing or unreadable release.
pub fn release_stats(path: &Path) -> Result<String> {
    let mb = MiraBest::open(path)?;
    let mut s = format!(
        "{} ({:?} release; {} batch files md5-verified)\n",
        path.display(),
        mb.kind(),
        mb.md5_verified()
    );
    let _ = writeln!(
        s,
        "{:<15} {:>6} {:>6} {:>6} {:>6}",
        "subset", "split", "total", "class0", "class1"
    );
    for subset in Subset::ALL {
        for (split, ds) in [("train", mb.train()), ("test", mb.test())] {
            let Ok(sub) = ds.subset(subset) else { continue };
            let c = sub.class_counts();
            let _ = writeln!(
                s,
                "{:<15} {:>6} {:>6} {:>6} {:>6}",
                subset.name(),
                split,
                sub.len(),
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0)
            );
        }
    }
    Ok(s)
}

/// Header and pixel statistics of a FITS cut-out, and of the image the
/// MiraBest recipe (sigma clipping, threshold, crop) makes of it.
///
/// # Errors
/// A missing, truncated or unsupported FITS file.
pub fn fits_summary(path: &Path) -> Result<String> {
    let img = read_fits(path)?;
    let (h, w) = img.data.dim();
    let finite: Vec<f32> = img.data.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return Err(invalid(
            "data fits",
            format!("{}: no finite pixel", path.display()),
        ));
    }
    let min = finite.iter().copied().fold(f32::INFINITY, f32::min);
    let max = finite.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mean = finite.iter().map(|&v| f64::from(v)).sum::<f64>() / finite.len() as f64;
    let mut s = format!(
        "{}: {w} x {h} pixels, BITPIX {}\n",
        path.display(),
        img.bitpix
    );
    for key in ["OBJECT", "CRVAL1", "CRVAL2", "CDELT1", "BUNIT"] {
        if let Some(v) = img.header_value(key) {
            let _ = writeln!(s, "  {key:<8} {v}");
        }
    }
    let _ = writeln!(
        s,
        "  pixels: min {min:.4e}  max {max:.4e}  mean {mean:.4e}  ({} not finite)",
        h * w - finite.len()
    );
    let processed = fits_to_image(path, &Recipe::default())?;
    let nonzero = processed.iter().filter(|&&p| p > 0).count();
    let (ph, pw) = processed.dim();
    let _ = writeln!(
        s,
        "  MiraBest recipe (3-sigma clip, 3-sigma threshold, {pw} x {ph} crop): {nonzero} source pixels ({:.1} %)",
        100.0 * nonzero as f64 / (ph * pw) as f64
    );
    Ok(s)
}
