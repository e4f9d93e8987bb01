//! What each cluster holds: size, accuracy, mean map, typical images, and
//! where its relevance falls.

use super::check_finite;
use fanaroff_nn::Result;
use ndarray::{Array2, ArrayView2, ArrayView3};

/// One cluster of a SpRAy clustering.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSummary {
    /// The cluster label.
    pub cluster: usize,
    /// Number of images in it (at least 1).
    pub size: usize,
    /// Fraction of its images predicted correctly.
    pub accuracy: f64,
    /// Pixel-wise mean of its maps `[H, W]`.
    pub mean_map: Array2<f32>,
    /// Up to `m` image indices, nearest to the cluster's centroid in the
    /// embedding first (ties by index).
    pub examples: Vec<usize>,
}

/// Mean fraction of positive relevance inside a mask, for one cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterMaskFraction {
    /// The cluster label.
    pub cluster: usize,
    /// Images in the cluster.
    pub size: usize,
    /// Images with some positive relevance (the others have no fraction
    /// and are left out of the mean).
    pub counted: usize,
    /// Mean over the counted images of [`mask_fraction`]; `None` if no
    /// image was counted.
    pub mean: Option<f64>,
}

/// The distinct labels, ascending, after checking there is one per map.
fn check_labels(what: &str, labels: &[usize], n: usize) -> Result<Vec<usize>> {
    if labels.is_empty() || labels.len() != n {
        return Err(fanaroff_core::input(
            what,
            format!(
                "{} labels for {n} maps; need the same non-zero number",
                labels.len()
            ),
        ));
    }
    let distinct: std::collections::BTreeSet<usize> = labels.iter().copied().collect();
    Ok(distinct.into_iter().collect())
}

/// Summaries of the clusters `labels` (one label per map; a label with no
/// images gets no summary, so the list is sorted by label but may skip
/// numbers). `correct[i]` says whether image `i` was classified correctly;
/// `embedding` `[N, D]` is the space the clusters were found in (e.g.
/// [`SprayResult::embedding`](super::SprayResult::embedding)); `m` caps the
/// number of examples per cluster.
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) if `labels`,
/// `correct`, `maps` and `embedding` do not all have the same, non-zero
/// number of rows, or a map or the embedding is not finite.
pub fn cluster_summaries(
    labels: &[usize],
    correct: &[bool],
    maps: ArrayView3<'_, f32>,
    embedding: ArrayView2<'_, f64>,
    m: usize,
) -> Result<Vec<ClusterSummary>> {
    let (n, h, w) = maps.dim();
    let clusters = check_labels("cluster_summaries", labels, n)?;
    if correct.len() != n || embedding.nrows() != n {
        return Err(fanaroff_core::input(
            "cluster_summaries",
            format!(
                "{n} maps but {} correct flags and {} embedding rows",
                correct.len(),
                embedding.nrows()
            ),
        ));
    }
    check_finite("cluster_summaries", maps.iter().map(|&v| f64::from(v)))?;
    check_finite("cluster_summaries", embedding.iter().copied())?;
    let mut out = Vec::new();
    for c in clusters {
        let members: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
        let size = members.len();
        let mut sum = Array2::<f64>::zeros((h, w));
        for &i in &members {
            sum.zip_mut_with(&maps.index_axis(ndarray::Axis(0), i), |s, &v| {
                *s += f64::from(v)
            });
        }
        out.push(ClusterSummary {
            cluster: c,
            size,
            accuracy: members.iter().filter(|&&i| correct[i]).count() as f64 / size as f64,
            mean_map: sum.mapv(|v| (v / size as f64) as f32),
            examples: nearest_to_centroid(embedding, &members, m),
        });
    }
    Ok(out)
}

/// Up to `m` of `members`, nearest to their mean row of `x` first.
fn nearest_to_centroid(x: ArrayView2<'_, f64>, members: &[usize], m: usize) -> Vec<usize> {
    let mut centroid = ndarray::Array1::<f64>::zeros(x.ncols());
    for &i in members {
        centroid += &x.row(i);
    }
    centroid /= members.len() as f64;
    let mut by_dist: Vec<(f64, usize)> = members
        .iter()
        .map(|&i| {
            let d: f64 = x
                .row(i)
                .iter()
                .zip(&centroid)
                .map(|(a, b)| (a - b).powi(2))
                .sum();
            (d, i)
        })
        .collect();
    by_dist.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    by_dist.into_iter().take(m).map(|(_, i)| i).collect()
}

/// For every image, the share of its positive relevance that lies inside
/// its mask:
///
/// ```text
/// f_n = sum_{p in mask_n} max(R_n(p), 0) / sum_p max(R_n(p), 0)
/// ```
///
/// `None` for an image without positive relevance.
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) if `maps` and
/// `masks` differ in shape, are empty, or a map is not finite.
pub fn mask_fraction(
    maps: ArrayView3<'_, f32>,
    masks: ArrayView3<'_, bool>,
) -> Result<Vec<Option<f64>>> {
    if maps.dim() != masks.dim() || maps.is_empty() {
        return Err(fanaroff_core::input(
            "mask_fraction",
            format!(
                "maps {:?} and masks {:?} must have the same non-empty shape",
                maps.shape(),
                masks.shape()
            ),
        ));
    }
    check_finite("mask_fraction", maps.iter().map(|&v| f64::from(v)))?;
    Ok(maps
        .outer_iter()
        .zip(masks.outer_iter())
        .map(|(map, mask)| {
            let (mut inside, mut total) = (0.0f64, 0.0f64);
            for (&r, &in_mask) in map.iter().zip(mask.iter()) {
                let r = f64::from(r.max(0.0));
                total += r;
                if in_mask {
                    inside += r;
                }
            }
            (total > 0.0).then(|| inside / total)
        })
        .collect())
}

/// [`mask_fraction`] averaged over the images of each cluster (clusters
/// without images are skipped, as in [`cluster_summaries`]).
///
/// # Errors
/// As [`mask_fraction`]; [`InvalidInput`](fanaroff_core::Error::InvalidInput)
/// if `labels` does not have one entry per map.
pub fn cluster_mask_fractions(
    labels: &[usize],
    maps: ArrayView3<'_, f32>,
    masks: ArrayView3<'_, bool>,
) -> Result<Vec<ClusterMaskFraction>> {
    let clusters = check_labels("cluster_mask_fractions", labels, maps.dim().0)?;
    let fractions = mask_fraction(maps, masks)?;
    let mut out = Vec::new();
    for c in clusters {
        let mine: Vec<Option<f64>> = (0..labels.len())
            .filter(|&i| labels[i] == c)
            .map(|i| fractions[i])
            .collect();
        let counted: Vec<f64> = mine.iter().flatten().copied().collect();
        out.push(ClusterMaskFraction {
            cluster: c,
            size: mine.len(),
            counted: counted.len(),
            mean: (!counted.is_empty()).then(|| counted.iter().sum::<f64>() / counted.len() as f64),
        });
    }
    Ok(out)
}
