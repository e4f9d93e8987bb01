//! Drawing elliptical Gaussians and beam-correlated noise on a canvas.

use ndarray::Array2;
use rand::Rng;

/// Adds `amp * exp(-(u²/σu² + v²/σv²)/2)` centred at `(x, y)`, with `u`
/// along `angle` (radians, counter-clockwise from +x = column axis).
/// Only a ±3.2σ box is touched.
pub(crate) fn add_gaussian(
    img: &mut Array2<f32>,
    (x, y): (f32, f32),
    amp: f32,
    sigma_u: f32,
    sigma_v: f32,
    angle: f32,
) {
    let (h, w) = img.dim();
    let reach = 3.2 * sigma_u.max(sigma_v);
    let r0 = ((y - reach).floor().max(0.0)) as usize;
    let r1 = ((y + reach).ceil().min(h as f32 - 1.0)).max(-1.0);
    let c0 = ((x - reach).floor().max(0.0)) as usize;
    let c1 = ((x + reach).ceil().min(w as f32 - 1.0)).max(-1.0);
    if r1 < 0.0 || c1 < 0.0 {
        return;
    }
    let (r1, c1) = (r1 as usize, c1 as usize);
    let (ca, sa) = (angle.cos(), angle.sin());
    let (iu, iv) = (0.5 / (sigma_u * sigma_u), 0.5 / (sigma_v * sigma_v));
    for r in r0..=r1 {
        let dy = r as f32 - y;
        for c in c0..=c1 {
            let dx = c as f32 - x;
            let u = dx * ca + dy * sa;
            let v = -dx * sa + dy * ca;
            let q = u * u * iu + v * v * iv;
            if q < 10.0 {
                img[[r, c]] += amp * (-q).exp();
            }
        }
    }
}

/// Unit-variance (near-)Gaussian noise correlated over a Gaussian beam of
/// standard deviation `sigma` pixels (white noise blurred separably).
pub(crate) fn correlated_noise(h: usize, w: usize, sigma: f32, rng: &mut impl Rng) -> Array2<f32> {
    let radius = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f32> = (-radius..=radius)
        .map(|i| (-0.5 * (i as f32 / sigma).powi(2)).exp())
        .collect();
    let norm: f32 = kernel.iter().map(|k| k * k).sum::<f32>().sqrt();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / norm).collect();
    let pad = radius as usize;
    let (hp, wp) = (h + 2 * pad, w + 2 * pad);
    // White noise from a fast SplitMix64 stream seeded by `rng`: uniform
    // values with unit variance. After the beam blur (a weighted sum of
    // ~4πσ² ≈ 17 independent values) the noise is Gaussian to a very good
    // approximation, at a fraction of the cost of normal draws.
    let mut stream = fanaroff_core::SplitMix64::new(rng.random());
    let white: Vec<f32> = (0..hp * wp)
        .map(|_| {
            let z = stream.next_u64();
            // Top 24 bits -> uniform in [-0.5, 0.5), scaled to unit variance.
            ((z >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 12f32.sqrt()
        })
        .collect();
    // Blur along rows (keeping padded rows), then along columns; the inner
    // loops run over contiguous pixels so they vectorise.
    let mut tmp = vec![0f32; hp * w];
    for r in 0..hp {
        let row = &white[r * wp..(r + 1) * wp];
        let dst = &mut tmp[r * w..(r + 1) * w];
        for (k, &kv) in kernel.iter().enumerate() {
            for (d, &v) in dst.iter_mut().zip(&row[k..k + w]) {
                *d += kv * v;
            }
        }
    }
    let mut out = vec![0f32; h * w];
    for r in 0..h {
        let dst = &mut out[r * w..(r + 1) * w];
        for (k, &kv) in kernel.iter().enumerate() {
            let src = &tmp[(r + k) * w..(r + k + 1) * w];
            for (d, &v) in dst.iter_mut().zip(src) {
                *d += kv * v;
            }
        }
    }
    // `out` holds exactly h * w values.
    Array2::from_shape_vec((h, w), out).unwrap_or_else(|_| Array2::zeros((h, w)))
}
