//! Attention maps as outputs: upsampled to the input, and their mean and
//! spread over weight draws for stochastic (Bayesian, MC dropout) networks.

use crate::net::AttentionNet;
use fanaroff_nn::Pass;
use fanaroff_nn::Result;
use fanaroff_tensor::Tensor;
use ndarray::{Array4, ArrayD, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Every gate's attention map for a batch, bilinearly upsampled to the
/// input size: one `[N, H, W]` array per gate, gate 1 (finest) first.
/// No graph is kept.
///
/// # Errors
/// As [`AttentionNet::forward_all`].
pub fn attention_maps(net: &AttentionNet, x: &Tensor, seed: u64) -> Result<Vec<ArrayD<f32>>> {
    let x = Tensor::new(x.data().clone());
    let (h, w) = (x.shape()[2], x.shape()[3]);
    let out = net.forward_all(&x, &mut Pass::new(&mut StdRng::seed_from_u64(seed)))?;
    out.maps
        .iter()
        .map(|m| {
            let up = m.resize_bilinear(h, w, false)?;
            Ok(up.data().index_axis(Axis(1), 0).to_owned())
        })
        .collect()
}

/// Per-pixel mean and standard deviation of every gate's upsampled map
/// over `draws` forward passes (draw `d` uses seed `seed + d`): what a
/// Bayesian attention map adds. For a deterministic network the standard
/// deviation is zero.
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for fewer than 2
/// draws; as [`attention_maps`].
pub fn attention_map_stats(
    net: &AttentionNet,
    x: &Tensor,
    draws: usize,
    seed: u64,
) -> Result<Vec<(ArrayD<f32>, ArrayD<f32>)>> {
    if draws < 2 {
        return Err(fanaroff_core::config(
            "attention_map_stats",
            "need at least 2 draws",
        ));
    }
    let mut per_gate: Vec<Vec<ArrayD<f32>>> = Vec::new();
    for d in 0..draws {
        for (k, m) in attention_maps(net, x, seed.wrapping_add(d as u64))?
            .into_iter()
            .enumerate()
        {
            if per_gate.len() <= k {
                per_gate.push(Vec::new());
            }
            per_gate[k].push(m);
        }
    }
    Ok(per_gate.into_iter().map(|maps| mean_std(&maps)).collect())
}

/// Per-pixel [`fanaroff_core::mean_std`] of maps of one shape.
fn mean_std(maps: &[ArrayD<f32>]) -> (ArrayD<f32>, ArrayD<f32>) {
    let mut pixels: Vec<_> = maps.iter().map(|m| m.iter()).collect();
    let mut values = Vec::with_capacity(maps.len());
    let (mut mean, mut std) = (Vec::new(), Vec::new());
    for _ in 0..maps[0].len() {
        values.clear();
        values.extend(
            pixels
                .iter_mut()
                .flat_map(|p| p.next())
                .map(|&v| f64::from(v)),
        );
        let (m, s) = fanaroff_core::mean_std(&values);
        mean.push(m as f32);
        std.push(s as f32);
    }
    let shaped = |v| ArrayD::from_shape_vec(maps[0].raw_dim(), v).expect("one value per pixel");
    (shaped(mean), shaped(std))
}

/// Fraction of each image's attention mass on source pixels (where the
/// processed image is non-zero) rather than on empty sky: `images` and
/// `map` are `[N, H, W]` of the same shape; the map is made non-negative
/// (its minimum subtracted) first, so every normalisation is comparable.
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for shapes that differ.
pub fn source_mass(images: &Array4<f32>, map: &ArrayD<f32>) -> Result<Vec<f64>> {
    let img = images.index_axis(Axis(1), 0);
    if img.shape() != map.shape() {
        return Err(fanaroff_core::input(
            "source_mass",
            format!("images {:?} and map {:?}", img.shape(), map.shape()),
        ));
    }
    Ok(img
        .outer_iter()
        .zip(map.outer_iter())
        .map(|(im, m)| {
            let lo = m.iter().copied().fold(f32::INFINITY, f32::min);
            let (mut on, mut all) = (0.0f64, 0.0f64);
            for (&p, &a) in im.iter().zip(m.iter()) {
                let a = f64::from(a - lo);
                all += a;
                if p != 0.0 {
                    on += a;
                }
            }
            if all > 0.0 { on / all } else { f64::NAN }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn per_pixel_mean_and_sample_std_by_hand() {
        let map = |v: [f32; 4]| ArrayD::from_shape_vec(IxDyn(&[1, 2, 2]), v.to_vec()).unwrap();
        let maps = [map([1.0, 2.0, 0.0, 5.0]), map([3.0, 6.0, 0.0, 5.0])];
        let (mean, std) = super::mean_std(&maps);
        assert_eq!(mean, map([2.0, 4.0, 0.0, 5.0]));
        // (x - m)^2 summed over two maps, divided by n - 1 = 1
        let want = map([2f32.sqrt(), 8f32.sqrt(), 0.0, 0.0]);
        assert!(
            std.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6),
            "{std}"
        );
    }
}
