//! k-means (Lloyd) with k-means++ seeding and restarts.

use super::check_finite;
use fanaroff_nn::Result;
use ndarray::{Array2, ArrayView1, ArrayView2};
use rand::Rng;

/// Settings of [`kmeans`].
///
/// | name | default | meaning | valid range |
/// |---|---|---|---|
/// | `k` | 3 | number of clusters | `1..=N` |
/// | `restarts` | 10 | independent k-means++ seedings; the lowest inertia wins | `>= 1` |
/// | `max_iter` | 300 | Lloyd iterations per restart | `>= 1` |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KMeansConfig {
    /// Number of clusters.
    pub k: usize,
    /// Independent restarts.
    pub restarts: usize,
    /// Lloyd iterations per restart.
    pub max_iter: usize,
}

impl Default for KMeansConfig {
    fn default() -> Self {
        KMeansConfig {
            k: 3,
            restarts: 10,
            max_iter: 300,
        }
    }
}

/// A k-means clustering.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeans {
    /// Cluster of each point, numbered in order of first appearance (the
    /// first point is in cluster 0).
    pub labels: Vec<usize>,
    /// Centroids `[k, D]`, row `c` for label `c`.
    pub centroids: Array2<f64>,
    /// Sum of squared distances of the points to their centroids.
    pub inertia: f64,
}

/// Clusters the rows of `x` into `cfg.k` groups: `cfg.restarts` runs of
/// Lloyd's algorithm from k-means++ seeds drawn with `rng`, keeping the run
/// of lowest inertia (the first on ties). A cluster that empties is
/// re-seeded with the point farthest from its centroid.
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless
/// `1 <= k <= N`, `restarts >= 1` and `max_iter >= 1`;
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for no points or a
/// non-finite value.
pub fn kmeans<R: Rng + ?Sized>(
    x: ArrayView2<'_, f64>,
    cfg: &KMeansConfig,
    rng: &mut R,
) -> Result<KMeans> {
    let n = x.nrows();
    if n == 0 {
        return Err(fanaroff_core::input("kmeans", "no points"));
    }
    if cfg.k == 0 || cfg.k > n || cfg.restarts == 0 || cfg.max_iter == 0 {
        return Err(fanaroff_core::config(
            "kmeans",
            format!("need 1 <= k <= N = {n}, restarts >= 1, max_iter >= 1; got {cfg:?}"),
        ));
    }
    check_finite("kmeans", x.iter().copied())?;
    let mut best: Option<KMeans> = None;
    for _ in 0..cfg.restarts {
        let run = lloyd(x, plus_plus(x, cfg.k, rng), cfg.max_iter);
        if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
            best = Some(run);
        }
    }
    best.map(relabel)
        .ok_or_else(|| fanaroff_core::input("kmeans", "no run"))
}

fn dist2(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> f64 {
    a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum()
}

/// k-means++ seeding: the first centre uniformly, every further one with
/// probability proportional to the squared distance to the nearest centre
/// so far (uniformly if all points sit on centres).
fn plus_plus<R: Rng + ?Sized>(x: ArrayView2<'_, f64>, k: usize, rng: &mut R) -> Array2<f64> {
    let n = x.nrows();
    let mut centres = Array2::zeros((k, x.ncols()));
    let first = rng.random_range(0..n);
    centres.row_mut(0).assign(&x.row(first));
    let mut nearest: Vec<f64> = (0..n).map(|i| dist2(x.row(i), x.row(first))).collect();
    for c in 1..k {
        let total: f64 = nearest.iter().sum();
        let pick = if total > 0.0 {
            let mut u = rng.random::<f64>() * total;
            let mut pick = n - 1;
            for (i, d) in nearest.iter().enumerate() {
                if u < *d {
                    pick = i;
                    break;
                }
                u -= d;
            }
            pick
        } else {
            rng.random_range(0..n)
        };
        centres.row_mut(c).assign(&x.row(pick));
        for (i, d) in nearest.iter_mut().enumerate() {
            *d = d.min(dist2(x.row(i), x.row(pick)));
        }
    }
    centres
}

/// Lloyd iterations from `centres` until the labels stop changing.
fn lloyd(x: ArrayView2<'_, f64>, mut centres: Array2<f64>, max_iter: usize) -> KMeans {
    let (n, k) = (x.nrows(), centres.nrows());
    let mut labels = vec![usize::MAX; n];
    for _ in 0..max_iter {
        let changed = assign(x, &centres, &mut labels);
        if !changed {
            break;
        }
        update(x, &mut centres, &labels);
    }
    assign(x, &centres, &mut labels);
    let inertia = (0..n)
        .map(|i| dist2(x.row(i), centres.row(labels[i])))
        .sum();
    debug_assert!(labels.iter().all(|&l| l < k));
    KMeans {
        labels,
        centroids: centres,
        inertia,
    }
}

/// Nearest centre for every point (lowest index on ties); whether any
/// label changed.
fn assign(x: ArrayView2<'_, f64>, centres: &Array2<f64>, labels: &mut [usize]) -> bool {
    let mut changed = false;
    for (i, label) in labels.iter_mut().enumerate() {
        let mut best = (f64::INFINITY, 0);
        for (c, centre) in centres.outer_iter().enumerate() {
            let d = dist2(x.row(i), centre);
            if d < best.0 {
                best = (d, c);
            }
        }
        if *label != best.1 {
            *label = best.1;
            changed = true;
        }
    }
    changed
}

/// Centroids as cluster means; an empty cluster takes the point farthest
/// from its current centroid.
fn update(x: ArrayView2<'_, f64>, centres: &mut Array2<f64>, labels: &[usize]) {
    let k = centres.nrows();
    let mut sums = Array2::<f64>::zeros(centres.dim());
    let mut counts = vec![0usize; k];
    for (i, &l) in labels.iter().enumerate() {
        sums.row_mut(l).scaled_add(1.0, &x.row(i));
        counts[l] += 1;
    }
    for (c, &count) in counts.iter().enumerate() {
        if count > 0 {
            let mean = &sums.row(c) / count as f64;
            centres.row_mut(c).assign(&mean);
        }
    }
    for c in (0..k).filter(|&c| counts[c] == 0) {
        let far = (0..x.nrows())
            .map(|i| (dist2(x.row(i), centres.row(labels[i])), i))
            .fold((f64::NEG_INFINITY, 0), |a, b| if b.0 > a.0 { b } else { a });
        centres.row_mut(c).assign(&x.row(far.1));
    }
}

/// Renumbers clusters in order of first appearance.
fn relabel(mut km: KMeans) -> KMeans {
    let k = km.centroids.nrows();
    let mut map = vec![usize::MAX; k];
    let mut next = 0;
    for &l in &km.labels {
        if map[l] == usize::MAX {
            map[l] = next;
            next += 1;
        }
    }
    for m in map.iter_mut().filter(|m| **m == usize::MAX) {
        *m = next;
        next += 1;
    }
    let mut centroids = km.centroids.clone();
    for (old, &new) in map.iter().enumerate() {
        centroids.row_mut(new).assign(&km.centroids.row(old));
    }
    km.labels.iter_mut().for_each(|l| *l = map[*l]);
    km.centroids = centroids;
    km
}
