//! Where relevance can fall in a MiraBest-style image: on the source being
//! classified, on other sources in the cut-out, or on the border (where
//! zero padding leaves a dark band).
//!
//! The processed images have the background set to zero (pixels below
//! the noise threshold), so sources are the connected components of
//! non-zero pixels (8-connectivity). The catalogued source sits at the
//! centre of the cut-out: a component with a pixel within `centre_radius`
//! of the centre is part of it; every other component is another source.
//! A large source whose lobes are detached from its core and lie beyond
//! that radius has those lobes counted as other sources, so the split is a
//! lower bound on "the source" and an upper bound on "other sources".

use fanaroff_nn::Result;
use ndarray::{Array3, ArrayView3};
use serde::{Deserialize, Serialize};

/// Settings of [`region_masks`].
///
/// | key | default | meaning | valid range |
/// |---|---|---|---|
/// | `centre_radius` | 0.2 | radius of the central disk, as a fraction of the image side | (0, 1] |
/// | `border` | 5 | width of the border band in pixels | >= 1, below half the side |
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegionConfig {
    /// Radius of the central disk, as a fraction of the image side.
    pub centre_radius: f64,
    /// Width of the border band in pixels.
    pub border: usize,
}

impl Default for RegionConfig {
    fn default() -> Self {
        RegionConfig {
            centre_radius: 0.2,
            border: 5,
        }
    }
}

/// Three boolean masks `[N, H, W]` per image set (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct RegionMasks {
    /// The catalogued source: components reaching the central disk.
    pub source: Array3<bool>,
    /// Every other non-zero component.
    pub other: Array3<bool>,
    /// The band of `border` pixels along the edges (any value).
    pub border: Array3<bool>,
}

/// The region masks of `images` `[N, H, W]` (raw or processed pixels; zero
/// is background).
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for no images or a
/// border or radius outside its range.
pub fn region_masks(images: ArrayView3<'_, f32>, cfg: &RegionConfig) -> Result<RegionMasks> {
    let (n, h, w) = images.dim();
    if n == 0 || h == 0 || w == 0 {
        return Err(fanaroff_core::input("region_masks", "no images"));
    }
    if !(cfg.centre_radius > 0.0 && cfg.centre_radius <= 1.0)
        || cfg.border == 0
        || 2 * cfg.border >= h.min(w)
    {
        return Err(fanaroff_core::input(
            "region_masks",
            format!(
                "centre_radius {} must be in (0, 1] and border {} in 1..{} for {h} x {w} images",
                cfg.centre_radius,
                cfg.border,
                h.min(w).div_ceil(2)
            ),
        ));
    }
    let mut source = Array3::from_elem((n, h, w), false);
    let mut other = Array3::from_elem((n, h, w), false);
    let border = Array3::from_shape_fn((n, h, w), |(_, i, j)| {
        i < cfg.border || j < cfg.border || i + cfg.border >= h || j + cfg.border >= w
    });
    let r = cfg.centre_radius * h.min(w) as f64;
    for (k, img) in images.outer_iter().enumerate() {
        let (labels, count) = components(img);
        let mut central = vec![false; count];
        for ((i, j), &c) in labels.indexed_iter() {
            let (di, dj) = (
                i as f64 + 0.5 - h as f64 / 2.0,
                j as f64 + 0.5 - w as f64 / 2.0,
            );
            if c > 0 && di.hypot(dj) <= r {
                central[c - 1] = true;
            }
        }
        for ((i, j), &c) in labels.indexed_iter() {
            if c > 0 {
                let m = if central[c - 1] {
                    &mut source
                } else {
                    &mut other
                };
                m[[k, i, j]] = true;
            }
        }
    }
    Ok(RegionMasks {
        source,
        other,
        border,
    })
}

/// Connected components (8-connectivity) of the non-zero pixels: a label
/// per pixel (0 background, 1.. components) and the number of components.
fn components(img: ndarray::ArrayView2<'_, f32>) -> (ndarray::Array2<usize>, usize) {
    let (h, w) = img.dim();
    let mut labels = ndarray::Array2::<usize>::zeros((h, w));
    let mut count = 0;
    let mut stack = Vec::new();
    for i in 0..h {
        for j in 0..w {
            if img[[i, j]] == 0.0 || labels[[i, j]] != 0 {
                continue;
            }
            count += 1;
            labels[[i, j]] = count;
            stack.push((i, j));
            while let Some((a, b)) = stack.pop() {
                for (da, db) in NEIGHBOURS {
                    let (x, y) = (a as isize + da, b as isize + db);
                    if x < 0 || y < 0 || x >= h as isize || y >= w as isize {
                        continue;
                    }
                    let (x, y) = (x as usize, y as usize);
                    if img[[x, y]] != 0.0 && labels[[x, y]] == 0 {
                        labels[[x, y]] = count;
                        stack.push((x, y));
                    }
                }
            }
        }
    }
    (labels, count)
}

const NEIGHBOURS: [(isize, isize); 8] = [
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, -1),
    (0, 1),
    (1, -1),
    (1, 0),
    (1, 1),
];

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    #[test]
    fn central_components_are_the_source_the_rest_other() {
        let mut img = Array3::<f32>::zeros((1, 20, 20));
        // a blob at the centre and a diagonal tail touching it (8-connected)
        for (i, j) in [(9, 9), (9, 10), (10, 9), (10, 10), (11, 11), (12, 12)] {
            img[[0, i, j]] = 1.0;
        }
        // a detached source in the corner region
        img[[0, 2, 17]] = 3.0;
        img[[0, 3, 17]] = 3.0;
        let m = region_masks(
            img.view(),
            &RegionConfig {
                centre_radius: 0.2,
                border: 2,
            },
        )
        .unwrap();
        assert_eq!(m.source.iter().filter(|&&v| v).count(), 6);
        assert!(m.source[[0, 12, 12]]);
        assert_eq!(m.other.iter().filter(|&&v| v).count(), 2);
        assert!(m.other[[0, 2, 17]] && !m.source[[0, 2, 17]]);
        // border band of 2 pixels on a 20 x 20 image: 400 - 16 * 16
        assert_eq!(m.border.iter().filter(|&&v| v).count(), 400 - 256);
        assert!(m.border[[0, 2, 18]] && !m.border[[0, 2, 17]]);
    }

    #[test]
    fn bad_settings_are_errors() {
        let img = Array3::<f32>::zeros((1, 10, 10));
        for cfg in [
            RegionConfig {
                centre_radius: 0.0,
                border: 1,
            },
            RegionConfig {
                centre_radius: 0.2,
                border: 0,
            },
            RegionConfig {
                centre_radius: 0.2,
                border: 5,
            },
        ] {
            assert!(region_masks(img.view(), &cfg).is_err(), "{cfg:?}");
        }
        assert!(
            region_masks(
                Array3::<f32>::zeros((0, 10, 10)).view(),
                &RegionConfig::default()
            )
            .is_err()
        );
    }
}
