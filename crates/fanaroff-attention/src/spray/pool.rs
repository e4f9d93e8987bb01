//! Relevance maps to feature vectors: average pooling to a coarse grid.

use super::check_finite;
use fanaroff_nn::Result;
use ndarray::{Array2, ArrayD, ArrayView3, Ix3};

/// How each map is scaled before pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MapNorm {
    /// Leave the map as it is.
    None,
    /// Divide the map by the sum of its absolute values, `R / sum |R|`,
    /// so every map carries unit total absolute relevance and clusters
    /// reflect where relevance lies rather than how much there is. An
    /// all-zero map stays zero.
    #[default]
    L1,
}

/// A map batch `[N, H, W]`, or `[N, 1, H, W]` as the LRP functions return
/// it, as a view `[N, H, W]`.
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for any other shape.
pub fn maps_view(maps: &ArrayD<f32>) -> Result<ArrayView3<'_, f32>> {
    let bad = || {
        fanaroff_core::input(
            "maps_view",
            format!("need [N, H, W] or [N, 1, H, W], got {:?}", maps.shape()),
        )
    };
    match maps.ndim() {
        3 => maps.view().into_dimensionality::<Ix3>().map_err(|_| bad()),
        4 if maps.shape()[1] == 1 => maps
            .view()
            .index_axis_move(ndarray::Axis(1), 0)
            .into_dimensionality::<Ix3>()
            .map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// Pools each map `[H, W]` to a `grid x grid` block average and flattens
/// it row-major: feature `[n, a * grid + b]` is the mean of the pixels
/// `(i, j)` with `floor(i * grid / H) = a` and `floor(j * grid / W) = b`.
/// When `grid` does not divide `H` (or `W`) the bins differ in size by at
/// most one pixel. `norm` scales each map first (see [`MapNorm`]).
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for `grid = 0` or
/// a grid finer than the map (`grid > H` or `grid > W`, which would leave
/// bins empty); [`InvalidInput`](fanaroff_core::Error::InvalidInput) for no
/// maps or a non-finite value.
pub fn pool_maps(maps: ArrayView3<'_, f32>, grid: usize, norm: MapNorm) -> Result<Array2<f64>> {
    let (n, h, w) = maps.dim();
    if grid == 0 || grid > h || grid > w {
        return Err(fanaroff_core::config(
            "pool_maps",
            format!("grid {grid} must be in 1..=min(H, W) for maps of {h} x {w}"),
        ));
    }
    if n == 0 {
        return Err(fanaroff_core::input("pool_maps", "no maps"));
    }
    check_finite("pool_maps", maps.iter().map(|&v| f64::from(v)))?;
    let row_bin: Vec<usize> = (0..h).map(|i| i * grid / h).collect();
    let col_bin: Vec<usize> = (0..w).map(|j| j * grid / w).collect();
    let mut count = vec![0.0f64; grid * grid];
    for &a in &row_bin {
        for &b in &col_bin {
            count[a * grid + b] += 1.0;
        }
    }
    let mut out = Array2::zeros((n, grid * grid));
    for (k, map) in maps.outer_iter().enumerate() {
        let scale = match norm {
            MapNorm::None => 1.0,
            MapNorm::L1 => {
                let total: f64 = map.iter().map(|v| f64::from(v.abs())).sum();
                if total > 0.0 { 1.0 / total } else { 1.0 }
            }
        };
        let mut row = out.row_mut(k);
        for ((i, j), &v) in map.indexed_iter() {
            row[row_bin[i] * grid + col_bin[j]] += f64::from(v);
        }
        for (x, c) in row.iter_mut().zip(&count) {
            *x *= scale / c;
        }
    }
    Ok(out)
}
